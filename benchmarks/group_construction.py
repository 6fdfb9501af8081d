"""Cold-start construction times of the group layer.

Each line runs in a fresh Python process (no caches), timing only the work named on the line
(the import of ``steerable.group`` is timed on its own line). There is no plain-torch
counterpart to construction, so the figures are absolute seconds; the reference points are
escnn's cold-start times measured on this kind of machine (about 9 s for one icosahedral irrep).

Run: ``.venv/bin/python benchmarks/group_construction.py``
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

CASES = {
    "import steerable": "import steerable",
    "import steerable.group": "import steerable.group",
    "ico: all irreps + all CG tensors": "G = sg.ico_group(); all_cg(G)",
    "full ico: all irreps + all CG tensors": "G = sg.full_ico_group(); all_cg(G)",
    "octa: all irreps + all CG tensors": "G = sg.octa_group(); all_cg(G)",
    "full octa: all irreps + all CG tensors": "G = sg.full_octa_group(); all_cg(G)",
    "tetra: all irreps + all CG tensors": "G = sg.tetra_group(); all_cg(G)",
    "full tetra: all irreps + all CG tensors": "G = sg.full_tetra_group(); all_cg(G)",
    "SO(3) irreps l<=8 (built + evaluated)": "G = sg.so3_group(8); [p(G.sample(seed=0)) for p in G.irreps()]",
    "O(3) irreps l<=8 (built + evaluated)": "G = sg.o3_group(8); [p(G.sample(seed=0)) for p in G.irreps()]",
    "SO(3) CG l1,l2<=4 (all L)": "G = sg.so3_group(4); all_cg(G)",
    "O(3) CG l1,l2<=4 (all parities, all L)": "G = sg.o3_group(4); all_cg(G)",
    "O(3) irreps l<=4 restricted to ico": "restrict_all('ico')",
    "O(3) irreps l<=4 restricted to octa": "restrict_all('octa')",
    "O(3) irreps l<=4 restricted to SO(2)": "restrict_all((False, False, -1))",
    "O(3) irreps l<=4 restricted to C_8": "restrict_all((False, False, 8))",
    "C_16/D_16 all irreps + CG": "[all_cg(G) for G in (sg.cyclic_group(16), sg.dihedral_group(16))]",
}

PRELUDE = textwrap.dedent(
    """
    import time
    t0 = None
    def all_cg(G):
        for a in G.irreps():
            for b in G.irreps():
                for J, _ in G.tensor_product_decomposition(a.id, b.id):
                    G.clebsch_gordan(a.id, b.id, J)
    def restrict_all(sid):
        G = sg.o3_group(4)
        for p in G.irreps():
            G.restrict_representation(sid, p)
    """
)


def run(label: str, stmt: str) -> float:
    if stmt.startswith("import"):
        code = f"import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"
    else:
        code = (
            "import steerable.group as sg\n"
            + PRELUDE
            + f"t = time.perf_counter()\n{stmt}\nprint(time.perf_counter() - t)\n"
        )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"{label}: {out.stderr}")
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    width = max(map(len, CASES))
    print(f"{'case (cold process)':<{width}}  seconds  goal<0.5s")
    worst = 0.0
    for label, stmt in CASES.items():
        t = min(run(label, stmt) for _ in range(2))
        worst = max(worst, t)
        print(f"{label:<{width}}  {t:7.3f}  {'ok' if t < 0.5 else 'SLOW'}")
    print(f"worst line: {worst:.3f} s")


if __name__ == "__main__":
    main()
