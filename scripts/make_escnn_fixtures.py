"""Regenerate tests/nn/data/escnn_<name>.pt with escnn (run by hand, in an environment where
escnn is installed; never imported by the tests):

    python scripts/make_escnn_fixtures.py [name ...]

For every model builder of tests/nn/test_escnn_checkpoint.py: build it with escnn, train a few
steps on random data (so weights and running statistics are not their initial values), switch
to eval, and save the state_dict (in eval mode for some fixtures, in train mode for others, as
escnn's state_dict keys depend on the mode), a fixed input and escnn's eval output.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
TEST = ROOT / "tests" / "nn" / "test_escnn_checkpoint.py"
DATA = ROOT / "tests" / "nn" / "data"
SAVED_IN_TRAIN_MODE = {"c8", "c4_transposed", "tutorial", "octa"}


def _builders():
    if importlib.util.find_spec("pytest") is None:  # the builders' module imports pytest for its tests
        ident = lambda *a, **k: lambda f: f
        sys.modules["pytest"] = types.SimpleNamespace(mark=types.SimpleNamespace(parametrize=ident, slow=ident))
    spec = importlib.util.spec_from_file_location("_escnn_fixture_models", TEST)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.BUILDERS


def make(name: str, builder, shape) -> Path:
    from escnn import gspaces, nn

    torch.manual_seed(1234)
    model = builder(gspaces, nn)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    model.train()
    for _ in range(4):
        x = model.in_type(torch.randn(8, *shape[1:]))
        y = model(x)
        loss = (getattr(y, "tensor", y) - 0.3).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    if name in SAVED_IN_TRAIN_MODE:
        state = {k: v.clone() for k, v in model.train().state_dict().items()}
    model.eval()
    if name not in SAVED_IN_TRAIN_MODE:
        state = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(99)
    x = torch.randn(*shape)
    with torch.no_grad():
        y = model(model.in_type(x))
        y = getattr(y, "tensor", y)
    path = DATA / f"escnn_{name}.pt"
    torch.save({"state_dict": state, "input": x, "output": y}, path)
    return path


def main(argv: list[str]) -> None:
    builders = _builders()
    names = argv or sorted(builders)
    for name in names:
        builder, shape = builders[name]
        path = make(name, builder, shape)
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main(sys.argv[1:])
