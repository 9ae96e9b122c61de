"""pstable: exact and p-stable LSH nearest-neighbour search over numpy arrays.

>>> import numpy as np, pstable
>>> index = pstable.ExactIndex(784, metric="cosine")
>>> index.add(train)                          # float32 rows; other dtypes are converted
>>> ids, sims = index.search(queries, k=10)   # (n x 10) each, best first
>>> res = index.search(queries, k=10)         # a pstable.Result: also res.ids, res.metric

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
from ._index import E2LSHIndex, ExactIndex, _core, load
from ._result import RangeResult, Result
from ._threads import get_num_threads, set_num_threads
from ._tune import TuneResult, tune
from ._eval import (
    evaluate,
    ground_truth,
    mean_average_precision,
    precision_at_k,
    range_recall,
    read_bvecs,
    read_fvecs,
    read_idx_images,
    read_idx_labels,
    read_ivecs,
    read_npy,
    read_npy_labels,
    recall_at_k,
)

__all__ = [
    "ExactIndex",
    "load",
    "RangeResult",
    "Result",
    "E2LSHIndex",
    "tune",
    "set_num_threads",
    "get_num_threads",
    "TuneResult",
    "read_npy",
    "read_npy_labels",
    "read_fvecs",
    "read_ivecs",
    "read_bvecs",
    "read_idx_images",
    "read_idx_labels",
    "ground_truth",
    "recall_at_k",
    "precision_at_k",
    "range_recall",
    "mean_average_precision",
    "evaluate",
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
    """The compiled core in use.

    Returns
    -------
    str
        'avx512', 'avx2', 'sse2' (or 'generic' off x86).
    """
    return str(_core.simd)


def available_simd() -> list[str]:
    """Cores built into this installation that this CPU can run, best first.

    Returns
    -------
    list of str
        Names among 'avx512', 'avx2', 'sse2' and 'generic'; set PSTABLE_SIMD to one of them to
        override the choice made at import.
    """
    return _simd.available()

