#!/usr/bin/env bash
# Builds pstable's Python package and installs it into build/venv (created once, on Debian's
# python3 with its site packages: numpy, pybind11), offline: --no-build-isolation.
# Prints nothing but pip's errors. Used by scripts/test_python.sh and scripts/web.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scripts/setup.sh python
venv=$root/build/venv
[ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv --system-site-packages "$venv"
# A non-editable install: importers get the installed package, not the source tree.
PSTABLE_BUILD_JOBS=$(nproc) "$venv/bin/pip" install --no-build-isolation --no-deps \
  --disable-pip-version-check -q "$root/python"
