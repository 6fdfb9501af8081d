"""Shared group fixtures."""

from __future__ import annotations

import pytest

from steerable import group as sg

# name -> factory; continuous groups use a small maximum frequency so tests stay fast
GROUP_FACTORIES = {
    "C1": lambda: sg.trivial_group(),
    "C2": lambda: sg.cyclic_group(2),
    "C5": lambda: sg.cyclic_group(5),
    "C8": lambda: sg.cyclic_group(8),
    "D1": lambda: sg.dihedral_group(1),
    "D4": lambda: sg.dihedral_group(4),
    "D5": lambda: sg.dihedral_group(5),
    "SO2": lambda: sg.so2_group(3),
    "O2": lambda: sg.o2_group(3),
    "SO3": lambda: sg.so3_group(3),
    "O3": lambda: sg.o3_group(2),
    "ico": lambda: sg.ico_group(),
    "fullico": lambda: sg.full_ico_group(),
    "octa": lambda: sg.octa_group(),
    "fullocta": lambda: sg.full_octa_group(),
    "tetra": lambda: sg.tetra_group(),
    "fulltetra": lambda: sg.full_tetra_group(),
    "klein4": lambda: sg.klein4_group(),
    "cyl": lambda: sg.cylinder_group(2),
    "fullcyl": lambda: sg.full_cylinder_group(2),
    "cyl4": lambda: sg.cylinder_discrete_group(4),
    "fullcyl3": lambda: sg.full_cylinder_discrete_group(3),
    "double_C3": lambda: sg.double_group(sg.cyclic_group(3)),
    "SO2xSO2": lambda: sg.direct_product(sg.so2_group(2), sg.so2_group(2)),
    "C3xtetra": lambda: sg.direct_product(sg.cyclic_group(3), sg.tetra_group()),
}
ALL_GROUPS = list(GROUP_FACTORIES)
FINITE_GROUPS = [n for n in ALL_GROUPS if GROUP_FACTORIES[n]().order() > 0]
CONTINUOUS_GROUPS = [n for n in ALL_GROUPS if GROUP_FACTORIES[n]().order() < 0]


@pytest.fixture(params=ALL_GROUPS)
def any_group(request):
    return GROUP_FACTORIES[request.param]()


@pytest.fixture(params=FINITE_GROUPS)
def finite_group(request):
    return GROUP_FACTORIES[request.param]()


@pytest.fixture(params=CONTINUOUS_GROUPS)
def continuous_group(request):
    return GROUP_FACTORIES[request.param]()
