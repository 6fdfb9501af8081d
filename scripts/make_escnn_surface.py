#!/usr/bin/env python
"""Regenerates tests/compat/escnn_1_0_11_surface.json: every public name of escnn 1.0.11's group,
kernels, gspaces, nn and nn.init (their ``__all__``), with call signatures and class members.

Run by hand in a virtual environment where escnn 1.0.11 is installed (not by CI, not by the tests):

    python scripts/make_escnn_surface.py
"""

import inspect
import json
import types
from pathlib import Path

import escnn.nn.init as init
import torch
from escnn import group, gspaces, kernels, nn

TARGET = Path(__file__).resolve().parent.parent / "tests" / "compat" / "escnn_1_0_11_surface.json"


def parameters(f):
    """[name, kind, default (literals only), has_default] for every parameter but self."""
    try:
        sig = inspect.signature(f)
    except (TypeError, ValueError):
        return None
    out = []
    for p in sig.parameters.values():
        if p.name == "self":
            continue
        has_default = p.default is not inspect.Parameter.empty
        default = None
        if has_default:
            literal = isinstance(p.default, (int, float, str, bool, type(None)))
            default = p.default if literal else "<object>"
        out.append([p.name, p.kind.name, default, has_default])
    return out


def members(cls):
    skip = set(dir(torch.nn.Module)) if issubclass(cls, torch.nn.Module) else set()
    return sorted(n for n in dir(cls) if not n.startswith("_") and n not in skip)


def main():
    out = {"escnn_version": "1.0.11", "modules": {}}
    for modname, mod in [("group", group), ("kernels", kernels), ("gspaces", gspaces), ("nn", nn), ("nn.init", init)]:
        entries = {}
        for name in mod.__all__:
            obj = getattr(mod, name)
            if isinstance(obj, types.ModuleType):
                entries[name] = {"kind": "module"}
            elif inspect.isclass(obj):
                entries[name] = {"kind": "class", "parameters": parameters(obj.__init__), "members": members(obj)}
            elif callable(obj):
                entries[name] = {"kind": "function", "parameters": parameters(obj)}
            else:
                entries[name] = {"kind": "value"}
        out["modules"][modname] = entries
    TARGET.write_text(json.dumps(out, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
