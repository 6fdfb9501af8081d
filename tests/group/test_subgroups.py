"""Subgroups: ``Group.subgroup``, restriction, quotient and induced representations.

Every subgroup id form documented in the group modules (``_planar``, ``_rot3d``,
``_finite3d``, ``_product``) is exercised for

1. the inclusion being an injective homomorphism with ``restriction`` as its left inverse, and
   ``restriction`` rejecting elements outside the subgroup (exact counts for finite groups);
2. restricted representations (irreps, regular / standard representations): the restriction
   is a representation of H with H's irreps and an orthogonal change of basis, and equals
   ρ∘inclusion;
3. for subgroups of finite index: the quotient and induced representations are
   representations of G of the right size, and Frobenius reciprocity holds;
4. the documented geometry (which mirror / axis / rotation a subgroup contains);
5. invalid ids raising ``ValueError`` naming ``subgroup_id``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from steerable import group as sg

PHI = 0.5 * (1 + math.sqrt(5.0))
ATOL = 1e-10


# ------------------------------------------------------------------------------ helpers
def _adj_so3():
    return sg.so3_group(3).element([0.3, -0.5, 0.8], "EV")


def _adj_o3():
    return sg.o3_group(3).element((1, [-0.4, 0.9, 0.2]), "EV")


def _rot(axis, angle):
    """3x3 rotation matrix about ``axis`` by ``angle`` (right hand)."""
    a = np.asarray(axis, float)
    a = a / np.linalg.norm(a)
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + math.sin(angle) * k + (1 - math.cos(angle)) * k @ k


def _rot2(theta):
    c, s = math.cos(theta), math.sin(theta)
    return np.array([[c, -s], [s, c]])


def _mirror3(normal):
    n = np.asarray(normal, float)
    n = n / np.linalg.norm(n)
    return np.eye(3) - 2 * np.outer(n, n)


F2 = np.diag([1.0, -1.0])


@dataclass
class Case:
    label: str
    make_group: Callable[[], Any]
    sid: Any  # the id, or a callable G -> id (ids holding adjoint elements)
    order: int | None = None  # |H| for finite H, None when H is continuous
    index: int | None = None  # [G : H] when finite, else None
    same_matrices: bool = False  # H's standard representation is the restriction of G's
    members: list = field(default_factory=list)  # matrices (param 'MAT') of G in H
    nonmembers: list = field(default_factory=list)  # matrices of G not in H

    def group(self):
        return self.make_group()

    def id(self, G):
        return self.sid(G) if callable(self.sid) else self.sid


def _c(N):
    return lambda: sg.cyclic_group(N)


def _d(N):
    return lambda: sg.dihedral_group(N)


SO2 = lambda: sg.so2_group(3)
O2 = lambda: sg.o2_group(3)
SO3 = lambda: sg.so3_group(3)
O3 = lambda: sg.o3_group(3)

TH = 0.7  # a generic flip/mirror axis parameter (axis at TH/2)

CASES: list[Case] = [
    # ---- C_N: M | N
    Case("C1/1", _c(1), 1, 1, 1, True),
    Case("C6/1", _c(6), 1, 1, 6),
    Case("C6/2", _c(6), 2, 2, 3, members=[_rot2(math.pi)], nonmembers=[_rot2(math.pi / 3)]),
    Case("C6/3", _c(6), 3, 3, 2, members=[_rot2(2 * math.pi / 3)], nonmembers=[_rot2(math.pi)]),
    Case("C6/6", _c(6), 6, 6, 1, True),
    Case("C8/4", _c(8), 4, 4, 2, True, members=[_rot2(math.pi / 2)], nonmembers=[_rot2(math.pi / 4)]),
    Case("C5/5", _c(5), 5, 5, 1, True),
    # ---- D_N: (None, M) -> C_M ; (k, M) -> D_M with flip r^k f ; (k, 1) -> {e, r^k f}
    Case("D6/(None,1)", _d(6), (None, 1), 1, 12),
    Case(
        "D6/(None,3)",
        _d(6),
        (None, 3),
        3,
        4,
        True,
        members=[_rot2(2 * math.pi / 3)],
        nonmembers=[F2, _rot2(math.pi / 3)],
    ),
    Case("D6/(None,6)", _d(6), (None, 6), 6, 2, True, nonmembers=[F2]),
    Case("D6/(0,1)", _d(6), (0, 1), 2, 6, members=[F2], nonmembers=[_rot2(math.pi)]),
    Case("D6/(1,1)", _d(6), (1, 1), 2, 6, members=[_rot2(math.pi / 3) @ F2], nonmembers=[F2, _rot2(math.pi / 3)]),
    Case("D6/(5,1)", _d(6), (5, 1), 2, 6, members=[_rot2(5 * math.pi / 3) @ F2]),
    Case(
        "D6/(0,3)",
        _d(6),
        (0, 3),
        6,
        2,
        True,
        members=[F2, _rot2(2 * math.pi / 3)],
        nonmembers=[_rot2(math.pi / 3) @ F2],
    ),
    Case("D6/(1,3)", _d(6), (1, 3), 6, 2, members=[_rot2(math.pi / 3) @ F2, _rot2(math.pi) @ F2], nonmembers=[F2]),
    Case(
        "D6/(1,2)",
        _d(6),
        (1, 2),
        4,
        3,
        members=[_rot2(math.pi / 3) @ F2, _rot2(math.pi)],
        nonmembers=[F2, _rot2(2 * math.pi / 3)],
    ),
    Case("D6/(4,2)", _d(6), (4, 2), 4, 3, members=[_rot2(4 * math.pi / 3) @ F2]),
    Case("D6/(0,6)", _d(6), (0, 6), 12, 1, True),
    Case("D5/(2,5)", _d(5), (2, 5), 10, 1, members=[_rot2(4 * math.pi / 5) @ F2]),
    Case("D4/(None,2)", _d(4), (None, 2), 2, 4, True, members=[_rot2(math.pi)]),
    Case("D4/(3,2)", _d(4), (3, 2), 4, 2, members=[_rot2(3 * math.pi / 2) @ F2], nonmembers=[F2]),
    Case("D1/(0,1)", _d(1), (0, 1), 2, 1),
    # ---- SO(2): M -> C_M, -1 -> SO(2)
    Case("SO2/-1", SO2, -1, None, 1, True),
    Case("SO2/1", SO2, 1, 1, None),
    Case("SO2/4", SO2, 4, 4, None, True, members=[_rot2(math.pi / 2)], nonmembers=[_rot2(math.pi / 4)]),
    Case("SO2/7", SO2, 7, 7, None, True, members=[_rot2(2 * math.pi / 7)]),
    # ---- O(2): (None, -1) SO(2); (None, M) C_M; (θ, 1) {e, r_θ f}; (θ, M) D_M; (θ, -1) O(2)
    Case("O2/(None,-1)", O2, (None, -1), None, 2, True, members=[_rot2(1.234)], nonmembers=[F2]),
    Case("O2/(None,1)", O2, (None, 1), 1, None),
    Case("O2/(None,3)", O2, (None, 3), 3, None, True, members=[_rot2(2 * math.pi / 3)], nonmembers=[F2, _rot2(1.0)]),
    Case("O2/(0.0,1)", O2, (0.0, 1), 2, None, members=[F2], nonmembers=[_rot2(TH) @ F2]),
    Case("O2/(θ,1)", O2, (TH, 1), 2, None, members=[_rot2(TH) @ F2], nonmembers=[F2, _rot2(math.pi)]),
    Case(
        "O2/(0.0,4)",
        O2,
        (0.0, 4),
        8,
        None,
        True,
        members=[F2, _rot2(math.pi / 2)],
        nonmembers=[_rot2(math.pi / 4) @ F2],
    ),
    Case(
        "O2/(θ,4)",
        O2,
        (TH, 4),
        8,
        None,
        members=[_rot2(TH) @ F2, _rot2(TH + math.pi / 2) @ F2, _rot2(math.pi / 2)],
        nonmembers=[F2, _rot2(TH + math.pi / 4) @ F2],
    ),
    Case("O2/(θ+2π,3)", O2, (TH + 2 * math.pi, 3), 6, None, members=[_rot2(TH) @ F2]),
    Case("O2/(0.0,-1)", O2, (0.0, -1), None, 1, True),
    Case("O2/(θ,-1)", O2, (TH, -1), None, 1, members=[_rot2(0.3) @ F2, _rot2(0.9)]),
    Case("O2/(-1.9,-1)", O2, (-1.9, -1), None, 1),
    # ---- SO(3)
    Case("SO3/so3", SO3, "so3", None, 1, True),
    Case(
        "SO3/ico",
        SO3,
        "ico",
        60,
        None,
        True,
        members=[_rot([0, 1, PHI], 2 * math.pi / 5), _rot([1, 1, 1], 2 * math.pi / 3), _rot([0, 0, 1], math.pi)],
        nonmembers=[_rot([0, 0, 1], math.pi / 2)],
    ),
    Case(
        "SO3/octa",
        SO3,
        "octa",
        24,
        None,
        True,
        members=[_rot([1, 0, 0], math.pi / 2), _rot([0, 0, 1], math.pi / 2), _rot([1, 1, 1], 2 * math.pi / 3)],
        nonmembers=[_rot([0, 0, 1], math.pi / 3)],
    ),
    Case(
        "SO3/tetra",
        SO3,
        "tetra",
        12,
        None,
        True,
        members=[_rot([1, 1, 1], 2 * math.pi / 3), _rot([1, 0, 0], math.pi), _rot([-1, 1, 1], 2 * math.pi / 3)],
        nonmembers=[_rot([0, 0, 1], math.pi / 2)],
    ),
    Case("SO3/(False,1)", SO3, (False, 1), 1, None),
    Case(
        "SO3/(False,4)",
        SO3,
        (False, 4),
        4,
        None,
        members=[_rot([0, 0, 1], math.pi / 2)],
        nonmembers=[_rot([0, 0, 1], math.pi / 4), _rot([1, 0, 0], math.pi)],
    ),
    Case(
        "SO3/(False,-1)",
        SO3,
        (False, -1),
        None,
        None,
        members=[_rot([0, 0, 1], 1.234)],
        nonmembers=[_rot([1, 0, 0], math.pi), _rot([0, 1, 1], 0.3)],
    ),
    Case(
        "SO3/(True,1)",
        SO3,
        (True, 1),
        2,
        None,
        members=[_rot([1, 0, 0], math.pi)],
        nonmembers=[_rot([0, 1, 0], math.pi), _rot([0, 0, 1], math.pi)],
    ),
    Case(
        "SO3/(True,3)",
        SO3,
        (True, 3),
        6,
        None,
        members=[_rot([1, 0, 0], math.pi), _rot([0, 0, 1], 2 * math.pi / 3)],
        nonmembers=[_rot([0, 1, 0], math.pi), _rot([0, 0, 1], math.pi)],
    ),
    Case(
        "SO3/(True,-1)",
        SO3,
        (True, -1),
        None,
        None,
        members=[_rot([1, 0, 0], math.pi), _rot([0, 0, 1], 0.4), _rot([math.cos(0.3), math.sin(0.3), 0], math.pi)],
        nonmembers=[_rot([1, 0, 0], 0.4)],
    ),
    Case(
        "SO3/(θ,1)",
        SO3,
        (TH, 1),
        2,
        None,
        members=[_rot([math.cos(TH / 2), math.sin(TH / 2), 0], math.pi)],
        nonmembers=[_rot([1, 0, 0], math.pi)],
    ),
    Case(
        "SO3/(θ,4)",
        SO3,
        (TH, 4),
        8,
        None,
        members=[
            _rot([math.cos(TH / 2), math.sin(TH / 2), 0], math.pi),
            _rot([0, 0, 1], math.pi / 2),
            _rot([math.cos(TH / 2 + math.pi / 4), math.sin(TH / 2 + math.pi / 4), 0], math.pi),
        ],
        nonmembers=[_rot([1, 0, 0], math.pi)],
    ),
    Case(
        "SO3/(θ,-1)",
        SO3,
        (TH, -1),
        None,
        None,
        members=[_rot([math.cos(0.1), math.sin(0.1), 0], math.pi), _rot([0, 0, 1], 2.0)],
        nonmembers=[_rot([1, 0, 1], math.pi)],
    ),
    Case("SO3/(0.0,2)", SO3, (0.0, 2), 4, None, members=[_rot([1, 0, 0], math.pi), _rot([0, 1, 0], math.pi)]),
    Case("SO3/(ico,adj)", SO3, lambda G: ("ico", _adj_so3()), 60, None),
    Case("SO3/(octa,adj)", SO3, lambda G: ("octa", _adj_so3()), 24, None),
    Case("SO3/(so3,adj)", SO3, lambda G: ("so3", _adj_so3()), None, 1),
    Case("SO3/(False,3,adj)", SO3, lambda G: (False, 3, _adj_so3()), 3, None),
    Case("SO3/(False,-1,adj)", SO3, lambda G: (False, -1, _adj_so3()), None, None),
    Case("SO3/(True,2,adj)", SO3, lambda G: (True, 2, _adj_so3()), 4, None),
    Case("SO3/(True,1,adj)", SO3, lambda G: (True, 1, _adj_so3()), 2, None),
    Case("SO3/(θ,-1,adj)", SO3, lambda G: (TH, -1, _adj_so3()), None, None),
    # ---- O(3)
    Case("O3/o3", O3, "o3", None, 1, True),
    Case("O3/(True,so3)", O3, (True, "so3"), None, 1, True),
    Case(
        "O3/so3",
        O3,
        "so3",
        None,
        2,
        True,
        members=[_rot([1, 2, 3], 0.5)],
        nonmembers=[-np.eye(3), np.diag([-1.0, 1, 1])],
    ),
    Case("O3/(False,so3)", O3, (False, "so3"), None, 2, True),
    Case("O3/(False,ico)", O3, (False, "ico"), 60, None, True, nonmembers=[-np.eye(3)]),
    Case("O3/(False,octa)", O3, (False, "octa"), 24, None, True),
    Case("O3/(False,tetra)", O3, (False, "tetra"), 12, None, True),
    Case(
        "O3/(True,ico)", O3, (True, "ico"), 120, None, True, members=[-np.eye(3), -_rot([0, 1, PHI], 2 * math.pi / 5)]
    ),
    Case(
        "O3/(True,octa)",
        O3,
        (True, "octa"),
        48,
        None,
        True,
        members=[-np.eye(3), _rot([0, 0, 1], math.pi / 2), -_rot([0, 0, 1], math.pi / 2)],
    ),
    Case(
        "O3/(True,tetra)",
        O3,
        (True, "tetra"),
        24,
        None,
        True,
        members=[-np.eye(3), -_rot([1, 0, 0], math.pi)],
        nonmembers=[-_rot([0, 0, 1], math.pi / 2)],
    ),
    Case(
        "O3/fulltetra",
        O3,
        "fulltetra",
        24,
        None,
        True,
        members=[-_rot([0, 0, 1], math.pi / 2), _mirror3([1, -1, 0]), _rot([1, 1, 1], 2 * math.pi / 3)],
        nonmembers=[-np.eye(3), _mirror3([1, 0, 0])],
    ),
    Case("O3/(False,False,1)", O3, (False, False, 1), 1, None),
    Case(
        "O3/(False,False,5)",
        O3,
        (False, False, 5),
        5,
        None,
        members=[_rot([0, 0, 1], 2 * math.pi / 5)],
        nonmembers=[-_rot([0, 0, 1], 2 * math.pi / 5)],
    ),
    Case("O3/(False,False,-1)", O3, (False, False, -1), None, None, members=[_rot([0, 0, 1], 0.3)]),
    Case("O3/(False,True,1)", O3, (False, True, 1), 2, None, members=[_rot([1, 0, 0], math.pi)]),
    Case(
        "O3/(False,True,3)",
        O3,
        (False, True, 3),
        6,
        None,
        members=[_rot([1, 0, 0], math.pi), _rot([0, 0, 1], 2 * math.pi / 3)],
        nonmembers=[np.diag([1.0, -1, 1])],
    ),
    Case(
        "O3/(False,True,-1)", O3, (False, True, -1), None, None, members=[_rot([math.cos(1), math.sin(1), 0], math.pi)]
    ),
    Case(
        "O3/(False,θ,2)",
        O3,
        (False, TH, 2),
        4,
        None,
        members=[_rot([math.cos(TH / 2), math.sin(TH / 2), 0], math.pi)],
        nonmembers=[_rot([1, 0, 0], math.pi)],
    ),
    Case("O3/(False,θ,-1)", O3, (False, TH, -1), None, None),
    Case(
        "O3/(True,False,1)", O3, (True, False, 1), 2, None, members=[-np.eye(3)], nonmembers=[_rot([0, 0, 1], math.pi)]
    ),
    Case(
        "O3/(True,False,4)",
        O3,
        (True, False, 4),
        8,
        None,
        True,
        members=[-np.eye(3), -_rot([0, 0, 1], math.pi / 2)],
        nonmembers=[np.diag([1.0, 1, -1]) @ _rot([0, 0, 1], math.pi / 4)],
    ),
    Case("O3/(True,False,-1)", O3, (True, False, -1), None, None, True, members=[-_rot([0, 0, 1], 0.77)]),
    Case("O3/(True,True,1)", O3, (True, True, 1), 4, None, members=[-_rot([1, 0, 0], math.pi)]),
    Case(
        "O3/(True,True,3)",
        O3,
        (True, True, 3),
        12,
        None,
        True,
        members=[-_rot([1, 0, 0], math.pi), -np.eye(3)],
        nonmembers=[_rot([0, 1, 0], math.pi)],
    ),
    Case("O3/(True,True,-1)", O3, (True, True, -1), None, None, True),
    Case(
        "O3/(True,θ,3)",
        O3,
        (True, TH, 3),
        12,
        None,
        members=[-_rot([math.cos(TH / 2), math.sin(TH / 2), 0], math.pi)],
        nonmembers=[-_rot([1, 0, 0], math.pi)],
    ),
    Case("O3/(cone,1)", O3, ("cone", 1), 2, None, members=[np.diag([1.0, -1, 1])], nonmembers=[np.diag([-1.0, 1, 1])]),
    Case(
        "O3/(cone,4)",
        O3,
        ("cone", 4),
        8,
        None,
        members=[np.diag([1.0, -1, 1]), _rot([0, 0, 1], math.pi / 2), np.diag([-1.0, 1, 1])],
        nonmembers=[-np.eye(3), np.diag([1.0, 1, -1])],
    ),
    Case(
        "O3/(cone,-1)",
        O3,
        ("cone", -1),
        None,
        None,
        members=[_mirror3([math.cos(0.4), math.sin(0.4), 0]), _rot([0, 0, 1], 0.4)],
        nonmembers=[_rot([1, 0, 0], math.pi)],
    ),
    Case(
        "O3/(cone,θ,1)",
        O3,
        ("cone", TH, 1),
        2,
        None,
        members=[_mirror3([-math.sin(TH / 2), math.cos(TH / 2), 0])],
        nonmembers=[np.diag([1.0, -1, 1])],
    ),
    Case(
        "O3/(cone,θ,3)",
        O3,
        ("cone", TH, 3),
        6,
        None,
        members=[_mirror3([-math.sin(TH / 2), math.cos(TH / 2), 0]), _rot([0, 0, 1], 2 * math.pi / 3)],
    ),
    Case("O3/(cone,0.0,2)", O3, ("cone", 0.0, 2), 4, None, members=[np.diag([1.0, -1, 1]), np.diag([-1.0, 1, 1])]),
    Case("O3/(cone,θ,-1)", O3, ("cone", TH, -1), None, None),
    Case(
        "O3/mirror",
        O3,
        "mirror",
        2,
        None,
        members=[np.diag([-1.0, 1, 1])],
        nonmembers=[np.diag([1.0, -1, 1]), -np.eye(3)],
    ),
    Case("O3/inversion", O3, "inversion", 2, None, members=[-np.eye(3)], nonmembers=[np.diag([-1.0, 1, 1])]),
    Case("O3/trivial", O3, "trivial", 1, None, nonmembers=[-np.eye(3)]),
    Case("O3/(o3,adj)", O3, lambda G: ("o3", _adj_o3()), None, 1),
    Case("O3/(so3,adj)", O3, lambda G: ("so3", _adj_o3()), None, 2),
    Case("O3/(True,ico,adj)", O3, lambda G: (True, "ico", _adj_o3()), 120, None),
    Case("O3/(False,octa,adj)", O3, lambda G: (False, "octa", _adj_o3()), 24, None),
    Case("O3/(fulltetra,adj)", O3, lambda G: ("fulltetra", _adj_o3()), 24, None),
    Case("O3/(True,True,2,adj)", O3, lambda G: (True, True, 2, _adj_o3()), 8, None),
    Case("O3/(False,θ,-1,adj)", O3, lambda G: (False, TH, -1, _adj_o3()), None, None),
    Case("O3/(True,False,1,adj)", O3, lambda G: (True, False, 1, _adj_o3()), 2, None),
    Case("O3/(cone,3,adj)", O3, lambda G: ("cone", 3, _adj_o3()), 6, None),
    Case("O3/(cone,θ,-1,adj)", O3, lambda G: ("cone", TH, -1, _adj_o3()), None, None),
    Case("O3/(mirror,adj)", O3, lambda G: ("mirror", _adj_o3()), 2, None),
    Case("O3/(inversion,adj)", O3, lambda G: ("inversion", _adj_o3()), 2, None, members=[-np.eye(3)]),
    # ---- finite subgroups of O(3)
    *[
        c
        for kind, make, order in (
            ("ico", sg.ico_group, 60),
            ("octa", sg.octa_group, 24),
            ("tetra", sg.tetra_group, 12),
            ("fulltetra", sg.full_tetra_group, 24),
        )
        for c in (
            Case(f"{kind}/{kind}", make, kind, order, 1, True),
            Case(f"{kind}/trivial", make, "trivial", 1, order),
            Case(f"{kind}/(False,1)", make, (False, 1), 1, order),
            Case(f"{kind}/(True,1)", make, (True, 1), 2, order // 2, members=[_rot([1, 0, 0], math.pi)]),
            Case(f"{kind}/(False,2)", make, (False, 2), 2, order // 2, members=[_rot([0, 0, 1], math.pi)]),
            Case(f"{kind}/(True,2)", make, (True, 2), 4, order // 4),
            Case(f"{kind}/(False,3)", make, (False, 3), 3, order // 3, members=[_rot([1, 1, 1], 2 * math.pi / 3)]),
        )
    ],
    Case("ico/tetra", sg.ico_group, "tetra", 12, 5, True),
    Case("ico/(True,3)", sg.ico_group, (True, 3), 6, 10),
    Case("ico/(False,5)", sg.ico_group, (False, 5), 5, 12, members=[_rot([PHI, 0, 1], 2 * math.pi / 5)]),
    Case("ico/(True,5)", sg.ico_group, (True, 5), 10, 6),
    Case("octa/tetra", sg.octa_group, "tetra", 12, 2, True, nonmembers=[_rot([0, 0, 1], math.pi / 2)]),
    Case("octa/(True,3)", sg.octa_group, (True, 3), 6, 4),
    Case("octa/(False,4)", sg.octa_group, (False, 4), 4, 6, members=[_rot([0, 0, 1], math.pi / 2)]),
    Case("octa/(True,4)", sg.octa_group, (True, 4), 8, 3),
    Case("fulltetra/tetra", sg.full_tetra_group, "tetra", 12, 2, True, nonmembers=[-_rot([0, 0, 1], math.pi / 2)]),
    # ---- direct products
    Case("C2xC3/(1,3)", lambda: sg.direct_product(sg.cyclic_group(2), sg.cyclic_group(3)), (1, 3), 3, 2),
    Case("C2xC3/(2,1)", lambda: sg.direct_product(sg.cyclic_group(2), sg.cyclic_group(3)), (2, 1), 2, 3),
    Case("C2xC3/(1,1)", lambda: sg.direct_product(sg.cyclic_group(2), sg.cyclic_group(3)), (1, 1), 1, 6),
    Case("C4xD3/(2,(1,3))", lambda: sg.direct_product(sg.cyclic_group(4), sg.dihedral_group(3)), (2, (1, 3)), 12, 2),
    Case(
        "C4xD3/(4,(None,3))", lambda: sg.direct_product(sg.cyclic_group(4), sg.dihedral_group(3)), (4, (None, 3)), 12, 2
    ),
    Case(
        "C3xtetra/(3,(True,2))", lambda: sg.direct_product(sg.cyclic_group(3), sg.tetra_group()), (3, (True, 2)), 12, 3
    ),
    Case("klein4/(1,2)", sg.klein4_group, (1, 2), 2, 2),
    Case("klein4/(2,2)", sg.klein4_group, (2, 2), 4, 1),
    Case("double(C3)/diagonal", lambda: sg.double_group(sg.cyclic_group(3)), "diagonal", 3, 3),
    Case("double(C3)/(3,1)", lambda: sg.double_group(sg.cyclic_group(3)), (3, 1), 3, 3),
    Case("double(D3)/diagonal", lambda: sg.double_group(sg.dihedral_group(3)), "diagonal", 6, 6),
    # On the diagonal, the irrep (k1, k2) of SO(2)×SO(2) carries SO(2)-frequency up to k1 + k2, more
    # than its declared bandlimit max(k1, k2): restriction must decompose at the larger band limit.
    Case("double(SO2)/diagonal", lambda: sg.double_group(sg.so2_group(2)), "diagonal", None, None),
    Case("double(SO2)/(-1,4)", lambda: sg.double_group(sg.so2_group(2)), (-1, 4), None, None),
    Case("SO2xSO2/(3,-1)", lambda: sg.direct_product(sg.so2_group(2), sg.so2_group(2)), (3, -1), None, None),
    Case("SO2xSO2/(-1,-1)", lambda: sg.direct_product(sg.so2_group(2), sg.so2_group(2)), (-1, -1), None, 1),
    # ---- cylinder groups ({±I} × planar group; first factor C_2 = inversion)
    Case("cyl/(1,-1)", lambda: sg.cylinder_group(2), (1, -1), None, 2),
    Case("cyl/(2,-1)", lambda: sg.cylinder_group(2), (2, -1), None, 1),
    Case("cyl/(2,4)", lambda: sg.cylinder_group(2), (2, 4), 8, None),
    Case("cyl/(2,1)", lambda: sg.cylinder_group(2), (2, 1), 2, None),
    Case("fullcyl/(1,(None,-1))", lambda: sg.full_cylinder_group(2), (1, (None, -1)), None, 4),
    Case("fullcyl/(2,(None,-1))", lambda: sg.full_cylinder_group(2), (2, (None, -1)), None, 2),
    Case("fullcyl/(2,(θ,2))", lambda: sg.full_cylinder_group(2), (2, (TH, 2)), 8, None),
    Case("fullcyl/(1,(0.0,-1))", lambda: sg.full_cylinder_group(2), (1, (0.0, -1)), None, 2),
    Case("cyl4/(2,2)", lambda: sg.cylinder_discrete_group(4), (2, 2), 4, 2),
    Case("cyl4/(1,4)", lambda: sg.cylinder_discrete_group(4), (1, 4), 4, 2),
    Case("fullcyl3/(2,(None,3))", lambda: sg.full_cylinder_discrete_group(3), (2, (None, 3)), 6, 2),
    Case("fullcyl3/(1,(1,3))", lambda: sg.full_cylinder_discrete_group(3), (1, (1, 3)), 6, 2),
    Case("fullcyl3/(2,(0,1))", lambda: sg.full_cylinder_discrete_group(3), (2, (0, 1)), 4, 3),
    Case("fullico/(2,tetra)", sg.full_ico_group, (2, "tetra"), 24, 5),
    Case("fullocta/(1,octa)", sg.full_octa_group, (1, "octa"), 24, 2),
]

CASE_IDS = [c.label for c in CASES]
assert len(set(CASE_IDS)) == len(CASE_IDS)


def _setup(case: Case):
    G = case.group()
    sid = case.id(G)
    H, incl, restr = G.subgroup(sid)
    return G, sid, H, incl, restr


def _h_samples(H, n=5, seed=0):
    if H.order() > 0 and H.order() <= 24:
        return list(H.elements)
    return H.sample(n, seed=seed) + list(H.generators)


def _g_irreps(G):
    if G.order() > 0:
        return G.irreps()
    return [G.irrep(*_i) for _i in G.bl_irreps(3 if len(G.identity._v) <= 5 else 2)]


def _has_standard(G):
    try:
        G.standard_representation
    except ValueError:
        return False
    return True


# ------------------------------------------------------------------------------ 1. inclusion
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_inclusion_is_injective_homomorphism(case):
    G, sid, H, incl, restr = _setup(case)
    if case.order is None:
        assert H.continuous
    else:
        assert H.order() == case.order, (H, case.order)
    hs = _h_samples(H)
    imgs = [incl(h) for h in hs]
    for h, gh in zip(hs, imgs):
        assert gh.group == G
        back = restr(gh)
        assert back is not None and back.group == H and back == h
        assert incl(~h) == ~gh
    for a, ia in zip(hs, imgs):
        for b, ib in zip(hs, imgs):
            assert incl(a @ b) == ia @ ib
    assert incl(H.identity) == G.identity
    assert restr(G.identity) == H.identity
    if type(G).__name__ in ("SO3", "O3"):
        # included elements carry the canonical quaternion, like those built by G.element
        for gh in imgs:
            np.testing.assert_allclose(gh._v, G.element(gh.to("Q"))._v, atol=1e-12)
    if H.order() > 0:
        # injective: |H| distinct images
        allh = H.elements
        for i, a in enumerate(allh):
            for b in allh[i + 1 :]:
                assert not (incl(a) == incl(b))


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_restriction_rejects_elements_outside(case):
    G, sid, H, incl, restr = _setup(case)
    if G.order() > 0:
        inside = [g for g in G.elements if restr(g) is not None]
        for g in inside:
            assert incl(restr(g)) == g
        assert len(inside) == H.order()
        assert G.order() // H.order() == case.index
        return
    gs = G.sample(24, seed=3)
    found = [restr(g) for g in gs]
    for g, r in zip(gs, found):
        if r is not None:
            assert r.group == H and incl(r) == g
    n_in = sum(r is not None for r in found)
    if case.index == 1:
        assert n_in == len(gs)
    elif case.index is None:
        # a random element of a continuous group almost surely avoids a lower-dim subgroup
        assert n_in == 0
    else:
        assert 0 < n_in < len(gs)
    # an element of H moved by a small generic rotation leaves H (lower-dim H of SO(3)/O(3))
    if case.index is None and type(G).__name__ in ("SO3", "O3"):
        small = (
            G.element([1e-4, -2e-4, 3e-4], "EV")
            if type(G).__name__ == "SO3"
            else G.element((0, [1e-4, -2e-4, 3e-4]), "EV")
        )
        for h in H.sample(3, seed=9):
            assert restr(incl(h) @ small) is None


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.members or c.nonmembers], ids=[c.label for c in CASES if c.members or c.nonmembers]
)
def test_documented_geometry(case):
    G, sid, H, incl, restr = _setup(case)
    for m in case.members:
        g = G.element(m, "MAT")
        r = restr(g)
        assert r is not None, f"{m} should lie in {sid}"
        assert incl(r) == g
    for m in case.nonmembers:
        assert restr(G.element(m, "MAT")) is None, f"{m} should not lie in {sid}"


@pytest.mark.parametrize("case", [c for c in CASES if c.same_matrices], ids=[c.label for c in CASES if c.same_matrices])
def test_inclusion_preserves_matrices(case):
    """Where H's standard representation is the natural one, ρ_G∘inclusion equals ρ_H."""
    G, sid, H, incl, restr = _setup(case)
    assert _has_standard(G) and _has_standard(H)
    sG, sH = G.standard_representation, H.standard_representation
    assert sG.size == sH.size
    for h in _h_samples(H):
        np.testing.assert_allclose(sG(incl(h)), sH(h), atol=ATOL)


