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


def _sections(fn):
    """The numpydoc section headings of fn's docstring: a line underlined with dashes."""
    lines = (inspect.getdoc(fn) or "").splitlines()
    return {
        title.strip()
        for title, rule in zip(lines, lines[1:])
        if title.strip() and set(rule.strip()) == {"-"} and len(rule.strip()) == len(title.strip())
    }


def _is_property(name):
    """True if the public callable `name` ("Class.attr") is a property's getter."""
    owner, _, attr = name.rpartition(".")
    return bool(owner) and isinstance(
        inspect.getattr_static(getattr(pstable, owner), attr), property)


@pytest.mark.parametrize("name,fn", list(_public_callables()))
def test_docstring_has_numpydoc_sections(name, fn):
    """Public callables document their parameters and return value in numpydoc sections
    (properties are exempt: a one-line docstring says what they hold)."""
    if _is_property(name):
        return
    sections = _sections(fn)
    params = list(inspect.signature(fn).parameters)
    if params and params[0] in ("self", "cls"):
        params = params[1:]
    if params:
        assert "Parameters" in sections, f"{name} takes {params} but has no Parameters section"
    hints = typing.get_type_hints(fn, globalns=vars(inspect.getmodule(fn)))
    if hints.get("return", type(None)) is not type(None):
        assert "Returns" in sections, f"{name} returns a value but has no Returns section"


@pytest.mark.parametrize("cls", [pstable.ExactIndex, pstable.E2LSHIndex])
def test_index_class_docstring_documents_constructor(cls):
    assert "Parameters" in _sections(cls), f"{cls.__name__} has no Parameters section"
