"""E2LSHParams and TuneOptions are declared once in C++; the Python API and the docs follow."""
import inspect
import pathlib

import pytest

import pstable
from pstable import _core

DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs" / "e2lsh.md"


def test_e2lsh_index_takes_every_declared_parameter():
    names = [name for name, _ in _core.e2lsh_params_fields()]
    assert names[:2] == ["num_tables", "num_hashes"]
    accepted = inspect.signature(pstable.E2LSHIndex.__init__).parameters
    assert set(names) <= set(accepted)
    index = pstable.E2LSHIndex(4, num_tables=3, num_hashes=2, bucket_width=2.5, num_probes=1,
                               seed=9, min_collisions=2)
    assert index.params == dict(num_tables=3, num_hashes=2, bucket_width=2.5, num_probes=1,
                                  seed=9, min_collisions=2)


def test_tune_takes_every_declared_option():
    names = [name for name, _ in _core.tune_options_fields()]
    accepted = inspect.signature(pstable.tune).parameters
    assert set(names) <= set(accepted)


def test_unknown_or_ill_typed_parameters_name_the_field():
    with pytest.raises(ValueError, match="unknown parameter 'tables'"):
        _core.make_e2lsh(4, "euclidean", "float32", {"tables": 3})
    with pytest.raises(ValueError, match="num_tables got 'x'"):
        _core.make_e2lsh(4, "euclidean", "float32", {"num_tables": "x"})
    with pytest.raises(ValueError, match="seed got -1"):
        _core.make_e2lsh(4, "euclidean", "float32", {"seed": -1})


@pytest.mark.skipif(not DOCS.exists(), reason="docs/ is not beside an installed package")
def test_docs_list_every_parameter():
    text = DOCS.read_text()
    for name, _ in _core.e2lsh_params_fields():
        assert f"`{name}`" in text, f"docs/e2lsh.md does not describe {name}"
