#!/usr/bin/env bash
# The main job: installs what is missing (compiler, libraries, Fashion-MNIST, the plotting and
# distractor packages), builds pstable_study in Release and runs the report's study on
# Fashion-MNIST (60,000 training images as the database, the first QUERIES test images as
# queries, k = 10), Euclidean and cosine, each without and with 20,000 distractors
# (bench/make_distractors.py): the sequential scan, tune_e2lsh's setting (recall 0.9) and a small
# grid (L = 4,8,16,32; k = 12 hashes; three widths w). Prints the tables, writes JSON to
# build/study/ and the figures (bench/plot_study.py) to OUT (default build/study/img).
#
# Usage: scripts/demo.sh [pstable_study options added to every run, e.g. --threads 1]
# Environment: QUERIES (default 2000; 10000 = all), OUT (figure folder, e.g. docs/img)
set -euo pipefail
cd "$(dirname "$0")/.."

queries="${QUERIES:-2000}"
out="${OUT:-build/study/img}"
scripts/setup.sh build data bench
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j "$(nproc)" --target pstable_study
mkdir -p build/study "$out"
distractors=build/study/distractors-idx3-ubyte.gz
[[ -f "$distractors" ]] || /usr/bin/python3 bench/make_distractors.py "$distractors"

study() {  # name metric widths [extra options]
  local name=$1 metric=$2 widths=$3
  shift 3
  echo
  echo "== $name =="
  build/release/bench/pstable_study --metric "$metric" --max-queries "$queries" --tune --grid \
    --tables 4,8,16,32 --hashes 12 --widths "$widths" --json "build/study/$name.json" "$@"
}
# Widths around tune_e2lsh's choice: pixels in [0, 1] (Euclidean), unit rows (cosine).
study euclidean euclidean 8,12,16 "$@"
study cosine cosine 1,1.5,2 "$@"
study euclidean_distractors euclidean 8,12,16 --distractors "$distractors" "$@"
study cosine_distractors cosine 1,1.5,2 --distractors "$distractors" "$@"

/usr/bin/python3 bench/plot_study.py build/study/euclidean.json build/study/cosine.json \
  --out "$out" --prefix fashion_
/usr/bin/python3 bench/plot_study.py build/study/euclidean_distractors.json \
  build/study/cosine_distractors.json --out "$out" --prefix fashion_distractors_
