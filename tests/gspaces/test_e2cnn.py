"""e2cnn's class-style planar G-spaces over GSpace2D."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from steerable import group as sg
from steerable import gspaces
from steerable.gspaces import Flip2dOnR2, FlipRot2dOnR2, GeneralOnR2, Rot2dOnR2, TrivialOnR2


@pytest.mark.parametrize(
    "cls_space, factory, name",
    [
        (lambda: Rot2dOnR2(8), lambda: gspaces.rot2dOnR2(8), "8-Rotations"),
        (lambda: Rot2dOnR2(N=-1, maximum_frequency=4), lambda: gspaces.rot2dOnR2(-1, 4), "Continuous-Rotations"),
        (lambda: FlipRot2dOnR2(4), lambda: gspaces.flipRot2dOnR2(4), "Flip_4-Rotations(f=1.57080)"),
        (lambda: FlipRot2dOnR2(6, axis=0.0), lambda: gspaces.flipRot2dOnR2(6, axis=0.0), "Flip_6-Rotations(f=0.00000)"),
        (
            lambda: FlipRot2dOnR2(-1, maximum_frequency=3),
            lambda: gspaces.flipRot2dOnR2(-1, 3),
            "Flip_Continuous-Rotations(f=1.57080)",
        ),
        (lambda: Flip2dOnR2(), lambda: gspaces.flip2dOnR2(), "Flips"),
        (lambda: Flip2dOnR2(axis=np.pi / 4), lambda: gspaces.flip2dOnR2(np.pi / 4), "Flips"),
        (lambda: TrivialOnR2(), lambda: gspaces.trivialOnR2(), "Trivial"),
    ],
)
def test_classes_equal_the_factories(cls_space, factory, name):
    a, b = cls_space(), factory()
    assert a == b and hash(a) == hash(b) and a.name == name
    assert isinstance(a, gspaces.GSpace2D) and isinstance(a, GeneralOnR2)
    assert a.fibergroup == b.fibergroup and a.dimensionality == 2
    assert a.trivial_repr == b.trivial_repr and a.regular_repr == b.regular_repr
    np.testing.assert_allclose(a.basespace_matrices(b.testing_elements), b.basespace_matrices(b.testing_elements))
    assert (a.rotations_order, a.flips_order) == (b.rotations_order, b.flips_order)
    assert len(a.testing_elements) == len(b.testing_elements)
    c = pickle.loads(pickle.dumps(a))
    assert type(c) is type(a) and c == a and c.name == a.name
    assert a.type(a.trivial_repr).gspace == a


def test_isinstance_by_structure():
    assert isinstance(gspaces.rot2dOnR2(8), Rot2dOnR2) and isinstance(gspaces.rot2dOnR2(), Rot2dOnR2)
    assert isinstance(gspaces.flipRot2dOnR2(4), FlipRot2dOnR2) and not isinstance(gspaces.flipRot2dOnR2(4), Rot2dOnR2)
    assert isinstance(gspaces.flip2dOnR2(), Flip2dOnR2) and isinstance(gspaces.flipRot2dOnR2(1), Flip2dOnR2)
    assert isinstance(gspaces.trivialOnR2(), TrivialOnR2) and not isinstance(gspaces.trivialOnR2(), Rot2dOnR2)
    assert isinstance(gspaces.flipRot2dOnR2(8).restrict((None, 4))[0], Rot2dOnR2)
    assert not isinstance(gspaces.rot2dOnR3(4), GeneralOnR2) and not isinstance(3, Rot2dOnR2)
    assert issubclass(Rot2dOnR2, GeneralOnR2) and issubclass(GeneralOnR2, gspaces.GSpace2D)


def test_fibergroup_argument_and_axis():
    gs = Rot2dOnR2(fibergroup=sg.cyclic_group(6))
    assert gs == gspaces.rot2dOnR2(6)
    gs = FlipRot2dOnR2(fibergroup=sg.dihedral_group(3), axis=0.0)
    assert gs == gspaces.flipRot2dOnR2(3, axis=0.0) and gs.axis == 0.0
    gs = FlipRot2dOnR2(fibergroup=sg.o2_group(2))
    assert gs.fibergroup.continuous and gs.rotations_order == -1
    assert Flip2dOnR2(fibergroup=sg.cyclic_group(2)).axis == np.pi / 2
    assert TrivialOnR2(fibergroup=sg.cyclic_group(1)) == gspaces.trivialOnR2()
    # the flip of the default axis reverses columns (x -> -x), as for flipRot2dOnR2
    f = FlipRot2dOnR2(4)
    np.testing.assert_allclose(f.basespace_matrix(f.fibergroup.element((1, 0))), np.diag([-1.0, 1.0]), atol=1e-12)
    sub, _, _ = FlipRot2dOnR2(8).restrict((0, 1))
    assert isinstance(sub, Flip2dOnR2) and sub == Flip2dOnR2()


def test_bad_arguments():
    with pytest.raises(ValueError, match="N"):
        Rot2dOnR2()
    with pytest.raises(ValueError, match="N"):
        Rot2dOnR2(1)
    with pytest.raises(ValueError, match="maximum_frequency"):
        Rot2dOnR2(4, maximum_frequency=3)
    with pytest.raises(ValueError, match="fibergroup"):
        Rot2dOnR2(fibergroup=sg.dihedral_group(4))
    with pytest.raises(ValueError, match="maximum_frequency"):
        FlipRot2dOnR2(fibergroup=sg.dihedral_group(4), maximum_frequency=2)
    with pytest.raises(TypeError, match="fibergroup"):
        TrivialOnR2(fibergroup="C1")
    with pytest.raises(ValueError, match="fibergroup"):
        Flip2dOnR2(fibergroup=sg.cyclic_group(3))
    with pytest.raises(TypeError, match="axis"):
        FlipRot2dOnR2(4, axis="x")
    with pytest.raises(TypeError, match="abstract"):
        GeneralOnR2((None, 4))
