"""Checks of Python integers and id arrays before they reach the compiled core.

pybind11 converts an int that does not fit the C++ parameter's type (k = 2**63, num_threads =
2**31, seed = -1) into a raw TypeError that prints the private signature and every argument.
These helpers raise pstable.InvalidArgument (a ValueError) naming the parameter and its range
instead, and TypeError naming the expected type; values inside the C++ type's range go through
unchanged, so the C++ checks and messages (k >= 1, ...) still apply.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._errors import InvalidArgument

#: Ranges of the C++ types behind the public integer parameters.
RANGES = {
    "int32": (-(2**31), 2**31 - 1),  # int: num_threads, num_tables, num_probes, ...
    "int64": (-(2**63), 2**63 - 1),  # Eigen::Index and pstable::Id: dim, k, ids, max_rows
    "uint64": (0, 2**64 - 1),  # std::uint64_t: seed
}


def integer(value: Any, name: str, kind: str = "int64") -> int:
    """`value` as a Python int if it is an integer within the C++ type `kind` (see RANGES)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    v = int(value)
    lo, hi = RANGES[kind]
    if not lo <= v <= hi:
        raise InvalidArgument(f"{name} = {v} is out of range: it must be in [{lo}, {hi}]")
    return v


def threads(value: Any) -> int:
    """A num_threads argument for the core: an int32 checked by `integer`, None meaning 0."""
    return 0 if value is None else integer(value, "num_threads", "int32")
def real(value: Any, name: str) -> float:
    """`value` as a Python float if it is a real number (int or float, numpy scalars included;
    not bool). NaN and infinities pass: the C++ checks decide about them."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    return float(value)


def integers(values: Any, name: str, kind: str = "int64") -> list[int]:
    """A sequence of integers (list, tuple, 1-D array), each checked by `integer`."""
    return [integer(v, f"{name}[{i}]", kind) for i, v in enumerate(np.asarray(values).ravel().tolist())]


def is_id(value: Any) -> bool:
    """True if `value` is an integer that can be an id (0 <= value < 2**63)."""
    return (
        isinstance(value, (int, np.integer))
        and not isinstance(value, (bool, np.bool_))
        and 0 <= int(value) <= RANGES["int64"][1]
    )


def id_array(ids: Any, name: str = "ids") -> np.ndarray[Any, Any]:
    """One id or a 1-D sequence of ids as a 1-D int64 array (empty stays empty, any dtype).

    Raises TypeError for non-integers, InvalidArgument for 2-D input and for values outside
    [-2**63, 2**63) (which the core's int64 ids cannot hold; negative ids are left to its
    "never added" check).
    """
    a = np.asarray(ids)
    if a.ndim > 1:
        raise InvalidArgument(f"{name} must be one id or a 1-D array of ids, got shape {a.shape}")
    if a.size == 0:
        return np.zeros(0, dtype=np.int64)
    if a.dtype == object:  # Python ints beyond 64 bits, or mixed objects
        return np.array(integers(a, name), dtype=np.int64).reshape(-1)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integers, got dtype {a.dtype}")
    if a.dtype.kind == "u" and a.dtype.itemsize == 8 and int(a.max()) > RANGES["int64"][1]:
        raise InvalidArgument(
            f"{name} holds {int(a.max())}, which is not an id (ids are below 2**63)"
        )
    return a.astype(np.int64).reshape(-1)


def allowed_ids(a: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """The distinct allowed ids of an integer filter, increasing (int64): the core bisects them,
    so the cost follows the number of ids, never their values (user ids may be far apart; an id
    of 2**40 once allocated a 1 TiB mask). Negative ids raise InvalidArgument."""
    ids = id_array(a, "filter ids")
    if ids.size and int(ids.min()) < 0:
        raise InvalidArgument(f"filter ids must be >= 0, got {int(ids.min())}")
    return np.unique(ids)
