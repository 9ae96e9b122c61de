#!/usr/bin/env bash
# Tests the web search example: Flask test-client tests of every route and bad request, then
# the end-to-end test in headless Chromium. Runs on the installed pstable module (build/venv,
# as scripts/test_python.sh leaves it) when there is one, else on the tests' numpy stand-in;
# --require-pstable fails instead of falling back.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scripts/setup.sh web data
command -v npm >/dev/null || scripts/setup.sh npm
if [ ! -f examples/web_search/node_modules/bootstrap/dist/css/bootstrap.min.css ]; then
  (cd examples/web_search && npm install --no-audit --no-fund --loglevel=error)
fi

python=/usr/bin/python3
[ -x "$root/build/venv/bin/python" ] && python=$root/build/venv/bin/python
if [ "${1:-}" = "--require-pstable" ]; then
  export PSTABLE_TEST_BACKEND=pstable
  shift
fi

echo "== web example: Flask test client"
"$python" -m pytest -q -p no:cacheprovider examples/web_search/tests/test_app.py "$@"
echo "== web example: headless Chromium"
"$python" -m pytest -q -p no:cacheprovider examples/web_search/tests/test_browser.py "$@"
