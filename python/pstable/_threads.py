"""The default number of threads of batch calls (C++ pstable::set_num_threads)."""

from __future__ import annotations

from typing import Optional

from . import _checks
from ._index import _core


def set_num_threads(num_threads: Optional[int]) -> None:
    """Sets the threads a batch call (search of many queries, ground_truth) uses by default.

    Parameters
    ----------
    num_threads : int or None
        0 or None: all CPUs this process may run on (its affinity mask, e.g. ``taskset``, and its
        cgroup CPU quota). Values above 256 count as 256.

    Raises
    ------
    ValueError
        (pstable.InvalidArgument) if num_threads is negative or does not fit a C int.
    TypeError
        if num_threads is not an integer.
    """
    _core.set_num_threads(_checks.threads(num_threads))


def get_num_threads() -> int:
    """The threads a batch call with ``num_threads=0`` (the default) uses, at least 1.

    Returns
    -------
    int
        The value of `set_num_threads`, else of the environment variable PSTABLE_NUM_THREADS,
        else the CPUs this process may run on (affinity mask and cgroup quota). The variable and
        the CPUs are read once, at the first batch call or call of `get_num_threads` or
        `set_num_threads`; a variable that is not a decimal integer >= 0 is ignored.
    """
    return int(_core.get_num_threads())

