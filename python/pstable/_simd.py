"""Chooses, at import, the compiled core built for the best instruction set this CPU runs."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

from . import _cpu

#: Cores pstable may be built with, best first. "generic" is the baseline of non-x86 machines.
CORES = ("avx512", "avx2", "sse2", "generic")
ENV_VAR = "PSTABLE_SIMD"


def _import(name: str) -> ModuleType:
    return importlib.import_module(f"{__package__}._core_{name}")


def available() -> list[str]:
    """Cores both built into this installation and supported by this CPU, best first.

    Returns
    -------
    list of str
        Names among "avx512", "avx2", "sse2" and "generic".
    """
    out = []
    for name in _cpu.supported():
        try:
            _import(name)
        except ModuleNotFoundError:  # not built here; any other import error is a bug: raise it
            continue
        out.append(name)
    return out


def choose() -> ModuleType:
    """The core named by $PSTABLE_SIMD, or else the best one available."""
    supported = list(_cpu.supported())
    forced = os.environ.get(ENV_VAR, "").strip().lower()
    if forced:
        if forced not in CORES:
            raise ImportError(f"{ENV_VAR}={forced!r} is not a pstable core; use one of {CORES}")
        if forced not in supported:
            raise ImportError(
                f"{ENV_VAR}={forced!r} but this CPU supports only {supported}; "
                f"unset {ENV_VAR} or pick one of those"
            )
        return _import(forced)
    errors = []
    for name in supported:
        try:
            return _import(name)
        except ModuleNotFoundError as e:  # not built here (e.g. "generic" on x86)
            errors.append(f"{name}: {e}")
    raise ImportError("no compiled pstable core could be imported: " + "; ".join(errors))
