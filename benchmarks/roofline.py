#!/usr/bin/env python3
"""Roofline table of one evaluation (issue 14): per kernel, achieved TFLOP/s and GB/s against the peaks measured on
the same GPU.

  python benchmarks/roofline.py --bench quick.jsonl [--variant quick] [--atoms 2000] --peaks peaks.json [--md OUT]

--bench: uma-engine-bench's JSON (one object per line) with a "profile" (run with --profile); the first line that
matches --variant and --atoms is used. --peaks: benchmarks/gpu_peaks.py's output from the same call.

The bytes and flops are a model, not counters: the minimum each kernel must move to or from HBM and the arithmetic
it must do, per edge and call, for C = H = 128, lmax = mmax = 2 (docs/fused-edge-block.md's tables). Node rows
(2000 atoms x 9 x 128 floats = 9 MB) live in L2 and are not counted; nor are atomics into them. E is the graph's
padded edge count (the kernels run over it under a CUDA graph). A kernel's "% of roof" is its achieved rate over
the ceiling its arithmetic intensity allows: min(GEMM peak, intensity x HBM peak).
"""
import argparse
import json
import sys

# floats per edge and call, read + written (HBM), for the engine's fp32 kernels (C = 128; 9 rows; 2C = 256).
# gather_rotate_fwd: radial [6, 2C] + D + out [9, 2C]. gather_rotate_bwd (radial on): grad_out [9, 2C] + radial +
# D + grad_radial + grad_D. rotate_back_scatter_fwd: msg [9, C] + Winv. rotate_back_scatter_bwd (both gradients):
# msg + Winv + grad_msg + grad_Winv. edge_gate_fwd: conv 1's outputs (1408) in, gated [9, H] out; edge_gate_bwd:
# grad gated + conv 1's outputs in, their gradient out; edge_gate_factors: logits [3H] in, factors [3H] out.
# layer_norm_silu_*: [E, 128] in and out (+ the input again backward).
FLOATS_PER_EDGE = {
    "gather_rotate_fwd": 1536 + 81 + 2304,
    "gather_rotate_bwd": 2304 + 1536 + 81 + 1536 + 81,
    "rotate_back_scatter_fwd": 1152 + 81,
    "rotate_back_scatter_bwd": 1152 + 81 + 1152 + 81,
    "edge_gate_fwd": 1408 + 1152,
    "edge_gate_bwd": 1152 + 1408 + 1408,
    "edge_gate_factors": 384 + 384,
    "layer_norm_silu_fwd": 128 + 128,
    "layer_norm_silu_bwd": 128 * 3,
    # radial_gather: the hidden rows [128] + D in, the message [9, 2C] out (the scale is made on the tensor cores)
    "radial_gather": 128 + 81 + 2304,
}
# Tensor-core work inside a memory-bound kernel, flops per edge and call: radial_gather's Linear 128 -> 1536.
FLOPS_PER_EDGE = {"radial_gather": 2 * 128 * 1536}
# The edge GEMMs of one layer, forward (K -> N per edge; the backward's input gradients do the same flops):
# radial MLP lin0, lin3, lin6; conv 1 m = 0 (+ gate logits), 1, 2; conv 2 m = 0, 1, 2 (bench_split_tf32_gemm.cu).
LAYER_GEMMS = [(32, 128), (128, 128), (128, 1536), (768, 640), (1024, 512), (512, 256), (384, 384), (512, 512),
               (256, 256)]
LAYERS = 4


