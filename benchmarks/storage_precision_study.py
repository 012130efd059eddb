#!/usr/bin/env python3
"""What storing the tensor-core GEMMs' operands in 16 bits would cost in accuracy (issue 14; CPU, fairchem).

Why: every per-edge tensor of the TF32 path is fp32 in memory, and the roofline (benchmarks/roofline.py) says the
evaluation is bound by that traffic, the GEMMs included. A TF32 operand has a 10-bit mantissa, as fp16 has, so a
value the producer kernel has already rounded to TF32 (kernels/tf32_operand.cuh) is held exactly by fp16 wherever
it lies in fp16's normal range (2^-14 .. 65504). Half the bytes for the same products, if the range holds: this
study measures whether it does, on fairchem's own model, against fp64.

How: fairchem's UMA runs on the CPU in fp32 under a TorchFunctionMode that rewrites every Linear-type GEMM
(F.linear, and `a @ w` with a 2-D weight of at least 16 x 16: the SO(2) convolutions, the radial MLPs, the node
Linears; not the Wigner rotations, which our kernels do in fp32, nor the cell and Wigner-building 3x3 / 9x9 products)
to the chosen scheme:
  fp32         nothing rounded (fairchem's strict fp32);
  tf32         activation and weight rounded to TF32 (round to nearest, ties away: cvt.rna), and in the backward the
               output gradient too (the dy operand of the input-gradient GEMM): our TF32 mode;
  tf32-fp16    as tf32, the activation and the output gradient then held in fp16 (what a half-width store of the
               producer's TF32 value would keep), the output gradient scaled by 2^GRAD_EXP first, and the weight in
               fp16 with its own power-of-two scale (largest |w| to 2^14..2^15), as an f16 x f16 MMA needs;
  tf32-fp16-out  as tf32-fp16, and the GEMM output stored in fp16 too (a half-width GEMM epilogue);
  bf16         activation, weight and output gradient in bf16 (what a bf16 engine would keep; for scale).
The errors are against fairchem fp64 on the same weights (the fixtures' recorded fp64 numbers for the fixtures,
a fresh fp64 run for the larger cells). The random test model's activations need not have a trained model's
ranges: the range counters (share of fp16 subnormals and overflows among the stored values) say how close to
fp16's edges this model runs.

  .venv/bin/python benchmarks/storage_precision_study.py [--cells carbon_500,cu_192] [--out results.json]
"""
from __future__ import annotations

import argparse
import glob
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
sys.path.insert(0, os.path.join(root, "tools", "python"))
sys.path.insert(0, here)

GRAD_EXP = 0  # power-of-two scale of the output gradient before its fp16 store (argument --grad-exp)
FP16_MIN_NORMAL = 2.0 ** -14
FP16_MAX = 65504.0


def tf32_rna(x: torch.Tensor) -> torch.Tensor:
    """fp32 -> the nearest TF32 value, ties away from zero (PTX cvt.rna.tf32.f32); inf and nan unchanged."""
    if x.dtype != torch.float32:
        return x
    bits = x.contiguous().view(torch.int32)
    finite = (bits & 0x7F800000) != 0x7F800000
    rounded = ((bits + 0x1000) & ~0x1FFF).view(torch.float32)  # magnitude + half an ulp, truncated: ties away
    return torch.where(finite, rounded, x)


class Range:
    """Counts of the values a scheme stores in fp16: all, nonzero, subnormal (lost bits), flushed to 0, overflow."""

    def __init__(self):
        self.c = {k: {"values": 0, "subnormal": 0, "flushed": 0, "overflow": 0, "max_abs": 0.0}
                  for k in ("activation", "weight", "output", "gradient", "saved")}

    def add(self, kind: str, v: torch.Tensor):
        a = v.detach().abs()
        c = self.c[kind]
        nz = a[a > 0]
        c["values"] += int(nz.numel())
        c["subnormal"] += int(((nz < FP16_MIN_NORMAL) & (nz >= 2.0 ** -24)).sum())
        c["flushed"] += int((nz < 2.0 ** -25).sum())
        c["overflow"] += int((nz > FP16_MAX).sum())
        if nz.numel():
            c["max_abs"] = max(c["max_abs"], float(nz.max()))


def fp16_hold(x: torch.Tensor, counts: Range | None, kind: str, scale_exp: int | None = 0) -> torch.Tensor:
    """x in fp16 after scaling by 2^scale_exp (exact), and back; scale_exp None: the largest |x| to 2^14..2^15."""
    if scale_exp is None:
        top = float(x.detach().abs().max()) if x.numel() else 0.0
        scale_exp = 14 - math.floor(math.log2(top)) if top > 0 else 0
    s = 2.0 ** scale_exp
    xs = x * s
    if counts is not None:
        counts.add(kind, xs)
    return xs.half().float() / s


