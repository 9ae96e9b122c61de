"""Every compiled core this CPU runs gives the same results; PSTABLE_SIMD picks one."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

import numpy as np
import pytest

import pstable
from conftest import METRICS


def test_chosen_core_is_the_best_available():
    available = pstable.available_simd()
    assert available, "no compiled core importable"
    if not os.environ.get("PSTABLE_SIMD"):
        assert pstable.simd_arch() == available[0]
    assert pstable._core.simd == pstable.simd_arch()
    # setup.py builds every core of the machine's architecture: each one the CPU supports
    # must import (a failing import is an error, never a silent fallback).
    expected = [c for c in pstable._cpu.supported() if c != "generic"] or ["generic"]
    assert available == expected


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cores_agree(metric, dtype, rng):
    """All cores loaded in one process (RTLD_LOCAL, hidden symbols) and compared directly."""
    data = rng.standard_normal((700, 37)).astype(dtype)
    queries = rng.standard_normal((50, 37)).astype(dtype)
    results = {}
    for name in pstable.available_simd():
        core = importlib.import_module(f"pstable._core_{name}")
        index = core.make_exact(37, metric, dtype)
        index.add(data)
        results[name] = (index.search(queries, 10, 1), index.search(queries[:5], 10, 1))
    reference_name = pstable.available_simd()[-1]
    tol = 1e-4 if dtype == "float32" else 1e-12
    for name, (batch, few) in results.items():
        for got, want in ((batch, results[reference_name][0]), (few, results[reference_name][1])):
            np.testing.assert_array_equal(got[0], want[0], err_msg=f"{name} ids")
            np.testing.assert_allclose(got[1], want[1], rtol=tol, atol=tol, err_msg=name)


def _run(code: str, simd: str | None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("PSTABLE_SIMD", None)
    if simd is not None:
        env["PSTABLE_SIMD"] = simd
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


@pytest.mark.parametrize("simd", ["avx512", "avx2", "sse2"])
def test_env_var_overrides_the_choice(simd, tmp_path):
    if simd not in pstable.available_simd():
        pytest.skip(f"{simd} not built or not supported by this CPU")
    rng = np.random.default_rng(7)
    np.save(tmp_path / "data.npy", rng.standard_normal((300, 20)).astype(np.float32))
    code = (
        "import numpy as np, pstable, sys\n"
        f"d = np.load({str(tmp_path / 'data.npy')!r})\n"
        "i = pstable.ExactIndex(20); i.add(d)\n"
        "ids, dist = i.search(d[:40], 5)\n"
        f"np.save({str(tmp_path / 'out.npy')!r}, ids)\n"
        "print(pstable.simd_arch())\n"
    )
    done = _run(code, simd)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == simd
    ids = np.load(tmp_path / "out.npy")
    np.testing.assert_array_equal(ids[:, 0], np.arange(40))
    reference = pstable.ExactIndex(20)
    reference.add(np.load(tmp_path / "data.npy"))
    np.testing.assert_array_equal(ids, reference.search(np.load(tmp_path / "data.npy")[:40], 5)[0])


def test_env_var_rejects_unknown_core():
    done = _run("import pstable", "avx9000")
    assert done.returncode != 0
    assert "PSTABLE_SIMD='avx9000' is not a pstable core" in done.stderr


def test_each_core_is_built_for_its_instruction_set():
    """A core's name, the kernels it runs and the flags it was compiled with agree."""
    kernels = {"avx512": "avx512bw", "avx2": "fma3+avx2", "sse2": "sse2"}
    for name in pstable.available_simd():
        core = importlib.import_module(f"pstable._core_{name}")
        assert core.simd == name
        if name in kernels:
            assert core.kernel_arch == kernels[name]
