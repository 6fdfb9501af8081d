"""Nested inputs / outputs (tuples, lists, dicts of tensors): walk them with a path for messages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def is_node(x: Any) -> bool:
    """Containers the checks recurse into (everything else is a leaf)."""
    return isinstance(x, (tuple, list, dict))


def leaves(x: Any, path: str) -> list[tuple[str, Any]]:
    """``[(path, leaf)]`` in order; paths read ``output[0]['a']``."""
    if isinstance(x, dict):
        return [p for k, v in x.items() for p in leaves(v, f"{path}[{k!r}]")]
    if isinstance(x, (tuple, list)):
        return [p for i, v in enumerate(x) for p in leaves(v, f"{path}[{i}]")]
    return [(path, x)]


def rebuild(x: Any, fn: Callable[[Any, Any, str], Any], spec: Any, path: str) -> Any:
    """``x`` with every leaf replaced by ``fn(leaf, leaf_spec, path)``; ``spec`` is a tree whose
    structure matches ``x`` (see :func:`match_spec`)."""
    if isinstance(x, dict):
        return type(x)((k, rebuild(v, fn, spec[k], f"{path}[{k!r}]")) for k, v in x.items())
    if isinstance(x, (tuple, list)):
        return type(x)(rebuild(v, fn, s, f"{path}[{i}]") for i, (v, s) in enumerate(zip(x, spec)))
    return fn(x, spec, path)


def match_spec(spec: Any, x: Any, argname: str, path: str) -> Any:
    """A spec tree with the structure of ``x``: a container spec must match ``x``'s container
    (same length / keys); any other spec applies to every leaf below it."""
    if isinstance(spec, dict):
        if not isinstance(x, dict):
            raise ValueError(f"{argname}: a dict of types at {path} but the value there is a {type(x).__name__}")
        missing = [k for k in x if k not in spec]
        if missing:
            raise ValueError(f"{argname}: no type for the keys {missing} of {path} (types given for {list(spec)})")
        return {k: match_spec(spec[k], v, argname, f"{path}[{k!r}]") for k, v in x.items()}
    if isinstance(spec, (tuple, list)):
        if not isinstance(x, (tuple, list)) or len(x) != len(spec):
            what = (
                f"a {type(x).__name__} of length {len(x)}" if isinstance(x, (tuple, list)) else f"a {type(x).__name__}"
            )
            raise ValueError(f"{argname}: {len(spec)} types at {path} but the value there is {what}")
        return [match_spec(s, v, argname, f"{path}[{i}]") for i, (s, v) in enumerate(zip(spec, x))]
    if isinstance(x, dict):
        return {k: match_spec(spec, v, argname, f"{path}[{k!r}]") for k, v in x.items()}
    if isinstance(x, (tuple, list)):
        return [match_spec(spec, v, argname, f"{path}[{i}]") for i, v in enumerate(x)]
    return spec
