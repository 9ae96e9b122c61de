#!/usr/bin/env bash
# Starts the Fashion-MNIST image search example (examples/web_search) on http://127.0.0.1:5000/
# with a default index on raw pixels: installs what is missing (Debian packages, Bootstrap from
# npm), builds and installs pstable's Python module into build/venv, writes the pixel features
# once, then runs the Flask app. Extra arguments go to app.py, e.g.
#   scripts/web.sh --features build/features/cnn --port 8000
# (CNN features: scripts/setup.sh cnn && /usr/bin/python3 examples/features/train_cnn.py)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scripts/setup.sh web data python
command -v npm >/dev/null || scripts/setup.sh npm

venv=$root/build/venv
if ! "$venv/bin/python" -c "import pstable" 2>/dev/null; then
  echo "== building and installing pstable's Python module (once)"
  scripts/install_python.sh
fi

if [ ! -f examples/web_search/node_modules/bootstrap/dist/css/bootstrap.min.css ]; then
  (cd examples/web_search && npm install --no-audit --no-fund --loglevel=error)
fi
[ -f build/features/pixels/base.npy ] || /usr/bin/python3 examples/features/pixels.py

exec "$venv/bin/python" examples/web_search/app.py "$@"
