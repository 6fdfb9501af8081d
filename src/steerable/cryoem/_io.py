"""Reading and writing cryo-EM data: MRC maps and particle stacks through the ``mrcfile``
package (optional: ``pip install mrcfile``), and RELION 3.1 STAR metadata (an optics table and a
particles table) in pure Python.

Axis conventions. MRC arrays are indexed ``[z, y, x]`` (x fastest) and RELION images
``[y, x]``; :mod:`steerable.cryoem` indexes images ``[x, y]`` and volumes ``[x, y, z]``, so the
image arrays are used as they are (our x is RELION's Y) and volumes are transposed. Poses
convert by the axis swap ``P`` (``R = P A P``, ``A`` RELION's ZYZ Euler matrix) and origins
``(rlnOriginYAngst, rlnOriginXAngst)`` in pixels, plus ½ pixel: RELION's image centre is
pixel ``N/2``, ours ``(N-1)/2``. Astigmatic defocus is averaged: ``(U + V) / 2``.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch

from ._ctf import CTFParams
from ._simulate import ParticleStack

__all__ = [
    "euler_to_matrix",
    "matrix_to_euler",
    "read_mrc",
    "read_star",
    "write_mrc",
    "write_star",
    "load_relion",
    "save_relion",
]

_SWAP = torch.tensor([[0.0, 1, 0], [1, 0, 0], [0, 0, 1]], dtype=torch.float64)


def _mrcfile():
    try:
        import mrcfile
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "reading and writing MRC files needs the mrcfile package: pip install 'steerable[cryoem]'"
        ) from e
    return mrcfile


def write_mrc(
    path: str | os.PathLike, data: torch.Tensor | np.ndarray, *, pixel_size: float = 1.0, volume: bool = True
) -> None:
    """Write a volume ``(N, N, N)`` indexed ``[x, y, z]`` (``volume=True``) or an image stack
    ``(n, N, N)`` indexed ``[i, x, y]`` (``volume=False``) as float32 MRC with ``pixel_size`` Å.

    >>> import tempfile, pathlib
    >>> import torch
    >>> from steerable.cryoem import read_mrc, write_mrc
    >>> v = torch.rand(4, 5, 6)
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "v.mrc"
    >>> write_mrc(p, v, pixel_size=2.0)
    >>> bool(torch.equal(read_mrc(p)[0], v)), read_mrc(p)[1]
    (True, 2.0)
    """
    arr = np.asarray(data.detach().cpu() if isinstance(data, torch.Tensor) else data, dtype=np.float32)
    if arr.ndim != 3:
        raise ValueError(f"data: expected a 3-D array (a volume or an image stack), got shape {arr.shape}")
    if not pixel_size > 0:
        raise ValueError(f"pixel_size: expected a positive number (Å), got {pixel_size!r}")
    out = np.ascontiguousarray(np.transpose(arr, (2, 0, 1)) if volume else arr)
    mrc = _mrcfile()
    with mrc.new(os.fspath(path), overwrite=True) as f:
        f.set_data(out)
        if not volume:
            f.set_image_stack()
        f.voxel_size = pixel_size


def read_mrc(path: str | os.PathLike, *, volume: bool | None = None) -> tuple[torch.Tensor, float]:
    """``(data, pixel_size)`` of an MRC file: a volume as ``[x, y, z]`` or an image stack as
    ``[i, x, y]`` (``volume=None``: a stack if the header says so, or the file ends in ``.mrcs``)."""
    mrc = _mrcfile()
    with mrc.open(os.fspath(path), permissive=True) as f:
        arr = np.array(f.data, dtype=np.float32)
        stack = f.is_image_stack() or os.fspath(path).endswith(".mrcs") if volume is None else not volume
        pixel = float(f.voxel_size.x) or 1.0
    if arr.ndim == 2:
        arr, stack = arr[None], True
    if not stack:
        arr = np.transpose(arr, (1, 2, 0))
    return torch.from_numpy(np.ascontiguousarray(arr)), pixel


def euler_to_matrix(rot: torch.Tensor, tilt: torch.Tensor, psi: torch.Tensor) -> torch.Tensor:
    """RELION's ZYZ Euler angles (degrees) to its rotation matrices ``A`` (``(n, 3, 3)``):
    ``A = R_z(psi) R_y(tilt) R_z(rot)`` with the passive (frame) rotations ``R``.

    >>> import torch
    >>> from steerable.cryoem import euler_to_matrix, matrix_to_euler
    >>> a = euler_to_matrix(torch.tensor([10.0]), torch.tensor([20.0]), torch.tensor([30.0]))
    >>> back = matrix_to_euler(a)
    >>> [round(float(x), 6) for x in back]
    [10.0, 20.0, 30.0]
    """
    a, b, g = (torch.as_tensor(x, dtype=torch.float64) * math.pi / 180 for x in (rot, tilt, psi))
    ca, sa, cb, sb, cg, sg = a.cos(), a.sin(), b.cos(), b.sin(), g.cos(), g.sin()
    cc, cs, sc, ss = cb * ca, cb * sa, sb * ca, sb * sa
    return torch.stack(
        [
            torch.stack([cg * cc - sg * sa, cg * cs + sg * ca, -cg * sb], -1),
            torch.stack([-sg * cc - cg * sa, -sg * cs + cg * ca, sg * sb], -1),
            torch.stack([sc, ss, cb], -1),
        ],
        -2,
    )


def matrix_to_euler(a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The inverse of :func:`euler_to_matrix` (degrees; ``tilt ∈ [0, 180]``)."""
    a = torch.as_tensor(a, dtype=torch.float64)
    tilt = torch.arccos(a[..., 2, 2].clamp(-1, 1))
    rot = torch.atan2(a[..., 2, 1], a[..., 2, 0])
    psi = torch.atan2(a[..., 1, 2], -a[..., 0, 2])
    degenerate = a[..., 2, 2].abs() > 1 - 1e-9
    rot = torch.where(degenerate, torch.zeros_like(rot), rot)
    psi = torch.where(degenerate, torch.atan2(-a[..., 1, 0], a[..., 0, 0]) * torch.sign(a[..., 2, 2]), psi)
    return rot * 180 / math.pi, tilt * 180 / math.pi, psi * 180 / math.pi


