"""Builds pstable's compiled cores: one extension per instruction set, plus the CPU probe.

pip install ./python            (with PyPI: build requirements come from pyproject.toml)
pip install --no-build-isolation ./python   (offline, with Debian's python3-pybind11)
python3 -m build --no-isolation python      (sdist, then a wheel built from that sdist)

The C++ headers come from ./include (an sdist: `sdist` copies them there) or ../include (a
checkout); Eigen and xsimd from $EIGEN3_INCLUDE_DIR / $XSIMD_INCLUDE_DIR, pkg-config, or the usual
prefixes. The version is read from the headers' pstable/version.hpp (declared there only).
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

from pybind11.setup_helpers import Pybind11Extension, build_ext
from setuptools import setup
from setuptools.command.sdist import sdist

HERE = Path(__file__).resolve().parent


def pstable_include() -> str:
    for candidate in (HERE / "include", HERE.parent / "include"):
        if (candidate / "pstable" / "pstable.hpp").is_file():
            return str(candidate)
    sys.exit("setup.py: pstable's headers not found in ./include or ../include")


def header_dir(env: str, pkg: str, relative: str, probe: str) -> list[str]:
    """Directory holding `probe` (e.g. Eigen/Core) from $env, pkg-config or common prefixes."""
    candidates = [os.environ.get(env, "")]
    if shutil.which("pkg-config"):
        out = subprocess.run(["pkg-config", "--cflags-only-I", pkg], capture_output=True, text=True)
        candidates += [flag[2:] for flag in out.stdout.split() if flag.startswith("-I")]
    for prefix in (os.environ.get("CONDA_PREFIX", ""), sys.prefix, "/usr/local", "/usr",
                   "/opt/homebrew"):
        if prefix:
            candidates.append(os.path.join(prefix, "include", relative))
    for c in candidates:
        if c and os.path.isfile(os.path.join(c, probe)):
            return [c]
    sys.exit(f"setup.py: {probe} not found; install it or set ${env}")


def version() -> str:
    """major.minor.patch from the three PSTABLE_VERSION_* lines of pstable/version.hpp."""
    text = (Path(pstable_include()) / "pstable" / "version.hpp").read_text()
    parts = []
    for part in ("MAJOR", "MINOR", "PATCH"):
        found = re.search(rf"^#define PSTABLE_VERSION_{part} (\d+)$", text, re.MULTILINE)
        if not found:
            sys.exit(f"setup.py: no '#define PSTABLE_VERSION_{part} <n>' in pstable/version.hpp")
        parts.append(found.group(1))
    return ".".join(parts)


# The per-instruction-set cores. Never -march=native: the wheel must run on other CPUs too.
if platform.machine().lower() in ("x86_64", "amd64"):
    CORES = {
        "avx512": ["-mavx512f", "-mavx512cd", "-mavx512dq", "-mavx512bw", "-mavx2", "-mfma"],
        "avx2": ["-mavx2", "-mfma"],
        "sse2": [],
    }
else:
    CORES = {"generic": []}

INCLUDES = (
    [pstable_include(), str(HERE / "src")]
    + header_dir("EIGEN3_INCLUDE_DIR", "eigen3", "eigen3", "Eigen/Core")
    + header_dir("XSIMD_INCLUDE_DIR", "xsimd", "", "xsimd/xsimd.hpp")
)
COMMON_FLAGS = ["-O3", "-g0"]
# Rebuild a core when any header changes (setuptools otherwise only compares the .cpp's time).
# Only files inside this directory: sdist lists the depends, and cannot hold ../include (the
# headers reach the sdist through SdistWithHeaders instead).
DEPENDS = sorted(str(p.relative_to(HERE))
                 for p in [*Path(INCLUDES[0]).rglob("*.hpp"), *(HERE / "src").glob("*.hpp")]
                 if HERE in p.parents)
HEADER_DEPENDS = sorted(str(p) for p in Path(INCLUDES[0]).rglob("*.hpp") if HERE not in p.parents)

# PSTABLE_TEST_HOOKS=1 builds the debug hooks the test suite uses to prove zero-copy and GIL
# release (last_query_address, data_address, active_calls); published builds have none.
TEST_HOOKS = [("PSTABLE_PYTHON_TEST_HOOKS", "1")] if os.environ.get("PSTABLE_TEST_HOOKS") == "1" else []

extensions = [
    Pybind11Extension(
        f"pstable._core_{name}",
        [f"src/cores/core_{name}.cpp"],  # one source (and object file) per core
        depends=DEPENDS + HEADER_DEPENDS + ["src/module.cpp"],
        include_dirs=INCLUDES,
        define_macros=[("NDEBUG", None)] + TEST_HOOKS,
        extra_compile_args=COMMON_FLAGS + flags,
        cxx_std=17,
    )
    for name, flags in CORES.items()
]
extensions.append(
    Pybind11Extension("pstable._cpu", ["src/cpu.cpp"], include_dirs=INCLUDES,
                      extra_compile_args=COMMON_FLAGS, cxx_std=17)
)


class ParallelBuildExt(build_ext):
    """Builds the extensions in parallel ($PSTABLE_BUILD_JOBS, default 2)."""

    def finalize_options(self) -> None:
        super().finalize_options()
        if not self.parallel:
            self.parallel = int(os.environ.get("PSTABLE_BUILD_JOBS", "2"))


class SdistWithHeaders(sdist):
    """An sdist that builds on its own: pstable's C++ headers go in as ./include."""

    def make_release_tree(self, base_dir: str, files: list[str]) -> None:
        super().make_release_tree(base_dir, files)
        target = Path(base_dir) / "include" / "pstable"
        if not target.exists():  # an sdist of an sdist already has them
            shutil.copytree(Path(pstable_include()) / "pstable", target)
        license_file = HERE.parent / "LICENSE"
        if license_file.is_file() and not (Path(base_dir) / "LICENSE").exists():
            shutil.copy(license_file, Path(base_dir) / "LICENSE")


setup(version=version(), ext_modules=extensions,
      cmdclass={"build_ext": ParallelBuildExt, "sdist": SdistWithHeaders})
