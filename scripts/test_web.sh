#!/usr/bin/env bash
# Tests the web search example: Flask test-client tests of every route and bad request, then
# the end-to-end test in headless Chromium, on the installed pstable module (build/venv, as
# scripts/test_python.sh or scripts/install_python.sh leave it; there is no stand-in). Extra
# arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scripts/setup.sh web data
command -v npm >/dev/null || scripts/setup.sh npm
if [ ! -f examples/web_search/node_modules/bootstrap/dist/css/bootstrap.min.css ]; then
  (cd examples/web_search && npm install --no-audit --no-fund --loglevel=error)
fi

python=$root/build/venv/bin/python
if [ ! -x "$python" ]; then
  echo "test_web.sh: no build/venv; run scripts/install_python.sh (or scripts/test_python.sh) first" >&2
  exit 1
fi

echo "== web example: Flask test client"
"$python" -m pytest -q -rs -p no:cacheprovider examples/web_search/tests/test_app.py "$@"
echo "== web example: headless Chromium"
"$python" -m pytest -q -rs -p no:cacheprovider examples/web_search/tests/test_browser.py "$@"