ADJ_CASES = [
    (SO3, _adj_so3, ("ico",)),
    (SO3, _adj_so3, ("tetra",)),
    (SO3, _adj_so3, (True, 3)),
    (SO3, _adj_so3, (TH, 1)),
    (SO3, _adj_so3, (TH, -1)),
    (SO3, _adj_so3, (False, -1)),
    (O3, _adj_o3, ("fulltetra",)),
    (O3, _adj_o3, (True, "octa")),
    (O3, _adj_o3, ("cone", TH, 3)),
    (O3, _adj_o3, ("cone", -1)),
    (O3, _adj_o3, (True, True, -1)),
    (O3, _adj_o3, (True, False, 1)),  # {±I} is normal: its conjugates are itself
    (O3, _adj_o3, (False, False, 4)),
    (O3, _adj_o3, ("mirror",)),
    (O3, _adj_o3, (False, "octa")),
]


@pytest.mark.parametrize("k", range(len(ADJ_CASES)))
def test_adjoint_conjugates(k):
    """``(…, adj)`` is adj⁻¹ H adj: inclusion_adj(h) = adj⁻¹ inclusion(h) adj."""
    make, make_adj, base = ADJ_CASES[k]
    G = make()
    adj = make_adj()
    base_id = base[0] if len(base) == 1 else base
    H0, i0, r0 = G.subgroup(base_id)
    H1, i1, r1 = G.subgroup(base + (adj,))
    assert H0 == H1
    hs = [h for h in _h_samples(H0, 4, seed=5) if not h.is_identity()]
    for h in hs:
        g = ~adj @ i0(h) @ adj
        assert i1(h) == g
        assert r1(g) == h
    if base == (True, False, 1):
        assert all(r1(i0(h)) == h for h in hs)
    else:
        # the conjugate is a different subgroup for a generic adj: some element of H is not in it
        assert any(r1(i0(h)) is None for h in hs)