class _Store(torch.autograd.Function):
    """Identity on the way in but for the forward store; rounds the incoming gradient with the backward store."""

    @staticmethod
    def forward(ctx, x, fwd, bwd):
        ctx.bwd = bwd
        return fwd(x) if fwd is not None else x.clone()

    @staticmethod
    def backward(ctx, g):
        return (ctx.bwd(g) if ctx.bwd is not None else g), None, None


SCHEMES = ("fp32", "tf32", "tf32-fp16", "tf32-fp16-out", "bf16")
# The same GEMM stores, and every tensor autograd keeps for the backward (torch.autograd.graph.saved_tensors_hooks)
# held in 16 bits: what storing the backward's activations at half width would cost. Only activation-like tensors
# (fp32, at least 2-D, a last dimension of 64 or more: channels) are held so; the geometry (edge vectors, distances,
# Wigner matrices) stays fp32. fp16 keeps them with fp16's range; "tf32" would be TF32's precision in fp32's range (a
# 16-bit mantissa store with a per-tensor exponent), for comparison.
SAVED = {"tf32+saved-fp16": "fp16", "tf32+saved-bf16": "bf16", "tf32+saved-tf32": "tf32"}


def stores(scheme: str, counts: Range | None):
    """(activation, weight, output, output gradient) stores of a scheme; None keeps the value."""
    bf16 = lambda v: v.to(torch.bfloat16).float()  # noqa: E731
    if scheme == "fp32":
        return None, None, None, None
    if scheme == "tf32":
        return tf32_rna, tf32_rna, None, tf32_rna
    if scheme == "bf16":
        return bf16, bf16, None, bf16
    act = lambda v: fp16_hold(tf32_rna(v), counts, "activation")  # noqa: E731
    # the weight once per matrix with its own power-of-two scale (undone in the GEMM's epilogue, exactly)
    wgt = lambda w: fp16_hold(tf32_rna(w), counts, "weight", None)  # noqa: E731
    grad = lambda g: fp16_hold(tf32_rna(g), counts, "gradient", GRAD_EXP)  # noqa: E731
    out = (lambda v: fp16_hold(v, counts, "output")) if scheme == "tf32-fp16-out" else None  # noqa: E731
    return act, wgt, out, grad


class GemmStores(TorchFunctionMode):
    """Applies a scheme's stores to every Linear-type GEMM evaluated inside it."""

    def __init__(self, scheme: str, counts: Range | None):
        super().__init__()
        self.act, self.wgt, self.out, self.grad = stores(scheme, counts)
        self.gemms = 0

    @staticmethod
    def _weight_like(w) -> bool:
        return isinstance(w, torch.Tensor) and w.ndim == 2 and min(w.shape) >= 16 and w.is_floating_point()

    def _gemm(self, fn, x, w, *rest):
        self.gemms += 1
        x = _Store.apply(x, self.act, None)
        w = self.wgt(w) if self.wgt is not None else w
        y = fn(x, w, *rest)
        return _Store.apply(y, self.out, self.grad)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if self.act is None and self.grad is None and self.wgt is None:
            return func(*args, **kwargs)
        if func is F.linear and not kwargs and self._weight_like(args[1]):
            return self._gemm(F.linear, *args)
        if func in (torch.matmul, torch.Tensor.matmul, torch.Tensor.__matmul__) and not kwargs and len(args) == 2:
            a, b = args
            if isinstance(a, torch.Tensor) and a.ndim >= 2 and self._weight_like(b):
                return self._gemm(torch.matmul, a, b)
        return func(*args, **kwargs)


def errors(res, ref, n_atoms):
    de = abs(res["energy"] - ref["energy"]) / n_atoms
    f, fr = torch.tensor(res["forces"]), torch.tensor(ref["forces"])
    df = (f - fr).abs()
    return {"energy_per_atom": de, "force_max": float(df.max()), "force_rms": float(df.pow(2).mean().sqrt())}


def saved_store(kind: str, counts: Range):
    """pack hook: an activation-like fp32 tensor held in `kind` (its fp16 range counted under 'saved'), else kept."""
    def pack(t):
        if not (t.dtype == torch.float32 and t.dim() >= 2 and t.shape[-1] >= 64):
            return t
        if kind == "fp16":
            return fp16_hold(t, counts, "saved")
        if kind == "bf16":
            return t.to(torch.bfloat16).float()
        return tf32_rna(t)
    return pack


def run_scheme(runner, atoms, task, scheme):
    counts = Range()
    gemm_scheme = "tf32" if scheme in SAVED else scheme
    with GemmStores(gemm_scheme, counts) as mode:
        if scheme in SAVED:
            with torch.autograd.graph.saved_tensors_hooks(saved_store(SAVED[scheme], counts), lambda t: t):
                res, _, _ = runner.predict(atoms, task, torch.float32)
        else:
            res, _, _ = runner.predict(atoms, task, torch.float32)
    return res, counts.c, mode.gemms


