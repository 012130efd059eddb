#!/usr/bin/env python3
"""What cuBLAS reaches on this GPU for the GEMM shapes of one UMA-S layer at 2000-atom carbon (E = 98256 edges),
fp32 strict and TF32: y = x W^T (+ b) forward, and the input gradient g W. Contiguous inputs, median of 20 after
warm-up, CUDA events. Also the name of the kernel cuBLAS picks for each (torch.profiler). Prints a table.

  python tools/gpu/gemm_probe.py [--edges 98256] [--layouts]
"""
import argparse
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "benchmarks"))
from cuda_timing import median_cuda_ms as timeit  # noqa: E402

# (label, rows, in, out, bias): rows = E or 2E (the m > 0 convolutions act on [E, 2, K] as 2E rows)
SHAPES = [
    ("conv1 fc_m0 (radial-scaled m=0, +gate)", 1, 768, 640, True),
    ("conv1 fc_m1", 2, 512, 512, False),
    ("conv1 fc_m2", 2, 256, 256, False),
    ("conv2 fc_m0", 1, 384, 384, True),
    ("conv2 fc_m1", 2, 256, 512, False),
    ("conv2 fc_m2", 2, 128, 256, False),
    ("radial lin0 (x_edge 320 -> 128)", 1, 320, 128, True),
    ("radial lin3 (128 -> 128)", 1, 128, 128, True),
    ("radial lin6 conv1 (128 -> 1536)", 1, 128, 1536, True),
]


def kernel_of(fn):
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CUDA]) as p:
        fn()
        torch.cuda.synchronize()
    names = [e.name for e in p.events() if e.device_type == torch.autograd.DeviceType.CUDA]
    big = [n for n in names if "gemm" in n.lower() or "Kernel" in n or "xmma" in n]
    return (big or names or ["?"])[0][:70]


# The SO(2) GEMMs as the engine runs them now (m > 0 as one block-weight GEMM per edge row), with the operand
# layouts that occur: conv-1 inputs are row-strided views of the fused gather's [E, 9, 2C] output (leading
# dimension 9*2C); conv-2 output gradients were row-strided views of an [E, 9, C] gradient (the split of the
# message before the scatter) and are dense groups since the scatter reads and writes m-groups.
# (label, in, out, bias, input leading dimension or 0 = dense, gradient leading dimension or 0 = dense)
LAYOUT_SHAPES = [
    ("conv1 fc_m0, x view of [E,9,256]", 768, 640, True, 2304, 0),
    ("conv1 fc_m1 block, x view", 1024, 512, False, 2304, 0),
    ("conv1 fc_m2 block, x view", 512, 256, False, 2304, 0),
    ("conv2 fc_m0, grad view of [E,9,128]", 384, 384, True, 0, 1152),
    ("conv2 fc_m0, grad dense", 384, 384, True, 0, 0),
    ("conv2 fc_m1 block, grad view", 256 * 2, 512, False, 0, 1152),
    ("conv2 fc_m1 block, grad dense", 256 * 2, 512, False, 0, 0),
    ("conv2 fc_m2 block, grad view", 256, 256, False, 0, 1152),
    ("conv2 fc_m2 block, grad dense", 256, 256, False, 0, 0),
]


def operand(rows, cols, ld):
    """[rows, cols] fp32, dense or as the first `cols` columns of a [rows, ld] tensor (a row-strided view)."""
    if not ld:
        return torch.randn(rows, cols, device="cuda")
    return torch.randn(rows, ld, device="cuda")[:, :cols]


def layouts(edges):
    torch.backends.cuda.matmul.allow_tf32 = False
    print(f"\nstrict fp32, E = {edges}: the engine's SO(2) GEMMs with their operand layouts")
    print("| GEMM | E x in -> out | x ld | grad ld | fwd ms (TFLOP/s) | grad_in ms (TFLOP/s) | fwd kernel | grad_in kernel |")
    print("|---|---|---:|---:|---:|---:|---|---|")
    for label, k, n, has_bias, x_ld, g_ld in LAYOUT_SHAPES:
        x, g = operand(edges, k, x_ld), operand(edges, n, g_ld)
        w = torch.randn(n, k, device="cuda") / k**0.5
        b = torch.randn(n, device="cuda") if has_bias else None
        flop = 2.0 * edges * k * n
        f1 = lambda: F.linear(x, w, b)
        f2 = lambda: g @ w
        t1, t2 = timeit(f1), timeit(f2)
        print(f"| {label} | {edges} x {k} -> {n} | {x_ld or k} | {g_ld or n} | {t1:.2f} ({flop / t1 / 1e9:.0f}) | "
              f"{t2:.2f} ({flop / t2 / 1e9:.0f}) | {kernel_of(f1)} | {kernel_of(f2)} |", flush=True)
        del x, g, w, b
        torch.cuda.empty_cache()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--edges", type=int, default=98256)
    ap.add_argument("--layouts", action="store_true", help="only the engine's current GEMMs with their layouts")
    a = ap.parse_args()
    if a.layouts:
        torch.manual_seed(0)
        print(f"device {torch.cuda.get_device_name(0)}, torch {torch.__version__}")
        layouts(a.edges)
        return
    torch.manual_seed(0)
    print(f"device {torch.cuda.get_device_name(0)}, torch {torch.__version__}, E = {a.edges}")
    print("| GEMM | rows x in -> out | fp32 fwd ms (TFLOP/s) | fp32 grad_in ms (TFLOP/s) | tf32 fwd ms (TFLOP/s) | "
          "tf32 grad_in ms (TFLOP/s) | fp32 fwd kernel |")
    print("|---|---|---:|---:|---:|---:|---|")
    for label, mult, k, n, has_bias in SHAPES:
        m = a.edges * mult
        x = torch.randn(m, k, device="cuda")
        w = torch.randn(n, k, device="cuda") / k**0.5
        b = torch.randn(n, device="cuda") if has_bias else None
        g = torch.randn(m, n, device="cuda")
        flop = 2.0 * m * k * n
        row = [label, f"{m} x {k} -> {n}"]
        kern = ""
        for tf32 in (False, True):
            torch.backends.cuda.matmul.allow_tf32 = tf32
            f1 = lambda: F.linear(x, w, b)
            f2 = lambda: g @ w
            t1, t2 = timeit(f1), timeit(f2)
            row += [f"{t1:.2f} ({flop / t1 / 1e9:.0f})", f"{t2:.2f} ({flop / t2 / 1e9:.0f})"]
            if not tf32:
                kern = kernel_of(f1)
        torch.backends.cuda.matmul.allow_tf32 = False
        print("| " + " | ".join(row + [kern]) + " |", flush=True)
        del x, w, b, g
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