# ------------------------------------------------------------------------------ aliases
ALIASES = [
    (O3, "o3", (True, "so3")),
    (O3, "so3", (False, "so3")),
    (O3, "inversion", (True, False, 1)),
    (O3, "mirror", ("cone", math.pi, 1)),
    (O3, "trivial", (False, False, 1)),
    (O3, ("cone", 3), ("cone", 0.0, 3)),
    (SO3, (True, 3), (0.0, 3)),
    (SO3, (True, -1), (0.0, -1)),
    (SO3, (TH, 2), (TH + 2 * math.pi, 2)),
    (O3, (False, True, 3), (False, 0.0, 3)),
    (O3, ("cone", TH, 2), ("cone", TH + 2 * math.pi, 2)),
    (O2, (TH, 3), (TH + 2 * math.pi / 3, 3)),
    (O2, (TH, -1), (TH - 2 * math.pi, -1)),
    (_d(6), (4, 2), (1, 2)),
    (_d(6), (-1, 3), (1, 3)),
    (sg.tetra_group, "tetra", "tetra"),
    (sg.octa_group, "trivial", (False, 1)),
    (sg.ico_group, "trivial", (False, 1)),
]


@pytest.mark.parametrize("k", range(len(ALIASES)))
def test_aliases_name_the_same_subgroup(k):
    make, a, b = ALIASES[k]
    G = make()
    Ha, ia, ra = G.subgroup(a)
    Hb, ib, rb = G.subgroup(b)
    assert Ha == Hb
    hs = _h_samples(Ha, 4)
    for h in hs:
        assert ia(h) == ib(h)
    for g in G.sample(6, seed=1) + [ia(h) for h in hs]:
        xa, xb = ra(g), rb(g)
        assert (xa is None) == (xb is None)
        if xa is not None:
            assert xa == xb


