#!/usr/bin/env bash
# Builds pstable's Python package and installs it into build/venv (on Debian's python3 with its
# site packages: numpy, pybind11), offline: --no-build-isolation, --no-index.
#   scripts/install_python.sh               pip install ./python into build/venv (created once;
#                                           incremental rebuilds, for development)
#   scripts/install_python.sh --from-sdist  what a user of a published package gets: an sdist of
#                                           python/ (headers included), a wheel built from that
#                                           sdist alone, installed into a fresh build/venv; both
#                                           files stay in build/dist
# Prints nothing but errors. Used by scripts/test_python.sh (--from-sdist) and scripts/web.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
venv=$root/build/venv
export PSTABLE_BUILD_JOBS=$(nproc)

scripts/setup.sh python

if [ "${1:-}" = "--from-sdist" ]; then
  dist=$root/build/dist
  rm -rf "$dist" "$venv"
  # python3 -m build without --sdist/--wheel: the sdist first, then the wheel from the unpacked
  # sdist (not from python/), so a file missing from the sdist fails here.
  /usr/bin/python3 -m build --no-isolation --outdir "$dist" "$root/python" >"$dist.log" 2>&1 ||
    { cat "$dist.log" >&2; exit 1; }
  /usr/bin/python3 -m venv --system-site-packages "$venv"
  wheels=("$dist"/pstable-*.whl)
  "$venv/bin/pip" install --no-index --no-deps --disable-pip-version-check -q "${wheels[@]}"
  exit 0
fi

[ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv --system-site-packages "$venv"
# A non-editable install: importers get the installed package, not the source tree.
"$venv/bin/pip" install --no-build-isolation --no-deps --no-index \
  --disable-pip-version-check -q "$root/python"