def read_star(path: str | os.PathLike) -> dict[str, list[dict[str, str]]]:
    """The tables of a STAR file: ``{block name: [row dict]}`` (loops and single key/value blocks).

    >>> import tempfile, pathlib
    >>> from steerable.cryoem import read_star, write_star
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.star"
    >>> write_star(p, {"particles": [{"rlnImageName": "1@a.mrcs", "rlnDefocusU": 1.5}]})
    >>> read_star(p)["particles"][0]["rlnDefocusU"]
    '1.5'
    """
    blocks: dict[str, list[dict[str, str]]] = {}
    name: str | None = None
    labels: list[str] = []
    rows: list[dict[str, str]] = []
    in_loop = False
    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip() if raw.lstrip().startswith("_") else raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("data_"):
            name, labels, in_loop = line[5:], [], False
            rows = blocks.setdefault(name, [])
        elif line == "loop_":
            in_loop, labels = True, []
        elif line.startswith("_"):
            key, *rest = line[1:].split(None, 1)
            if in_loop and not rest:
                labels.append(key)
            elif name is not None:
                if not rows:
                    rows.append({})
                rows[0][key] = rest[0] if rest else ""
        elif in_loop and name is not None:
            values = line.split()
            if len(values) != len(labels):
                raise ValueError(
                    f"path: a row of table '{name}' has {len(values)} values for {len(labels)} labels: {raw!r}"
                )
            rows.append(dict(zip(labels, values, strict=True)))
    return blocks


def write_star(path: str | os.PathLike, tables: dict[str, list[dict]]) -> None:
    """Write ``{block name: [row dict]}`` as a RELION 3.1 STAR file (one loop per block)."""
    out = []
    for name, rows in tables.items():
        if not rows:
            raise ValueError(f"tables: block '{name}' has no rows")
        labels = list(rows[0])
        out += ["", "# version 30001", "", f"data_{name}", "", "loop_"]
        out += [f"_{lab} #{i + 1}" for i, lab in enumerate(labels)]
        for row in rows:
            if list(row) != labels:
                raise ValueError(f"tables: rows of block '{name}' must all have the labels {labels}")
            out.append(" ".join(f"{v:.10g}" if isinstance(v, float) else str(v) for v in row.values()))
    Path(path).write_text("\n".join(out) + "\n", encoding="utf-8")