SUBGROUP_IS = [
    (SO3, (False, -1), lambda: sg.so2_group(1)),
    (SO3, (True, -1), lambda: sg.o2_group(1)),
    (SO3, (False, 5), _c(5)),
    (SO3, (TH, 5), _d(5)),
    (SO3, (True, 1), _c(2)),
    (SO3, "ico", sg.ico_group),
    (O3, "so3", lambda: sg.so3_group(1)),
    (O3, "o3", lambda: sg.o3_group(1)),
    (O3, (True, "ico"), sg.full_ico_group),
    (O3, (True, "octa"), sg.full_octa_group),
    (O3, "fulltetra", sg.full_tetra_group),
    (O3, (True, False, -1), lambda: sg.cylinder_group(1)),
    (O3, (True, True, -1), lambda: sg.full_cylinder_group(1)),
    (O3, (True, False, 4), lambda: sg.cylinder_discrete_group(4)),
    (O3, (True, TH, 4), lambda: sg.full_cylinder_discrete_group(4)),
    (O3, ("cone", -1), lambda: sg.o2_group(1)),
    (O3, ("cone", 3), _d(3)),
    (O3, "mirror", _c(2)),
    (O3, "inversion", _c(2)),
    (O3, "trivial", _c(1)),
    (O2, (None, -1), lambda: sg.so2_group(1)),
    (O2, (TH, -1), lambda: sg.o2_group(1)),
    (O2, (TH, 1), _c(2)),
    (_d(6), (2, 1), _c(2)),
    (sg.ico_group, "tetra", sg.tetra_group),
    (sg.ico_group, "trivial", _c(1)),
    (sg.octa_group, (True, 4), _d(4)),
    (lambda: sg.double_group(sg.dihedral_group(3)), "diagonal", _d(3)),
    (
        lambda: sg.direct_product(sg.cyclic_group(4), sg.dihedral_group(3)),
        (2, (1, 3)),
        lambda: sg.direct_product(sg.cyclic_group(2), sg.dihedral_group(3)),
    ),
    (lambda: sg.direct_product(sg.cyclic_group(4), sg.dihedral_group(3)), (4, (None, 1)), _c(4)),
    (lambda: sg.direct_product(sg.cyclic_group(4), sg.dihedral_group(3)), (1, (0, 1)), _c(2)),
    (lambda: sg.cylinder_group(2), (1, -1), lambda: sg.so2_group(1)),
]


