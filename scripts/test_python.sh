#!/usr/bin/env bash
# Builds and installs the Python package into a venv (build/venv, reused) with Debian's
# pybind11 and numpy (offline: --no-build-isolation), runs its pytest suite and executes the
# example notebooks. Fails if pytest collects no test.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scripts/setup.sh python data

venv=$root/build/venv
if [ ! -x "$venv/bin/python" ]; then
  /usr/bin/python3 -m venv --system-site-packages "$venv"
fi

echo "== pip install ./python"
# A non-editable install: the tests import the installed package, not the source tree.
PSTABLE_BUILD_JOBS=$(nproc) "$venv/bin/pip" install --no-build-isolation --no-deps \
  --disable-pip-version-check -q "$root/python"

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
