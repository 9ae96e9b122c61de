#!/usr/bin/env bash
# Builds the Python package as a user of a published package gets it (sdist of python/, a wheel
# built from that sdist, installed into a fresh venv build/venv; Debian's pybind11 and numpy,
# offline), checks its version against include/pstable/version.hpp, runs its pytest suite and
# executes the example notebooks. Fails if pytest collects no test.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scripts/setup.sh python data

echo "== sdist -> wheel -> fresh venv"
# The suite needs the debug hooks of a test build (zero-copy and GIL-release checks).
PSTABLE_TEST_HOOKS=1 scripts/install_python.sh --from-sdist
venv=$root/build/venv
ls build/dist
# The version is declared once (version.hpp): the wheel's metadata and the module must agree.
expected=$(sed -nE 's/^#define PSTABLE_VERSION_(MAJOR|MINOR|PATCH) ([0-9]+)$/\2/p' \
           include/pstable/version.hpp | paste -sd.)
(cd /tmp && "$venv/bin/python" - "$expected" <<'PY'
import sys
from importlib.metadata import version
import pstable
expected = sys.argv[1]
assert pstable.__version__ == expected, (pstable.__version__, expected)
assert version("pstable") == expected, (version("pstable"), expected)
assert "/build/venv/" in pstable.__file__, pstable.__file__  # the installed wheel, not python/
print(f"pstable {pstable.__version__} from {pstable.__file__}")
PY
)

echo "== pytest"
cd "$root/python/tests"   # not python/: the source tree's pstable/ has no compiled core
status=0
"$venv/bin/python" -m pytest -q -p no:cacheprovider . || status=$?
# Exit code 5 means "no tests collected": a broken collection must not pass silently.
if [ "$status" -ne 0 ]; then
  echo "test_python.sh: pytest failed with exit code $status" >&2
  exit "$status"
fi
cd "$root"

echo "== notebooks"
for nb in examples/notebooks/*.ipynb; do
  "$venv/bin/python" scripts/run_notebook.py "$nb"
done