@pytest.mark.parametrize("k", range(len(SUBGROUP_IS)))
def test_subgroup_is_the_documented_group(k):
    make, sid, expected = SUBGROUP_IS[k]
    H, _, _ = make().subgroup(sid)
    assert H == expected(), (H, expected())


def test_o3_cone_matches_mirror_axis():
    """('cone', θ, 1) contains the mirror through the axis at θ/2 (and z)."""
    G = sg.o3_group(2)
    for th in (0.0, 0.4, 1.1, math.pi, 2.5):
        H, incl, _ = G.subgroup(("cone", th, 1))
        flip = [h for h in H.elements if not h.is_identity()][0]
        p, m = incl(flip).to("MAT")  # O(3): escnn's (parity, rotation matrix)
        m = (-1) ** p * m
        u = np.array([math.cos(th / 2), math.sin(th / 2), 0.0])
        np.testing.assert_allclose(m @ u, u, atol=1e-12)
        np.testing.assert_allclose(m @ [0, 0, 1.0], [0, 0, 1.0], atol=1e-12)
        assert np.linalg.det(m) < 0


def test_finite3d_dihedral_flip_is_perpendicular_half_turn():
    """(True, N) adds a π-rotation about an axis perpendicular to the N-fold axis."""
    axes = {2: [0, 0, 1], 3: [1, 1, 1], 4: [0, 0, 1], 5: [PHI, 0, 1]}  # escnn's 5-fold axis
    for G, Ns in (
        (sg.ico_group(), (2, 3, 5)),
        (sg.octa_group(), (2, 3, 4)),
        (sg.tetra_group(), (2,)),
        (sg.full_tetra_group(), (2,)),
    ):
        for N in Ns:
            H, incl, _ = G.subgroup((True, N))
            ax = np.array(axes[N], float) / np.linalg.norm(axes[N])
            r = incl(H.element((0, 1))).to("MAT")
            np.testing.assert_allclose(r, _rot(ax, 2 * math.pi / N), atol=1e-12)
            f = incl(H.element((1, 0))).to("MAT")
            np.testing.assert_allclose(f @ f, np.eye(3), atol=1e-12)
            assert abs(np.trace(f) + 1) < 1e-12 and np.linalg.det(f) > 0
            w, v = np.linalg.eigh(0.5 * (f + f.T))
            assert abs(v[:, -1] @ ax) < 1e-12