def main(argv=None):
    global GRAD_EXP
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model-uma", default=os.path.join(root, "potentials", "uma-s-1p2p1-random-k2.uma"))
    ap.add_argument("--fixtures", default=os.path.join(root, "unittest", "data", "fixtures-1p2p1"))
    ap.add_argument("--cells", default="carbon_500,cu_192", help="larger cells with a fresh fp64 reference ('' none)")
    ap.add_argument("--schemes", default=",".join(SCHEMES), help="of " + ", ".join(SCHEMES + tuple(SAVED)))
    ap.add_argument("--grad-exp", type=int, default=0, help="output gradients scaled by 2^this before fp16")
    ap.add_argument("--workdir", default="/tmp/uma-storage-study")
    ap.add_argument("--out", default="")
    a = ap.parse_args(argv)
    GRAD_EXP = a.grad_exp
    import warnings
    import logging

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    import make_fixtures as mf
    from gpu_vs_fairchem import make_carbon, make_cu
    from ase import Atoms

    os.makedirs(a.workdir, exist_ok=True)
    pt = os.path.join(a.workdir, os.path.basename(mf.default_pt(a.model_uma)))
    pt = mf.ensure_model(pt, a.model_uma, a.workdir) if not os.path.exists(pt) else pt
    runner = mf.Runner(pt)
    cases = []
    for path in sorted(glob.glob(os.path.join(a.fixtures, "*.json"))):
        j = json.load(open(path))
        atoms = Atoms(numbers=j["numbers"], positions=j["positions"], cell=j["cell"], pbc=j["pbc"])
        atoms.info.update(charge=j["charge"], spin=j["spin"])
        cases.append((j["name"], atoms, j["task"], j["reference"]["fp64"]))
    for cell in filter(None, a.cells.split(",")):
        kind, n = cell.split("_")
        atoms = make_carbon(int(n)) if kind == "carbon" else make_cu(int(n))
        atoms.info.update(charge=0, spin=0)
        t0 = time.time()
        ref, _, _ = runner.predict(atoms, "omat", torch.float64)
        print(f"# {cell}: fp64 reference in {time.time() - t0:.0f} s", flush=True)
        cases.append((cell, atoms, "omat", ref))
    out = {"grad_exp": GRAD_EXP, "model": os.path.basename(a.model_uma), "cases": {}}
    schemes = a.schemes.split(",")
    print(f"{'structure':24s} {'atoms':>6s} " + " ".join(f"{s:>24s}" for s in schemes))
    print(f"{'':24s} {'':6s} " + " ".join(f"{'dE/atom   dF max   rms':>24s}" for _ in schemes))
    for name, atoms, task, ref in cases:
        row = {}
        for s in schemes:
            res, rng, gemms = run_scheme(runner, atoms, task, s)
            row[s] = {"errors": errors(res, ref, len(atoms)), "range": rng, "gemms": gemms}
        out["cases"][name] = {"atoms": len(atoms), "schemes": row}
        cells = " ".join(f"{row[s]['errors']['energy_per_atom']:8.1e} {row[s]['errors']['force_max']:7.1e} "
                         f"{row[s]['errors']['force_rms']:7.1e}" for s in schemes)
        print(f"{name:24s} {len(atoms):6d} {cells}", flush=True)
    print("\n# over the structures of more than one atom: geometric mean (max) of each error")
    many = [c for c in out["cases"].values() if c["atoms"] > 1]
    for s in schemes:
        parts = []
        for key in ("energy_per_atom", "force_max", "force_rms"):
            v = [max(c["schemes"][s]["errors"][key], 1e-300) for c in many]
            parts.append(f"{key} {math.exp(sum(map(math.log, v)) / len(v)):.2e} ({max(v):.2e})")
        print(f"{s:14s} " + "  ".join(parts))
    held = [s for s in ("tf32-fp16-out", "tf32-fp16", "tf32+saved-fp16") if s in schemes][:1]
    for s in held:
        print(f"\n# fp16 range of what {s} stores (share of nonzero values; max |value|; GEMMs rewritten)")
    for name, c in out["cases"].items():
        if not held:
            break
        rng = c["schemes"][held[0]]["range"]
        parts = []
        for kind, r in rng.items():
            v = max(r["values"], 1)
            parts.append(f"{kind}: subnormal {r['subnormal'] / v:.1e} flushed {r['flushed'] / v:.1e} "
                         f"overflow {r['overflow']} max {r['max_abs']:.2e}")
        print(f"{name:24s} {c['schemes'][held[0]]['gemms']:4d} " + "; ".join(parts))
    if a.out:
        with open(a.out, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
