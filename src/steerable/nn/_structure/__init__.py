"""Structural modules: sequences, branches and merges, field permutations, restriction to a
subgroup, disentangling change of basis, identity and the radial mask (one module a file)."""

from steerable.nn._structure._branching import BranchingModule
from steerable.nn._structure._disentangle import DisentangleModule
from steerable.nn._structure._identity import IdentityModule
from steerable.nn._structure._mask import MaskModule
from steerable.nn._structure._merge import MergeModule
from steerable.nn._structure._multiple import MultipleModule
from steerable.nn._structure._reshuffle import ReshuffleModule
from steerable.nn._structure._restriction import RestrictionModule
from steerable.nn._structure._sequential import SequentialModule

__all__ = [
    "SequentialModule",
    "MultipleModule",
    "BranchingModule",
    "MergeModule",
    "ReshuffleModule",
    "RestrictionModule",
    "DisentangleModule",
    "IdentityModule",
    "MaskModule",
]