# ------------------------------------------------------------------------------ 2. restriction
def _check_restricted(G, sid, H, incl, rep, hs):
    R = G.restrict_representation(sid, rep)
    assert R.group == H
    assert R.size == rep.size
    assert sum(H.irrep(*i).size for i in R.irreps) == R.size
    for i in R.irreps:
        assert H.irrep(*i).group == H
    Q = R.change_of_basis
    np.testing.assert_allclose(Q.T @ Q, np.eye(R.size), atol=ATOL)
    np.testing.assert_allclose(R.matrices(hs), rep.matrices([incl(h) for h in hs]), atol=ATOL)
    return R


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_restricted_representations(case):
    G, sid, H, incl, restr = _setup(case)
    hs = H.sample(4, seed=2) + list(H.generators)
    reps = list(_g_irreps(G))
    if G.order() > 0:
        reps.append(G.regular_representation)
    if _has_standard(G):
        reps.append(G.standard_representation)
    for rep in reps:
        R = _check_restricted(G, sid, H, incl, rep, hs)
        assert rep.restrict(sid) == R
    # a non-trivial change of basis is carried through
    rng = np.random.default_rng(0)
    rep = sg.directsum([reps[1], reps[-1]])
    q, _ = np.linalg.qr(rng.normal(size=(rep.size, rep.size)))
    _check_restricted(G, sid, H, incl, sg.change_basis(rep, q), hs)
    # restricting the trivial representation gives H's trivial irrep
    assert G.restrict_representation(sid, G.trivial_representation).irreps == [H.trivial_irrep_id]


