#!/usr/bin/env bash
# The main job: installs what is missing (compiler, libraries, Fashion-MNIST), builds the demo in
# Release and runs it: exact search of Fashion-MNIST's 10,000 test images among its 60,000
# training images, Euclidean and cosine, with precision@10 overall and by class.
# Usage: scripts/demo.sh [pstable_demo options, e.g. --threads 1]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh build data
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DPSTABLE_BUILD_EXAMPLES=ON >/dev/null
cmake --build build/release -j "$(nproc)" --target pstable_demo
build/release/examples/pstable_demo "$@"
