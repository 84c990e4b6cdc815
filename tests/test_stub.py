"""The hand-written stub `_core.pyi` says what the extension does: every public name,
signature, default and docstring agrees with the runtime's.

Defaults live once, in the Rust `#[pyo3(signature = ...)]`; this test keeps the stub's
copy honest. (`mypy.stubtest` checks types and names, not docstrings or default values.)
"""

from __future__ import annotations

import ast
import importlib.resources
import inspect
from collections.abc import Iterator
from typing import Any

import pytest

from mqtt_common import _core

STUB = importlib.resources.files("mqtt_common").joinpath("_core.pyi").read_text("utf-8")
TREE = ast.parse(STUB)
#: A stub's functions: methods that return awaitables are written ``async def``.
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
Function = ast.FunctionDef | ast.AsyncFunctionDef


def _docstring(node: ast.AST) -> str | None:
    if isinstance(node, (*FUNCTIONS, ast.ClassDef)):
        return ast.get_docstring(node)
    return None


def _stub_items() -> Iterator[tuple[str, Function | ast.ClassDef, ast.ClassDef | None]]:
    for node in TREE.body:
        if isinstance(node, FUNCTIONS) and not node.name.startswith("_"):
            yield node.name, node, None
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            yield node.name, node, None
            for member in node.body:
                if isinstance(member, FUNCTIONS) and (
                    not member.name.startswith("_") or member.name == "__new__"
                ):
                    yield f"{node.name}.{member.name}", member, node


ITEMS = list(_stub_items())


def _runtime(path: str) -> Any:
    obj: Any = _core
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def _is_property(node: Function) -> bool:
    return any(
        (isinstance(d, ast.Name) and d.id == "property")
        or (isinstance(d, ast.Attribute) and d.attr == "setter")
        for d in node.decorator_list
    )


def _literal(node: ast.expr | None) -> Any:
    if node is None:
        return inspect.Parameter.empty
    if isinstance(node, ast.Constant):
        return "..." if node.value is Ellipsis else node.value
    return ast.unparse(node)  # an enum member or an expression: compared as text


def _stub_parameters(node: Function, *, skip_first: bool) -> list[tuple[str, str, Any]]:
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    defaults.extend(args.defaults)
    kinds = ["POSITIONAL_ONLY"] * len(args.posonlyargs) + ["POSITIONAL_OR_KEYWORD"] * len(
        args.args
    )
    parameters = [
        (a.arg, kind, _literal(d)) for a, kind, d in zip(positional, kinds, defaults, strict=True)
    ]
    if skip_first:
        parameters = parameters[1:]
    if args.vararg:
        parameters.append((args.vararg.arg, "VAR_POSITIONAL", inspect.Parameter.empty))
    for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        parameters.append((a.arg, "KEYWORD_ONLY", _literal(d)))
    if args.kwarg:
        parameters.append((args.kwarg.arg, "VAR_KEYWORD", inspect.Parameter.empty))
    return parameters


def _runtime_parameters(obj: Any, *, skip_self: bool) -> list[tuple[str, str, Any]]:
    parameters = []
    for parameter in inspect.signature(obj).parameters.values():
        default = parameter.default
        if default is Ellipsis:
            default = "..."  # an expression default: PyO3 shows it as `...`
        parameters.append((parameter.name, parameter.kind.name, default))
    if skip_self and parameters and parameters[0][0] == "self":
        parameters = parameters[1:]
    return parameters


def _comparable(parameters: list[tuple[str, str, Any]]) -> list[tuple[str, str, Any]]:
    # PyO3 makes `self` positional-only; a stub method's other parameters are the same.
    return [
        (name, "POSITIONAL_OR_KEYWORD" if kind == "POSITIONAL_ONLY" else kind, default)
        for name, kind, default in parameters
    ]


@pytest.mark.parametrize(("path", "node", "owner"), ITEMS, ids=[path for path, _, _ in ITEMS])
def test_stub_item_exists_with_the_runtime_docstring(
    path: str, node: Function | ast.ClassDef, owner: ast.ClassDef | None
) -> None:
    obj = _runtime(path)
    if path.endswith(".__new__"):
        return
    runtime_doc = inspect.cleandoc(obj.__doc__ or "")
    assert runtime_doc, f"{path} has no runtime docstring"
    assert _docstring(node) == runtime_doc, f"{path}: the stub's docstring differs"


SIGNED = [
    (path, node, owner)
    for path, node, owner in ITEMS
    if isinstance(node, FUNCTIONS) and not _is_property(node)
]


@pytest.mark.parametrize(("path", "node", "owner"), SIGNED, ids=[path for path, _, _ in SIGNED])
def test_stub_signature_equals_the_runtime_signature(
    path: str, node: Function, owner: ast.ClassDef | None
) -> None:
    if path.endswith(".__new__"):
        assert owner is not None
        runtime = _runtime_parameters(_runtime(owner.name), skip_self=False)
        stub = _stub_parameters(node, skip_first=True)
        if [kind for _, kind, _ in stub] == ["VAR_POSITIONAL", "VAR_KEYWORD"]:
            return  # the interfaces' bases take anything
        assert stub == runtime, f"{path}"
        return
    is_static = any(
        isinstance(d, ast.Name) and d.id == "staticmethod" for d in node.decorator_list
    )
    runtime = _runtime_parameters(_runtime(path), skip_self=owner is not None and not is_static)
    stub = _stub_parameters(node, skip_first=owner is not None and not is_static)
    assert _comparable(stub) == _comparable(runtime), path


def test_every_public_runtime_name_is_in_the_stub() -> None:
    stubbed = {path for path, _, _ in ITEMS}
    stubbed |= {
        t.id
        for node in TREE.body
        if isinstance(node, (ast.AnnAssign, ast.Assign))
        for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(t, ast.Name)
    }
    missing = []
    for name in dir(_core):
        if name.startswith("_") and name != "__version__":
            continue
        obj = getattr(_core, name)
        if name not in stubbed:
            missing.append(name)
        if inspect.isclass(obj):
            for member, value in vars(obj).items():
                if member.startswith("_") or member.isupper():
                    continue
                public = callable(value) or type(value).__name__ == "getset_descriptor"
                if public and f"{name}.{member}" not in stubbed:
                    missing.append(f"{name}.{member}")
    assert missing == []