FINITE_CASES = [c for c in CASES if c.group().order() > 0]


@pytest.mark.parametrize("case", FINITE_CASES, ids=[c.label for c in FINITE_CASES])
def test_restricted_multiplicities_by_characters(case):
    """The restriction's irrep multiplicities match the character inner products on H."""
    G, sid, H, incl, restr = _setup(case)
    allh = H.elements
    for psi in G.irreps():
        R = G.restrict_representation(sid, psi)
        chi = np.trace(psi.matrices([incl(h) for h in allh]), axis1=1, axis2=2)
        for sigma in H.irreps():
            chs = np.trace(sigma.matrices(allh), axis1=1, axis2=2)
            m = float(chi @ chs) / len(allh) / sigma.sum_of_squares_constituents
            assert abs(m - round(m)) < 1e-9
            assert R.irreps.count(sigma.id) == round(m), (psi.id, sigma.id)


def test_restriction_of_pointwise_representation_keeps_pointwise():
    G = sg.dihedral_group(6)
    R = G.regular_representation.restrict((0, 3))
    assert "pointwise" in R.supported_nonlinearities
    assert R.size == 12


def test_restrict_rejects_foreign_representation():
    with pytest.raises(ValueError, match="repr"):
        sg.so3_group().restrict_representation((False, 4), sg.o3_group().irrep(0, 1))
    with pytest.raises(TypeError):
        sg.so3_group().restrict_representation((False, 4), "irrep")


# ------------------------------------------------------------------------------ 3. finite index
FINITE_INDEX = [c for c in CASES if c.index is not None]


def _frobenius_irreps(G, sigma):
    if G.order() > 0:
        return G.irreps()
    return [G.irrep(*_i) for _i in G.bl_irreps(sigma.bandlimit + 2)]


def _perm_check(rho, gs):
    m = rho.matrices(gs)
    np.testing.assert_allclose(np.einsum("nij,nkj->nik", m, m), np.broadcast_to(np.eye(rho.size), m.shape), atol=ATOL)


def _homomorphism_check(rho, gs):
    m = rho.matrices(gs)
    for i, a in enumerate(gs):
        for j, b in enumerate(gs):
            np.testing.assert_allclose(rho(a @ b), m[i] @ m[j], atol=ATOL)
    np.testing.assert_allclose(rho(gs[0].group.identity), np.eye(rho.size), atol=ATOL)


@pytest.mark.parametrize("case", FINITE_INDEX, ids=[c.label for c in FINITE_INDEX])
def test_quotient_and_induced_representations(case):
    G, sid, H, incl, restr = _setup(case)
    idx = case.index
    gs = G.sample(4, seed=8) + list(G.generators)
    # quotient: permutation representation on G/H, containing the trivial irrep once
    Qr = G.quotient_representation(sid)
    assert Qr.group == G and Qr.size == idx
    _homomorphism_check(Qr, gs)
    mats = Qr.matrices(gs)
    np.testing.assert_allclose(mats, np.round(mats), atol=1e-9)
    assert np.all(np.abs(np.round(mats).sum(axis=1) - 1) < 1e-9)
    _perm_check(Qr, gs)
    assert Qr.irreps.count(G.trivial_irrep_id) == 1
    assert "pointwise" in Qr.supported_nonlinearities
    # the quotient's H-fixed coset: H fixes the coset of the identity
    fixed = [np.round(Qr(incl(h))) for h in _h_samples(H, 3)]
    common = np.all([np.diag(m) > 0.5 for m in fixed], axis=0)
    assert common.any()
    if G.order() > 0:
        # every coset's stabiliser is a conjugate of H; the coset(s) fixed by H have stabiliser H
        P = np.round(Qr.matrices(G.elements))
        stab = np.diagonal(P, axis1=1, axis2=2) > 0.5  # [g, coset]
        assert np.all(stab.sum(0) == H.order())
        in_h = np.array([restr(g) is not None for g in G.elements])
        for c in np.flatnonzero(common):
            assert np.array_equal(stab[:, c], in_h)

    if H.order() > 0:
        sigmas = H.irreps()
    else:
        sigmas = [H.trivial_representation] + [
            s for s in [H.irrep(*_i) for _i in H.bl_irreps(2)] if not s.is_trivial()
        ][:2]
    for sigma in sigmas:
        ind = G.induced_representation(sid, sigma)
        assert ind.group == G
        assert ind.size == idx * sigma.size
        _homomorphism_check(ind, gs[:4])
        _perm_check(ind, gs[:4])  # orthogonal (σ is)
        np.testing.assert_allclose(ind.change_of_basis.T @ ind.change_of_basis, np.eye(ind.size), atol=ATOL)
        if sigma.is_trivial():
            assert sorted(ind.irreps) == sorted(Qr.irreps)
        # Frobenius reciprocity: s_ψ m(ψ, Ind σ) = s_σ m(σ, Res ψ)
        total = 0
        for psi in _frobenius_irreps(G, sigma):
            m_ind = ind.irreps.count(psi.id)
            m_res = G.restrict_representation(sid, psi).irreps.count(sigma.id)
            assert psi.sum_of_squares_constituents * m_ind == sigma.sum_of_squares_constituents * m_res, (
                case.label,
                sigma.id,
                psi.id,
                m_ind,
                m_res,
            )
            total += m_ind * psi.size
        assert total == ind.size


def test_induced_regular_from_trivial_subgroup_is_regular():
    for G, sid in ((sg.dihedral_group(5), (None, 1)), (sg.octa_group(), "trivial"), (sg.cyclic_group(6), 1)):
        H, _, _ = G.subgroup(sid)
        ind = G.induced_representation(sid, H.trivial_representation)
        assert ind.irreps_multiplicities() == G.regular_representation.irreps_multiplicities()


def test_infinite_index_rejects_induction():
    for G, sid in (
        (sg.so3_group(2), (False, 4)),
        (sg.so2_group(2), 3),
        (sg.o2_group(2), (0.3, 2)),
        (sg.o3_group(2), "ico"),
        (sg.cylinder_group(2), (2, 3)),
    ):
        H, _, _ = G.subgroup(sid)
        with pytest.raises(ValueError, match="subgroup_id"):
            G.induced_representation(sid, H.trivial_representation)


