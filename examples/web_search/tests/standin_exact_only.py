"""The numpy stand-in without E2LSHIndex, like a pstable binding built before branch lsh (tests only)."""
from numpy_standin import ExactIndex, load  # noqa: F401
