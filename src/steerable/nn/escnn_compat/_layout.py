"""escnn's layout of a steerable layer's ``weights`` (facts of its ``BlocksBasisExpansion``).

escnn groups the fields by representation *name*. For every (input name, output name) pair with
a non-empty kernel basis — the pairs taken in sorted order — the weights hold one coefficient
vector per (output occurrence, input occurrence), output-major; the pair's sampled basis
``(dim, d_out, d_in, S)`` is stored in the state_dict under
``_basisexpansion.block_expansion_('<in>', '<out>').sampled_basis`` (names with ``.`` written
``^``). The expanded filter is ``(C_out, C_in, S)``.
"""

from __future__ import annotations

import re

import numpy as np

_BLOCK_KEY = re.compile(r"^_basisexpansion\.block_expansion_\('(.*)', '(.*)'\)\.sampled_basis$")


def escape(name: str) -> str:
    return name.replace(".", "^")


def block_key(in_name: str, out_name: str) -> str:
    return f"_basisexpansion.block_expansion_('{escape(in_name)}', '{escape(out_name)}').sampled_basis"


def stored_pairs(sub: dict) -> dict[tuple[str, str], object]:
    """{(escaped in name, escaped out name): sampled basis} found in a module's state_dict."""
    out = {}
    for k, v in sub.items():
        m = _BLOCK_KEY.match(k)
        if m:
            out[(m.group(1), m.group(2))] = v
    return out


def channels_by_name(reps) -> dict[str, np.ndarray]:
    """For every representation name, the channels of its fields in field order."""
    pos = 0
    out: dict[str, list] = {}
    for r in reps:
        out.setdefault(r.name, []).extend(range(pos, pos + r.size))
        pos += r.size
    return {k: np.asarray(v, dtype=np.int64) for k, v in out.items()}


def counts_by_name(reps) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in reps:
        out[r.name] = out.get(r.name, 0) + 1
    return out


def expand(weights: np.ndarray, bases: dict[tuple[str, str], np.ndarray], in_reps, out_reps, where: str) -> np.ndarray:
    """escnn's filter (C_out, C_in, S) from its weight vector and the per-pair sampled bases
    (keyed by unescaped names; pairs absent have an empty basis)."""
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    in_ch, out_ch = channels_by_name(in_reps), channels_by_name(out_reps)
    in_n, out_n = counts_by_name(in_reps), counts_by_name(out_reps)
    c_in = sum(r.size for r in in_reps)
    c_out = sum(r.size for r in out_reps)
    pairs = sorted(bases)
    s_points = {np.asarray(b).shape[-1] for b in bases.values()}
    if len(s_points) > 1:
        raise ValueError(f"{where}: escnn's sampled bases disagree on the number of kernel points {sorted(s_points)}")
    S = s_points.pop() if s_points else 1
    need = 0
    for p in pairs:
        if p[0] not in in_n or p[1] not in out_n:
            raise ValueError(
                f"{where}: the escnn checkpoint has a kernel basis for the representation pair {p}, but the "
                f"layer's fields are {sorted(in_n)} -> {sorted(out_n)}: the model's field types differ from "
                "the checkpoint's"
            )
        need += np.asarray(bases[p]).shape[0] * in_n[p[0]] * out_n[p[1]]
    if need != w.size:
        raise ValueError(
            f"{where}: the escnn checkpoint has {w.size} weights but its kernel bases for these field types "
            f"need {need}: the model's field types or basis differ from the checkpoint's"
        )
    filt = np.zeros((c_out, c_in, S))
    p0 = 0
    for p in pairs:
        basis = np.asarray(bases[p], dtype=np.float64)  # (dim, d_out, d_in, S)
        dim, do, di, _ = basis.shape
        no, ni = out_n[p[1]], in_n[p[0]]
        coeff = w[p0 : p0 + no * ni * dim].reshape(no, ni, dim)
        p0 += no * ni * dim
        block = np.einsum("abk,kops->aobps", coeff, basis).reshape(no * do, ni * di, S)
        filt[np.ix_(out_ch[p[1]], in_ch[p[0]])] = block
    return filt
