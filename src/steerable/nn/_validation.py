"""Argument checks on field types shared by the modules of ``steerable.nn``.

Scalar checks (bools, ints, probabilities, ...) live in :mod:`steerable._validation`; these are
the checks that need a :class:`FieldType`. Each raises ``TypeError``/``ValueError`` naming the
argument (``in_type`` unless told otherwise), the module asking, what it needs and what came.

>>> from steerable import gspaces, nn
>>> gs = gspaces.rot2dOnR2(4)
>>> t = check_field_type(nn.FieldType(gs, [gs.regular_repr]), owner="ReLU")
>>> require_nonlinearity(t, "pointwise", "ReLU")
>>> require_orthogonal(t, "NormPool")
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from ._field_type import FieldType

__all__ = ["check_field_type", "check_base_dimension", "require_nonlinearity", "is_orthogonal", "require_orthogonal"]

_ORTHO_TOL = 1e-8


def check_field_type(value: Any, name: str = "in_type", owner: str | None = None) -> FieldType:
    """``value`` if it is a :class:`FieldType`, else ``TypeError`` naming ``name`` (and the
    module ``owner`` when given).

    >>> check_field_type(3)
    Traceback (most recent call last):
    ...
    TypeError: in_type: expected a FieldType, got int
    """
    if not isinstance(value, FieldType):
        who = f"{owner} expects" if owner else "expected"
        raise TypeError(f"{name}: {who} a FieldType, got {type(value).__name__}")
    return value


def check_base_dimension(
    ftype: FieldType, allowed: Sequence[int], owner: str, name: str = "in_type", what: str | None = None
) -> None:
    """``ValueError`` unless ``ftype`` lives on R^d for ``d`` in ``allowed``; ``what`` describes
    the need (default ``"a field type on R^2 or R^3"``).

    >>> from steerable import gspaces, nn
    >>> gs = gspaces.rot2dOnR2(4)
    >>> check_base_dimension(nn.FieldType(gs, [gs.regular_repr]), (2,), "PointwiseMaxPool2D")
    """
    d = ftype.gspace.dimensionality
    if d not in allowed:
        need = what or "a field type on " + " or ".join(f"R^{a}" for a in allowed)
        raise ValueError(f"{name}: {owner} needs {need}, got {ftype!r} on R^{d}")


def require_nonlinearity(
    ftype: FieldType, nonlinearity: str, owner: str, name: str = "in_type", hint: str = ""
) -> None:
    """``ValueError`` naming the first field whose representation does not list ``nonlinearity``
    in its ``supported_nonlinearities`` (``hint`` is appended to the reason).

    >>> from steerable import gspaces, nn
    >>> gs = gspaces.rot2dOnR2(4)
    >>> require_nonlinearity(nn.FieldType(gs, [gs.irrep(1)]), "pointwise", "ReLU")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: in_type: ReLU needs every field to support the 'pointwise' nonlinearity; field 0 of ...
    """
    checked: dict = {}
    bad = []
    for i, r in enumerate(ftype.representations):
        ok = checked.get(r)
        if ok is None:
            ok = checked[r] = nonlinearity in r.supported_nonlinearities
        if not ok:
            bad.append((i, r))
    if bad:
        i, r = bad[0]
        more = f" (and {len(bad) - 1} more fields)" if len(bad) > 1 else ""
        raise ValueError(
            f"{name}: {owner} needs every field to support the {nonlinearity!r} nonlinearity{hint}; "
            f"field {i} of {ftype!r} has representation {r!r}, which supports "
            f"{sorted(r.supported_nonlinearities)}{more}"
        )


@lru_cache(maxsize=1024)
def is_orthogonal(rep) -> bool:
    """Whether every ρ(g) is orthogonal: checked on the group's generators and their inverses
    (they generate the group, or a dense subgroup of a continuous one).

    >>> from steerable import gspaces
    >>> is_orthogonal(gspaces.rot2dOnR2(-1).irrep(2))
    True
    """
    G = rep.group
    elems = list(G.generators)
    mats = np.asarray(rep.matrices(elems + [~g for g in elems]))
    gram = np.einsum("nij,nkj->nik", mats, mats)
    return bool(np.allclose(gram, np.eye(rep.size)[None], atol=_ORTHO_TOL))


def require_orthogonal(
    ftype: FieldType, owner: str, name: str = "in_type", why: str = "field norms must be invariant", hint: str = ""
) -> None:
    """``ValueError`` naming the first field whose representation is not orthogonal (``why``:
    the reason the module needs it; ``hint``: what to use instead).

    >>> from steerable import gspaces, nn
    >>> gs = gspaces.rot2dOnR2(4)
    >>> require_orthogonal(nn.FieldType(gs, [gs.regular_repr]), "NormPool")
    """
    for i, r in enumerate(ftype.representations):
        if not is_orthogonal(r):
            raise ValueError(
                f"{name}: {owner} needs orthogonal representations ({why}); field {i} of {ftype!r} has "
                f"{r!r}, whose matrices are not orthogonal{hint}"
            )
