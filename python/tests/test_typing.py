"""The public API states precise return types: no bare `Any` (issue: precise return types)."""

from __future__ import annotations

import inspect
import typing

import pytest

import pstable


def _public_callables():
    for name in pstable.__all__:
        obj = getattr(pstable, name)
        if inspect.isclass(obj):
            if issubclass(obj, BaseException):
                continue
            for attr, member in vars(obj).items():
                if attr.startswith("_") and attr not in ("__contains__", "__len__"):
                    continue
                if isinstance(member, property):
                    member = member.fget
                elif isinstance(member, (classmethod, staticmethod)):
                    member = member.__func__
                if inspect.isfunction(member):
                    yield f"{name}.{attr}", member
            for base in obj.__mro__[1:]:
                if base.__module__.startswith("pstable"):
                    for attr, member in vars(base).items():
                        if not attr.startswith("_") and inspect.isfunction(member):
                            yield f"{name}.{attr}", member
        elif inspect.isfunction(obj):
            yield name, obj


def _top_level(hint):
    """The hint itself, or the members of a Union."""
    return typing.get_args(hint) if typing.get_origin(hint) is typing.Union else (hint,)


@pytest.mark.parametrize("name,fn", list(_public_callables()))
def test_return_type_is_precise(name, fn):
    hints = typing.get_type_hints(fn, globalns=vars(inspect.getmodule(fn)))
    assert "return" in hints, f"{name} has no return annotation"
    assert all(h is not typing.Any for h in _top_level(hints["return"])), (
        f"{name} returns Any: state the type")