def model(name, calls, edges):
    """(GFLOP, GB) of `calls` calls of kernel `name`, or None where there is no model."""
    if "GemmUniversal" in name:  # every TMA GEMM of the layers, aggregated by the profiler under one name
        flops = 2 * 2 * edges * sum(k * n for k, n in LAYER_GEMMS) * LAYERS
        nbytes = 2 * 4 * edges * sum(k + n for k, n in LAYER_GEMMS) * LAYERS
        return flops / 1e9, nbytes / 1e9, f"{calls} calls; modelled: the {len(LAYER_GEMMS) * 2 * LAYERS} edge GEMMs of {LAYERS} layers"
    for key, floats in FLOATS_PER_EDGE.items():
        if key + "_kernel" in name or key + "_tile_kernel" in name:
            return FLOPS_PER_EDGE.get(key, 0) * edges * calls / 1e9, 4 * floats * edges * calls / 1e9, ""
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", required=True)
    ap.add_argument("--variant", help="the line's \"variant\" field, where the lines have one (else the first match)")
    ap.add_argument("--atoms", type=int, default=2000)
    ap.add_argument("--peaks", required=True)
    ap.add_argument("--md")
    a = ap.parse_args()
    run = None
    for line in open(a.bench):
        d = json.loads(line)
        if d.get("variant", a.variant) == a.variant and d.get("atoms") == a.atoms and "profile" in d:
            run = d
            break
    if run is None:
        sys.exit(f"no profiled run{' of variant ' + a.variant if a.variant else ''} at {a.atoms} atoms in {a.bench}")
    peaks = json.load(open(a.peaks))
    edges = run.get("graph_edges") or run["edges"]
    gemm_peak, hbm = peaks["gemm_tf32_tflops"], peaks["hbm_copy_gbs"]
    prof = run["profile"]
    out = [f"Roofline of one evaluation: {run['structure'].split('/')[-1]} ({run['atoms']} atoms, {edges} padded "
           f"edges){', variant ' + a.variant if a.variant else ''}, {run['seconds_per_eval'] * 1e3:.2f} ms per evaluation, "
           f"{prof['gpu_kernel_ms']:.2f} ms of GPU kernels. Peaks on {peaks['device']}: TF32 GEMM "
           f"{gemm_peak:.0f} TFLOP/s (cuBLAS 8192^3), HBM copy {hbm:.0f} GB/s, L2 copy {peaks['l2_copy_gbs']:.0f} GB/s.",
           "", "| kernel | calls | ms | GFLOP | GB (model) | TFLOP/s | GB/s | % of roof | bound |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    covered = 0.0
    # The profiler lists each CUTLASS GEMM instantiation apart (plain, gated, ...): one row for all of them.
    gemms = [k for k in prof["top_kernels"] if "GemmUniversal" in k["name"]]
    kernels = [k for k in prof["top_kernels"] if "GemmUniversal" not in k["name"]]
    if gemms:
        kernels.insert(0, {"name": gemms[0]["name"], "calls": sum(k["calls"] for k in gemms),
                           "ms": sum(k["ms"] for k in gemms)})
    for k in kernels:
        m = model(k["name"], k["calls"], edges)
        short = k["name"].replace("(anonymous namespace)::", "").split("(")[0]
        short = short.replace("void ", "").replace("uma::kernels::", "")[:60]
        if "GemmUniversal" in short:
            short = "CUTLASS TMA GEMMs"
        if m is None:
            continue
        gflop, gb, note = m
        s = k["ms"] / 1e3
        tflops, gbs = gflop / 1e3 / s, gb / s
        intensity = gflop * 1e9 / (gb * 1e9) if gb else float("inf")
        roof = min(gemm_peak, intensity * hbm / 1e3)  # TFLOP/s the intensity allows
        if gflop > 0:
            pct, bound = 100 * tflops / roof, "compute" if roof >= gemm_peak else "memory"
        else:
            pct, bound = 100 * gbs / hbm, "memory"
        covered += k["ms"]
        out.append(f"| {short}{' (' + note + ')' if note else ''} | {k['calls']} | {k['ms']:.2f} | {gflop:.0f} | "
                   f"{gb:.2f} | {tflops:.1f} | {gbs:.0f} | {pct:.0f} % | {bound} |")
    out += ["", f"The modelled kernels take {covered:.2f} of the {prof['gpu_kernel_ms']:.2f} ms; by category: " +
            ", ".join(f"{c} {v:.2f}" for c, v in sorted(prof["by_category_ms"].items(), key=lambda x: -x[1])) + "."]
    text = "\n".join(out)
    print(text)
    if a.md:
        open(a.md, "w").write(text + "\n")


if __name__ == "__main__":
    main()