def test_quotient_band_limited_for_infinite_index():
    """Band-limited quotient: ψ appears dim(ψ^H)/s_ψ times, i.e. as often as H's invariants."""
    for G, sid, L in (
        (sg.so3_group(3), (False, -1), 3),
        (sg.so3_group(3), (True, -1), 3),
        (sg.o3_group(2), ("cone", -1), 2),
        (sg.so3_group(3), "octa", 4),
        (sg.o2_group(3), (None, 2), 3),
    ):
        H, _, _ = G.subgroup(sid)
        Qr = G.quotient_representation(sid, maximum_frequency=L)
        for psi in [G.irrep(*_i) for _i in G.bl_irreps(L)]:
            n_inv = G.restrict_representation(sid, psi).irreps.count(H.trivial_irrep_id)
            assert Qr.irreps.count(psi.id) * psi.sum_of_squares_constituents == n_inv
    # S^2 = SO(3)/SO(2): every degree once
    Qr = sg.so3_group(3).quotient_representation((False, -1), maximum_frequency=3)
    assert Qr.irreps == [(0,), (1,), (2,), (3,)]


def test_induced_rejects_foreign_representation():
    G = sg.dihedral_group(4)
    with pytest.raises(ValueError, match="repr"):
        G.induced_representation((None, 4), sg.cyclic_group(2).trivial_representation)
    with pytest.raises(TypeError):
        G.induced_representation((None, 4), None)


# ------------------------------------------------------------------------------ 4. bad ids
BAD_IDS = [
    (_c(6), [4, 0, -1, 7, 12, True, 2.0, "2", (2,), None]),
    (_c(1), [2, 0, -1]),
    (_d(6), [3, (None, 4), (None, 0), (None, -1), (1.5, 2), ("a", 2), (0, 4), (None,), (0, 2, 1), (None, 2.0), "D3"]),
    (SO2, [0, -2, 1.5, True, (None, -1), "so2", None]),
    (O2, [-1, 3, (None, 0), (None, -2), ("x", 2), (True, 2), (None, 1.5), (0.3,), (0.3, 2, 1), "o2"]),
    (
        SO3,
        [
            "o3",
            "cube",
            "fulltetra",
            (False,),
            (False, 0),
            (False, -2),
            (False, 2.5),
            (True, True),
            ("x", 3),
            (False, 3, 4),
            (True, "ico"),
            (None, "so3"),
            3,
            None,
        ],
    ),
    (
        O3,
        [
            "ico3",
            "cube",
            "O3",
            (True, "foo"),
            ("cone",),
            ("cone", "x", 3),
            ("cone", 0.5, 3, 4),
            ("cone", 0),
            ("cone", 2.5),
            (True, False, 0),
            (True, False),
            (True, True, -3),
            (2, "so3"),
            (False, "x", 3),
            5,
            None,
        ],
    ),
    (
        sg.ico_group,
        [
            "octa",
            "so3",
            "fulltetra",
            (False, 4),
            (True, 4),
            (False, 6),
            (False, 0),
            (False, -1),
            (2, 3),
            (False, 2.0),
            (False, True),
            5,
        ],
    ),
    (sg.octa_group, ["ico", (False, 5), (True, 5), (False, -1)]),
    (sg.tetra_group, ["octa", "fulltetra", (False, 4), (True, 3)]),
    (sg.full_tetra_group, ["octa", "ico", (False, 4), (True, 3)]),
    (
        lambda: sg.direct_product(sg.cyclic_group(2), sg.cyclic_group(3)),
        ["diagonal", 1, (1,), (1, 2), (3, 1), (1, 3, 1)],
    ),
    (lambda: sg.double_group(sg.cyclic_group(3)), ["diag", (2, 3), (1,)]),
    (lambda: sg.cylinder_group(2), [(1, 0), (3, -1), (1, (None, -1)), "so2"]),
    (lambda: sg.full_cylinder_group(2), [(1, -1), (2, (None, 0)), (2, 4)]),
]
BAD_FLAT = [(k, j) for k, (_, ids) in enumerate(BAD_IDS) for j in range(len(ids))]


@pytest.mark.parametrize("k,j", BAD_FLAT, ids=[f"{BAD_IDS[k][0]().name}-{BAD_IDS[k][1][j]!r}" for k, j in BAD_FLAT])
def test_bad_subgroup_ids_raise(k, j):
    make, ids = BAD_IDS[k]
    G = make()
    bad = ids[j]
    with pytest.raises(ValueError, match="subgroup_id"):
        G.subgroup(bad)
    with pytest.raises(ValueError, match="subgroup_id"):
        G.restrict_representation(bad, G.trivial_representation)
    with pytest.raises(ValueError, match="subgroup_id"):
        G.trivial_representation.restrict(bad)
    with pytest.raises(ValueError, match="subgroup_id"):
        G.quotient_representation(bad, 1)
    with pytest.raises(ValueError, match="subgroup_id"):
        G.induced_representation(bad, sg.cyclic_group(1).trivial_representation)


def test_adjoint_of_wrong_group_rejected():
    with pytest.raises(ValueError, match="subgroup_id"):
        sg.so3_group(2).subgroup(("ico", _adj_o3()))
    with pytest.raises(ValueError, match="subgroup_id"):
        sg.o3_group(2).subgroup((True, False, 3, _adj_so3()))


def test_subgroup_wrong_element_types():
    G = sg.so3_group(2)
    H, incl, restr = G.subgroup((False, 4))
    with pytest.raises(TypeError):
        incl(G.identity)
    with pytest.raises(TypeError):
        restr(H.identity)


def test_numpy_scalars_in_ids():
    i = np.int64
    for G, a, b in (
        (sg.so3_group(2), (False, i(4)), (False, 4)),
        (sg.o3_group(2), ("cone", i(3)), ("cone", 3)),
        (sg.o3_group(2), (True, np.float64(TH), i(3)), (True, TH, 3)),
        (sg.cyclic_group(6), i(3), 3),
        (sg.dihedral_group(6), (i(1), i(3)), (1, 3)),
        (sg.ico_group(), (True, i(5)), (True, 5)),
        (sg.o2_group(2), (np.float64(TH), i(3)), (TH, 3)),
        (sg.so2_group(2), i(-1), -1),
    ):
        Ha, ia, _ = G.subgroup(a)
        Hb, ib, _ = G.subgroup(b)
        assert Ha == Hb
        for h in Ha.sample(3, seed=0):
            assert ia(h) == ib(h)
        assert G.restrict_representation(a, G.standard_representation) == G.restrict_representation(
            b, G.standard_representation
        )


def test_subgroup_is_cached_and_stable():
    G = sg.o3_group(2)
    a = G.subgroup(("cone", TH, 3))
    b = G.subgroup(("cone", TH, 3))
    assert a[0] is b[0]
    h = a[0].sample(seed=1)
    assert a[1](h) == b[1](h)
