#!/usr/bin/env bash
# Formats every C++ file of the project with .clang-format (clang-format 14, Debian's
# clang-format package). --check: changes nothing, fails when a file is not formatted (CI).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh format
mapfile -t files < <(git ls-files '*.hpp' '*.cpp' '*.h' '*.cc')
if [ "${1:-}" = "--check" ]; then
  clang-format-14 --dry-run --Werror "${files[@]}"
  echo "format.sh: ${#files[@]} files formatted as .clang-format says"
else
  clang-format-14 -i "${files[@]}"
fi
