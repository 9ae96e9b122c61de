#!/usr/bin/env bash
# Builds and installs the Python package into a venv (build/venv, reused) with Debian's
# pybind11 and numpy (offline: --no-build-isolation), runs its pytest suite and executes the
# example notebooks. Fails if pytest collects no test.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scripts/setup.sh python data

echo "== pip install ./python"
scripts/install_python.sh
venv=$root/build/venv

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
