"""The :class:`steerable.kernels.BasisStructure` of the layers' basis managers: which field,
irrep copy, harmonic, ring and intertwiner every learnable weight belongs to, and where its irrep
block sits in the (C_out, C_in) filter (what ``basisexpansion.structure`` returns)."""

from __future__ import annotations

import numpy as np

from steerable.kernels._basis import pair_basis_structure
from steerable.kernels._structure import BasisStructure, StructureBuilder, irrep_offsets, structure_from_attributes

__all__ = ["block_expansion_structure", "rep_expansion_structure", "local_rep_structure", "homomorphism_structure"]


def block_expansion_structure(be) -> BasisStructure:
    """The structure of a :class:`BlockBasisExpansion` (grid and point convolutions): per
    irreps-pair type, its basis elements at every (output slot, input slot) pair, in weight order."""
    b = StructureBuilder((be.out_size, be.in_size))
    for (name, *_), (os_, is_) in zip(be._types, be._type_slots):
        local = pair_basis_structure(be._pair_bases[name])
        # a slot is (field, irrep id, channel offset in the irrep basis, position, index in its field)
        b.add([(sl[0], sl[4], sl[2]) for sl in os_], [(sl[0], sl[4], sl[2]) for sl in is_], local)
    return b.build()


def local_rep_structure(basis, in_repr, out_repr, attrs) -> BasisStructure:
    """The structure of a user basis between two field representations: its own ``structure``
    when it has one, else read from its attribute dicts ``attrs``."""
    s = getattr(basis, "structure", None)
    if s is not None and len(s) == len(attrs) and s.shape == (out_repr.size, in_repr.size):
        return s
    return structure_from_attributes(
        attrs, (out_repr.size, in_repr.size), in_repr.group, list(in_repr.irreps), list(out_repr.irreps)
    )


def rep_expansion_structure(re) -> BasisStructure:
    """The structure of a :class:`RepBasisExpansion`: per pair of field representations, the
    kept elements of its basis at every (output field, input field) pair, in weight order."""
    b = StructureBuilder((re.out_size, re.in_size))
    for (name, *_), (of, inf) in zip(re._types, re._type_fields):
        local, keep = re._local_structures[name]
        b.add([(f, 0, re._out_starts[f]) for f in of], [(f, 0, re._in_starts[f]) for f in inf], local, keep)
    return b.build()


def homomorphism_structure(in_repr, out_repr) -> BasisStructure:
    """The structure of ``steerable.group.homomorphism_space(in_repr, out_repr)``: its elements in
    order, one endomorphism of ψ per pair (output copy, input copy) of equal irreps ψ; no harmonic
    (code -1), ring 0, radius 0."""
    G = in_repr.group
    oo, oi = irrep_offsets(G, out_repr.irreps), irrep_offsets(G, in_repr.irreps)
    b = StructureBuilder((out_repr.size, in_repr.size))
    els = []
    for a, ida in enumerate(out_repr.irreps):
        for c, idc in enumerate(in_repr.irreps):
            if ida != idc:
                continue
            psi = G.irrep(*ida)
            b.irrep_code(tuple(ida), psi.name)
            for e in range(len(psi.endomorphism_basis())):
                els.append(
                    {
                        "in_field": 0,
                        "out_field": 0,
                        "in_irrep": ida,
                        "out_irrep": ida,
                        "in_irrep_idx": c,
                        "out_irrep_idx": a,
                        "harmonic": None,
                        "frequency": 0,
                        "ring": 0,
                        "radius": 0.0,
                        "sigma": 0.0,
                        "inner": e,
                        "rows": (int(oo[a]), int(oo[a + 1])),
                        "cols": (int(oi[c]), int(oi[c + 1])),
                    }
                )
    b.add_elements(els)
    return b.build()


def linear_structure(lin) -> BasisStructure:
    """The structure of a :class:`steerable.nn.Linear` layer's weights (rows / columns in the
    layer's own (C_out, C_in) channel order)."""
    b = StructureBuilder((lin.out_type.size, lin.in_type.size))
    fo, fi = np.asarray(lin.out_type.fields_start), np.asarray(lin.in_type.fields_start)
    for a, row in enumerate(lin._blocks):
        o_fields = [f for f, r in enumerate(lin.out_type.representations) if r == lin._outs[a]]
        for c, blk in enumerate(row):
            if blk is None:
                continue
            i_fields = [f for f, r in enumerate(lin.in_type.representations) if r == lin._ins[c]]
            local = homomorphism_structure(lin._ins[c], lin._outs[a])
            if len(local) != blk[4]:  # pragma: no cover - internal invariant
                raise RuntimeError("Linear: the intertwiner basis does not match its structure")
            b.add([(f, 0, fo[f]) for f in o_fields], [(f, 0, fi[f]) for f in i_fields], local)
    return b.build()
