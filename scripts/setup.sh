#!/usr/bin/env bash
# Installs the Debian packages pstable needs, only those missing. Groups:
#   build   compiler, CMake and the C++ dependencies (always)
#   data    Fashion-MNIST
#   bench   peers for comparisons (FAISS, hnswlib, OpenBLAS) and matplotlib
#   python  the pybind11 module, pytest, the notebook runner, Dask (pstable.dask), scikit-learn
#           and SciPy (pstable.sklearn)
#   web     the Flask search example and its browser test (scripts/web.sh, scripts/test_web.sh)
#   npm     npm, for systems whose nodejs lacks it (scripts/web.sh asks for it only then)
#   cross   the Windows (mingw-w64) and ARM64 (cross g++, qemu-user, arm64 zlib through
#           multiarch: adds the arm64 architecture to dpkg) builds of scripts/check_cross.sh
#   cnn     PyTorch (CPU) for examples/features/train_cnn.py
#   fuzz    Clang and libFuzzer for the fuzz targets (scripts/fuzz.sh)
#   format  clang-format 14 for scripts/format.sh (.clang-format)
# Usage: scripts/setup.sh [group ...]   (no group: every group but npm)
set -euo pipefail

declare -A groups=(
  [build]="build-essential cmake pkg-config libeigen3-dev libxsimd-dev catch2 libbenchmark-dev zlib1g-dev libcli11-dev nlohmann-json3-dev"
  [data]="dataset-fashion-mnist"
  [bench]="python3-numpy python3-faiss python3-hnswlib libopenblas0-pthread python3-matplotlib python3-sklearn python3-pil"
  [python]="python3-dev python3-numpy python3-pytest pybind11-dev python3-pybind11 python3-venv python3-pip python3-setuptools python3-wheel python3-build python3-nbclient python3-nbformat python3-ipykernel python3-matplotlib python3-dask python3-distributed python3-sklearn python3-scipy"
  [web]="python3-numpy python3-flask python3-pil python3-pytest nodejs chromium chromium-driver python3-selenium"
  [npm]="npm"
  [cross]="g++-mingw-w64-x86-64 libz-mingw-w64-dev g++-aarch64-linux-gnu qemu-user zlib1g-dev:arm64"
  [cnn]="python3-numpy python3-torch"
  [fuzz]="clang-14 libfuzzer-14-dev"
  [format]="clang-format-14"
)

wanted=(build)
if [ "$#" -eq 0 ]; then
  for g in "${!groups[@]}"; do [ "$g" = npm ] || wanted+=("$g"); done  # npm only on request
else
  wanted+=("$@")
fi

packages=()
for g in "${wanted[@]}"; do
  [ -n "${groups[$g]+x}" ] || { echo "setup.sh: unknown group '$g' (known: ${!groups[*]})" >&2; exit 2; }
  for p in ${groups[$g]}; do packages+=("$p"); done
done

missing=()
for p in $(printf '%s\n' "${packages[@]}" | sort -u); do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

echo "setup.sh: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# Packages of another architecture (zlib1g-dev:arm64) need it known to dpkg (multiarch).
for p in "${missing[@]}"; do
  case $p in
    *:*) arch=${p##*:}
         dpkg --print-foreign-architectures | grep -qx "$arch" || $SUDO dpkg --add-architecture "$arch" ;;
  esac
done
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