def save_relion(stack: ParticleStack, directory: str | os.PathLike, name: str = "particles") -> Path:
    """Write ``stack`` as ``directory/name.mrcs`` and ``directory/name.star`` (RELION 3.1: an optics
    table and a particles table with CTF, and poses/origins when the stack has them); returns the
    STAR path. :func:`load_relion` reads it back.

    >>> import tempfile
    >>> import torch
    >>> from steerable.cryoem import load_relion, make_molecule, save_relion, simulate_particles
    >>> s = simulate_particles(make_molecule(0, n_atoms=8), 3, size=16, seed=0)
    >>> back = load_relion(save_relion(s, tempfile.mkdtemp()))
    >>> bool(torch.allclose(back.rotations, s.rotations, atol=1e-5)), bool(torch.allclose(back.shifts, s.shifts, atol=1e-5))
    (True, True)
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    p = stack.ctf_params
    write_mrc(d / f"{name}.mrcs", stack.images, pixel_size=p.pixel_size, volume=False)
    optics = [
        {
            "rlnOpticsGroup": 1,
            "rlnOpticsGroupName": "opticsGroup1",
            "rlnVoltage": p.voltage,
            "rlnSphericalAberration": p.cs,
            "rlnAmplitudeContrast": p.amplitude_contrast,
            "rlnImagePixelSize": p.pixel_size,
            "rlnImageSize": stack.size,
            "rlnImageDimensionality": 2,
        }
    ]
    rows = []
    angles = None
    if stack.rotations is not None:
        angles = matrix_to_euler(_SWAP @ stack.rotations.double() @ _SWAP)
    for i in range(len(stack)):
        row: dict = {
            "rlnImageName": f"{i + 1:06d}@{name}.mrcs",
            "rlnDefocusU": float(stack.defocus[i]),
            "rlnDefocusV": float(stack.defocus[i]),
            "rlnDefocusAngle": 0.0,
        }
        if angles is not None:
            row.update(
                rlnAngleRot=float(angles[0][i]), rlnAngleTilt=float(angles[1][i]), rlnAnglePsi=float(angles[2][i])
            )
        if stack.shifts is not None:
            t = (stack.shifts[i].double() - 0.5) * p.pixel_size
            row.update(rlnOriginXAngst=float(t[1]), rlnOriginYAngst=float(t[0]))
        row["rlnOpticsGroup"] = 1
        rows.append(row)
    star = d / f"{name}.star"
    write_star(star, {"optics": optics, "particles": rows})
    return star


def load_relion(star: str | os.PathLike) -> ParticleStack:
    """Read a RELION 3.1 particle STAR file and the MRC stacks its ``rlnImageName`` entries point
    to (relative to the STAR file's folder) as a :class:`ParticleStack`; poses and shifts are
    read when the table has them (``rlnAngleRot/Tilt/Psi``, ``rlnOriginX/YAngst``)."""
    star = Path(star)
    tables = read_star(star)
    if "particles" not in tables:
        raise ValueError(f"star: {star} has no data_particles table")
    parts = tables["particles"]
    optics = {r.get("rlnOpticsGroup", "1"): r for r in tables.get("optics", [])}
    o = next(iter(optics.values()), {})
    params = CTFParams(
        float(o.get("rlnVoltage", 300.0)),
        float(o.get("rlnSphericalAberration", 2.7)),
        float(o.get("rlnAmplitudeContrast", 0.1)),
        float(o.get("rlnImagePixelSize", 1.0)),
    )
    stacks: dict[str, torch.Tensor] = {}
    images = []
    for row in parts:
        index, _, file = row["rlnImageName"].partition("@")
        if file not in stacks:
            stacks[file] = read_mrc(star.parent / file, volume=False)[0]
        images.append(stacks[file][int(index) - 1])
    defocus = torch.tensor(
        [(float(r["rlnDefocusU"]) + float(r.get("rlnDefocusV", r["rlnDefocusU"]))) / 2 for r in parts],
        dtype=torch.float64,
    )
    rotations = shifts = None
    if all(k in parts[0] for k in ("rlnAngleRot", "rlnAngleTilt", "rlnAnglePsi")):
        ang = [torch.tensor([float(r[k]) for r in parts]) for k in ("rlnAngleRot", "rlnAngleTilt", "rlnAnglePsi")]
        rotations = _SWAP @ euler_to_matrix(*ang) @ _SWAP
    if all(k in parts[0] for k in ("rlnOriginXAngst", "rlnOriginYAngst")):
        xy = torch.tensor(
            [[float(r["rlnOriginYAngst"]), float(r["rlnOriginXAngst"])] for r in parts], dtype=torch.float64
        )
        shifts = xy / params.pixel_size + 0.5
    return ParticleStack(torch.stack(images).float(), defocus, params, rotations, shifts)
