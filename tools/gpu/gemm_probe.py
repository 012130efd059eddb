#!/usr/bin/env python3
"""What cuBLAS reaches on this GPU for the GEMM shapes of one UMA-S layer at 2000-atom carbon (E = 98256 edges),
fp32 strict and TF32: y = x W^T (+ b) forward, and the input gradient g W. Contiguous inputs, median of 20 after
warm-up, CUDA events. Also the name of the kernel cuBLAS picks for each (torch.profiler). Prints a table.

  python tools/gpu/gemm_probe.py [--edges 98256]
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--edges", type=int, default=98256)
    a = ap.parse_args()
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
