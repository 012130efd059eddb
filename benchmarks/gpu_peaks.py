#!/usr/bin/env python3
"""The peaks a roofline table is measured against, on the GPU at hand (issue 14: "per kernel, achieved TFLOP/s and
GB/s against the peaks measured on the same GPU").

  python benchmarks/gpu_peaks.py [--out peaks.json]

Measured with torch alone (no project code), median of repeats after warm-up, CUDA events:
  - dense GEMM throughput, 8192^3, in TF32 (allow_tf32) and strict fp32: the tensor-core and FP32-pipe ceilings a
    cuBLAS GEMM reaches on this card (not the datasheet's, which no kernel reaches);
  - HBM bandwidth: a 2 GiB device-to-device copy (read + write bytes counted), and a 2 GiB read-only reduction;
  - L2-resident bandwidth: the same copy on 16 MiB buffers (fits the H100's 50 MB L2), looped.
Prints one line per peak and writes them as JSON (the roofline script, benchmarks/roofline.py, reads it).
"""
import argparse
import json

import torch

from cuda_timing import median_cuda_ms


def timed(fn, reps=20):
    """Seconds per call: the median of `reps` calls after warm-up (cuda_timing.py)."""
    return median_cuda_ms(fn, reps=reps) / 1e3


def gemm_tflops(n, tf32):
    torch.backends.cuda.matmul.allow_tf32 = tf32
    a = torch.randn(n, n, device="cuda")
    b = torch.randn(n, n, device="cuda")
    c = torch.empty(n, n, device="cuda")
    s = timed(lambda: torch.mm(a, b, out=c), reps=10)
    torch.backends.cuda.matmul.allow_tf32 = False
    return 2 * n**3 / s / 1e12


def copy_gbs(nbytes, loops):
    n = nbytes // 4
    a = torch.randn(n, device="cuda")
    b = torch.empty_like(a)

    def run():
        for _ in range(loops):
            b.copy_(a)

    s = timed(run)
    return 2 * nbytes * loops / s / 1e9


def read_gbs(nbytes):
    a = torch.randn(nbytes // 4, device="cuda")
    s = timed(lambda: a.sum())
    return nbytes / s / 1e9


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="peaks.json")
    args = ap.parse_args()
    peaks = {
        "device": torch.cuda.get_device_name(),
        "sms": torch.cuda.get_device_properties(0).multi_processor_count,
        "gemm_tf32_tflops": gemm_tflops(8192, True),
        "gemm_fp32_tflops": gemm_tflops(8192, False),
        "hbm_copy_gbs": copy_gbs(2 << 30, 1),
        "hbm_read_gbs": read_gbs(2 << 30),
        "l2_copy_gbs": copy_gbs(16 << 20, 50),
    }
    for k, v in peaks.items():
        print(f"[peaks] {k}: {v:.1f}" if isinstance(v, float) else f"[peaks] {k}: {v}")
    with open(args.out, "w") as f:
        json.dump(peaks, f, indent=1)


if __name__ == "__main__":
    main()
