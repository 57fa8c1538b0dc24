#!/usr/bin/python3
"""Loads a TorchScript generator exported by colorgan-model with Python's torch
and checks it against LibTorch's outputs: check_torchscript.py MODULE CASES.pt

CASES.pt (torch.save format) holds a list of [y, noise, uv] triples that
colorgan's C++ side computed. Exit 0: every uv within 1e-5; 1: a mismatch;
77: this Python has no torch (python3-torch), so nothing was checked.
"""
import sys

try:
    import torch
except ImportError:
    print("no torch in " + sys.executable, file=sys.stderr)
    sys.exit(77)

module = torch.jit.load(sys.argv[1])
worst = 0.0
with torch.no_grad():
    for y, noise, uv in torch.load(sys.argv[2]):
        out = module(y, noise)
        if out.shape != uv.shape:
            print(f"shape {tuple(out.shape)}, expected {tuple(uv.shape)}", file=sys.stderr)
            sys.exit(1)
        worst = max(worst, (out - uv).abs().max().item())
print(f"max |python - libtorch| = {worst:.3g}")
sys.exit(0 if worst <= 1e-5 else 1)
