"""pstable: exact and p-stable LSH nearest-neighbour search over numpy arrays.

>>> import numpy as np, pstable
>>> index = pstable.ExactIndex(784, metric="cosine")
>>> index.add(train)                          # float32 rows; other dtypes are converted
>>> ids, sims = index.search(queries, k=10)   # (n x 10) each, best first

The compiled core is chosen at import for this CPU (see `simd_arch()`); set PSTABLE_SIMD to
"avx512", "avx2" or "sse2" to override.
"""

from __future__ import annotations

from ._errors import (
    DimensionMismatch,
    Error,
    FormatError,
    InvalidArgument,
    InvalidData,
    InvalidState,
    IoError,
)
from . import _simd
from ._index import ExactIndex, _core, load

__all__ = [
    "ExactIndex",
    "load",
    "Error",
    "InvalidArgument",
    "DimensionMismatch",
    "InvalidData",
    "InvalidState",
    "IoError",
    "FormatError",
    "simd_arch",
    "available_simd",
    "__version__",
]

__version__: str = _core.version


def simd_arch() -> str:
    """The compiled core in use: 'avx512', 'avx2', 'sse2' (or 'generic' off x86)."""
    return str(_core.simd)


def available_simd() -> list[str]:
    """Cores built into this installation that this CPU can run, best first."""
    return _simd.available()


if getattr(_core, "has_e2lsh", False):
    from ._index import E2LSHIndex  # noqa: F401

    __all__.append("E2LSHIndex")
