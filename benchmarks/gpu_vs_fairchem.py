#!/usr/bin/env python3
"""Energy + forces throughput on one CUDA GPU: our engine (uma-engine-bench) against fairchem's backends.

  python benchmarks/gpu_vs_fairchem.py --bench build-gpu/benchmarks/uma-engine-bench \\
      --uma potentials/uma-s-random-k2.uma --pt /tmp/uma-s-random-k2.pt --out DIR \\
      [--structures carbon,cu] [--sizes 200,2000,5000,20000] [--backends general,umas_fast_pytorch,umas_fast_gpu]
      [--extra umas_fast_gpu_tf32,umas_fast_gpu_compile] [--ours-variants fp32,fp32_tf32,fp32_deterministic,fp32_no_graphs]
      [--max-fit] [--profile] [--fairchem-profile] [--deadline SECONDS]
  python benchmarks/gpu_vs_fairchem.py --report-only --inputs A/results.json,B/results.json --out DIR

Structures (written to DIR/structures/*.json in the fixture format, task omat, charge 0, spin 0):
  carbon  fairchem's own speed structure (datasets/common_structures.py get_fcc_crystal_by_num_atoms, re-coded
          here): fcc C, a = 3.8 Å, n = ceil(cbrt(N)) primitive cells per direction, N sites drawn at random
          (np.random.seed(0)), i.e. random vacancies and random atom order; ~49 edges/atom at N = 2000.
  cu      liquid-like Cu: fcc at 11.8 Å^3/atom (a = 3.6139 Å), every atom displaced by N(0, 0.35² Å²) per
          coordinate (seed 0), wrapped; ~75 edges/atom.
Ours: uma-engine-bench (graph built once on the CPU, not timed; engine.evaluate + forces + virial timed, CUDA
synchronised, median after warm-up), fp32 with TF32 off, fp32 with TF32 on, and fp32 deterministic (CSR sums).
fairchem: one worker process per backend (MLIPPredictUnit on cuda, merge_mole=True, activation_checkpointing=False,
tf32=False, compile=False, internal graph v2, float32): predict() timed including its graph generation (median
after warm-up, torch.cuda.synchronize); its graph generation alone is timed too. Memory: torch.cuda peak
allocated bytes during one evaluation (after warm-up) minus the bytes held before it, per atom; ours likewise from
the c10 caching allocator. Results: DIR/results.json (written after every item), DIR/results.md, DIR/results.png.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

T0 = time.time()
TASK = "omat"


# ----------------------------------------------------------------------------------------------- structures
def make_carbon(n_atoms: int, seed: int = 0):
    import numpy as np
    from ase.build import bulk

    atoms = bulk("C", "fcc", a=3.8)
    n = int(math.ceil(n_atoms ** (1.0 / 3.0) - 1e-9))
    atoms = atoms.repeat((n, n, n))
    np.random.seed(seed)
    idx = np.random.choice(len(atoms), n_atoms, replace=False)
    return atoms[idx]


def cu_repeats(n_atoms: int):
    fixed = {200: (5, 5, 2), 2000: (10, 10, 5), 20000: (25, 20, 10)}
    if n_atoms in fixed:
        return fixed[n_atoms]
    a = max(1, round((n_atoms / 4) ** (1 / 3)))
    c = max(1, round(n_atoms / (4 * a * a)))
    return (a, a, c)


def make_cu(n_atoms: int, seed: int = 0):
    import numpy as np
    from ase.build import bulk

    a = (4 * 11.8) ** (1.0 / 3.0)
    atoms = bulk("Cu", "fcc", a=a, cubic=True).repeat(cu_repeats(n_atoms))
    rng = np.random.default_rng(seed)
    atoms.positions += rng.normal(scale=0.35, size=atoms.positions.shape)
    atoms.wrap()
    return atoms


def write_structure(atoms, path: str, name: str) -> None:
    with open(path, "w") as f:
        json.dump({"name": name, "task": TASK, "charge": 0, "spin": 0, "numbers": [int(z) for z in atoms.numbers],
                   "positions": atoms.get_positions().tolist(), "cell": atoms.get_cell()[:].tolist(),
                   "pbc": [bool(p) for p in atoms.pbc]}, f, separators=(",", ":"))


def read_structure(path: str):
    from ase import Atoms

    with open(path) as f:
        j = json.load(f)
    atoms = Atoms(numbers=j["numbers"], positions=j["positions"], cell=j["cell"], pbc=j["pbc"])
    atoms.info.update(charge=0, spin=0)
    return atoms


def structure_path(out: str, kind: str, n: int) -> str:
    d = os.path.join(out, "structures")
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, f"{kind}_{n}.json")
    if not os.path.exists(p):
        atoms = make_carbon(n) if kind == "carbon" else make_cu(n)
        write_structure(atoms, p, f"{kind}_{n}")
    return p


def actual_atoms(path: str) -> int:
    with open(path) as f:
        return len(json.load(f)["numbers"])


REPS_OVERRIDE = None

# Our variants: name -> uma-engine-bench flags (fp32 = strict fp32 GEMMs; split_tf32 = the fp32-accurate tensor-core
# GEMMs; tf32 = TF32 tensor cores).
OURS_VARIANTS = {"fp32": [], "fp32_split_tf32": ["--split-tf32"], "fp32_tf32": ["--tf32"],
                 "fp32_deterministic": ["--deterministic"], "fp32_no_graphs": ["--no-graphs"]}


def reps_for(n: int):
    if REPS_OVERRIDE:
        return REPS_OVERRIDE
    if n <= 2500:
        return 3, 10
    if n <= 25000:
        return 1, 3
    return 1, 2


# ----------------------------------------------------------------------------------------------- fairchem worker
BACKENDS = {
    # name: (execution_mode, tf32, compile)
    "general": ("general", False, False),
    "umas_fast_pytorch": ("umas_fast_pytorch", False, False),
    "umas_fast_gpu": ("umas_fast_gpu", False, False),
    "umas_fast_gpu_tf32": ("umas_fast_gpu", True, False),
    "umas_fast_gpu_compile": ("umas_fast_gpu", False, True),
}


def first_predict(pu, atoms):
    """fairchem's input for `atoms` (task TASK) and its first predict(): (data, output, seconds incl. any JIT)."""
    import torch
    from fairchem.core.datasets.atomic_data import AtomicData

    pu.validate_atoms_data(atoms, TASK)
    data = AtomicData.from_ase(atoms, task_name=TASK, r_edges=False, r_data_keys=["spin", "charge"])
    t = time.time()
    out = pu.predict(data)
    torch.cuda.synchronize()
    return data, out, time.time() - t


def warm_and_measure_memory(pu, data, warm: int):
    """`warm` predict() calls, then one more with the CUDA allocator's peak tracked: (its output, bytes
    allocated before it, peak bytes during it)."""
    import torch

    for _ in range(warm):
        pu.predict(data)
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    out = pu.predict(data)
    _ = out["forces"]
    torch.cuda.synchronize()
    return out, before, torch.cuda.max_memory_allocated()


def time_predict(pu, data, reps: int):
    """Wall seconds of each of `reps` predict() calls (forces read, device synchronised), and the last output."""
    import torch

    times, out = [], None
    for _ in range(reps):
        t = time.perf_counter()
        out = pu.predict(data)
        _ = out["forces"]
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return times, out


def fairchem_worker(a) -> None:
    import logging
    import warnings

    import torch

    cuda = a.device == "cuda"
    if not cuda:  # local dry runs of this script only
        torch.cuda.synchronize = lambda *x: None
        torch.cuda.memory_allocated = torch.cuda.max_memory_allocated = lambda *x: 0
        torch.cuda.reset_peak_memory_stats = torch.cuda.empty_cache = lambda *x: None
    logging.getLogger().setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    from fairchem.core.datasets.atomic_data import AtomicData
    from fairchem.core.units.mlip_unit import InferenceSettings
    from fairchem.core.units.mlip_unit.predict import MLIPPredictUnit

    mode, tf32, compile_ = BACKENDS[a.worker_backend]
    settings = InferenceSettings(tf32=tf32, activation_checkpointing=False, merge_mole=True, compile=compile_,
                                 external_graph_gen=False, internal_graph_gen_version=2, execution_mode=mode,
                                 base_precision_dtype=torch.float32)
    results = []
    for kind in a.structures.split(","):
        t_init = time.time()
        pu = MLIPPredictUnit(a.pt, device=a.device, inference_settings=settings)
        init_s = time.time() - t_init
        for path in [p for p in a.worker_paths.split(",") if os.path.basename(p).startswith(kind + "_")]:
            atoms = read_structure(path)
            n = len(atoms)
            r = {"backend": a.worker_backend, "structure": kind, "atoms": n, "path": path, "init_s": init_s}
            warm, reps = reps_for(n)
            try:
                data, out, r["first_call_s"] = first_predict(pu, atoms)
                out, before, peak = warm_and_measure_memory(pu, data, warm)
                r["energy"] = float(out["energy"][0])
                r["sum_abs_forces"] = float(out["forces"].abs().sum())
                r.update(cuda_bytes_before_eval=before, cuda_peak_bytes=peak,
                         cuda_eval_bytes_per_atom=(peak - before) / n, cuda_peak_bytes_per_atom=peak / n)
                times, out = time_predict(pu, data, reps)
                r["seconds_per_eval"] = statistics.median(times)
                r["all_seconds"] = times
                r["evals_per_s"] = 1.0 / r["seconds_per_eval"]
                r["execution_mode_after"] = str(pu.inference_settings.execution_mode)
                r["merge_mole_after"] = bool(pu.inference_settings.merge_mole)
                # fairchem's graph generation alone (part of every predict call)
                try:
                    from fairchem.core.graph.compute import generate_graph

                    bb = pu.model.module.backbone
                    d = AtomicData.from_ase(atoms, task_name=TASK, r_edges=False).to(a.device)
                    gt = []
                    for i in range(4):
                        torch.cuda.synchronize()
                        t = time.perf_counter()
                        g = generate_graph(d, cutoff=bb.cutoff, max_neighbors=bb.max_neighbors,
                                           enforce_max_neighbors_strictly=False, radius_pbc_version=2, pbc=d.pbc)
                        torch.cuda.synchronize()
                        if i:
                            gt.append(time.perf_counter() - t)
                    r["graph_gen_s"] = statistics.median(gt)
                    r["edges"] = int(g["edge_index"].shape[1])
                    del g, d
                except Exception as e:  # informational only
                    r["graph_gen_error"] = repr(e)[:300]
                if a.worker_profile and cuda:
                    r["profile"] = profile_predict(pu, data, f"{a.worker_backend} {kind} {n}")
                print(f"[fairchem {a.worker_backend}] {kind} {n} atoms: {r['seconds_per_eval']*1e3:.2f} ms "
                      f"(first call {r['first_call_s']:.1f} s), eval memory {r['cuda_eval_bytes_per_atom']/2**20:.3f} "
                      f"MiB/atom, E = {r['energy']:.6f}", file=sys.stderr, flush=True)
            except torch.OutOfMemoryError as e:
                r["oom"] = True
                r["error"] = str(e)[:300]
                print(f"[fairchem {a.worker_backend}] {kind} {n} atoms: CUDA out of memory", file=sys.stderr,
                      flush=True)
            except Exception as e:
                r["error"] = repr(e)[:1500]
                print(f"[fairchem {a.worker_backend}] {kind} {n} atoms: ERROR {e!r}"[:3000], file=sys.stderr,
                      flush=True)
            results.append(r)
            data = out = None
            torch.cuda.empty_cache()
            if r.get("oom") or r.get("error"):
                break
        del pu
        torch.cuda.empty_cache()
    print("WORKER_RESULT " + json.dumps(results), flush=True)


def profile_predict(pu, data, label):
    """One predict() under torch.profiler: GPU time by op (with input shapes) and by kernel; printed and returned."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA], record_shapes=True) as prof:
        pu.predict(data)
        torch.cuda.synchronize()
    ka = prof.key_averages(group_by_input_shape=True)
    attr = "self_device_time_total" if hasattr(ka[0], "self_device_time_total") else "self_cuda_time_total"
    rows = sorted(ka, key=lambda e: getattr(e, attr), reverse=True)
    total = sum(getattr(e, attr) for e in ka)
    out = {"gpu_self_ms_total": total / 1e3, "top_ops": []}
    print(f"[fairchem-profile] {label}: GPU self time {total/1e3:.2f} ms", file=sys.stderr)
    for e in rows[:30]:
        t = getattr(e, attr)
        if t <= 0:
            break
        shapes = str(e.input_shapes)[:120]
        out["top_ops"].append({"op": e.key, "shapes": shapes, "ms": t / 1e3, "calls": e.count})
        print(f"[fairchem-profile]   {t/1e3:8.3f} ms {e.count:4d}x  {e.key} {shapes}", file=sys.stderr)
    return out


# ----------------------------------------------------------------------------------------------- driver
class Driver:
    def __init__(self, a):
        self.a = a
        self.res = {"started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "ours": [], "fairchem": [],
                    "profile": [], "notes": []}
        self.res["env"] = self.env()
        self.save()

    def env(self):
        e = {}
        try:
            import torch

            e["torch"] = torch.__version__
            e["cuda_device"] = torch.cuda.get_device_name(0)
            e["cuda_total_bytes"] = torch.cuda.get_device_properties(0).total_memory
        except Exception as x:
            e["torch_error"] = repr(x)
        try:
            from importlib.metadata import version

            e["fairchem_core"] = version("fairchem-core")
        except Exception:
            e["fairchem_core"] = None
        try:
            e["nvidia_smi"] = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,clocks.max.sm",
                                              "--format=csv,noheader"], capture_output=True, text=True,
                                             timeout=20).stdout.strip()
        except Exception:
            pass
        return e

    def left(self) -> float:
        return self.a.deadline - (time.time() - T0)

    def save(self):
        with open(os.path.join(self.a.out, "results.json"), "w") as f:
            json.dump(self.res, f, indent=1)

    def run_ours(self, kind, n, variant, extra=(), profile=False, timeout=300):
        path = structure_path(self.a.out, kind, n)
        n_real = actual_atoms(path)
        warm, reps = reps_for(n_real)
        cmd = [self.a.bench, "--model", self.a.uma, "--structure", path, "--device", self.a.device, "--precision", "fp32",
               "--warmup", str(warm), "--repeats", str(reps), *extra]
        if profile:
            cmd += ["--profile"]
        t = time.time()
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=min(timeout, max(self.left(), 5), 3600))
            stdout, stderr, rc = p.stdout, p.stderr, p.returncode
        except subprocess.TimeoutExpired:
            stdout, stderr, rc = "", "timeout", -9
        sys.stderr.write(stderr[-16000:] if profile else "\n".join(l for l in stderr.splitlines() if "[bench]" in l or
                                                                   "error" in l.lower())[-3000:] + "\n")
        r = {"structure": kind, "variant": variant, "atoms": n_real, "rc": rc, "wall_s": time.time() - t}
        try:
            j = json.loads(stdout.strip().splitlines()[-1])
            j["path"] = j.pop("structure", path)
            r.update(j)
        except Exception:
            r["error"] = (stderr or "no output")[-800:]
        if profile:
            r["stderr"] = stderr[-20000:]
            self.res["profile"].append(r)
        else:
            self.res["ours"].append(r)
        self.save()
        return r

    def run_fairchem(self, backend, kinds, sizes):
        paths = [structure_path(self.a.out, k, n) for k in kinds for n in sizes]
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--worker-backend", backend, "--pt", self.a.pt,
               "--structures", ",".join(kinds), "--worker-paths", ",".join(paths), "--out", self.a.out,
               "--device", self.a.device] + (["--reps", self.a.reps] if self.a.reps else []) + \
              (["--worker-profile"] if self.a.fairchem_profile else [])
        t = time.time()
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=min(max(self.left(), 5), 3600))
            stdout, stderr, rc = p.stdout, p.stderr, p.returncode
        except subprocess.TimeoutExpired as e:
            stdout = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
            stderr = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
            rc = -9
        lines = [l for l in stderr.splitlines() if l.startswith("[fairchem")]
        if self.a.fairchem_profile:
            self.res["profile"].append({"fairchem_backend": backend, "stderr": "\n".join(lines)[-20000:]})
        sys.stderr.write("\n".join(lines) + "\n")
        got = [l for l in stdout.splitlines() if l.startswith("WORKER_RESULT ")]
        if got:
            self.res["fairchem"] += json.loads(got[-1][len("WORKER_RESULT "):])
        else:
            self.res["fairchem"].append({"backend": backend, "rc": rc, "error": stderr[-3000:],
                                         "wall_s": time.time() - t})
            sys.stderr.write(f"[fairchem {backend}] worker failed rc={rc}:\n{stderr[-3000:]}\n")
        self.save()

    def max_fit(self, kind):
        """Largest system that evaluates: double the atom count from the largest success while it runs and
        time remains (the engine switches to edge chunks by itself when a graph's activations would not fit,
        so peak memory does not grow in proportion and cannot be extrapolated from a smaller run)."""
        ok = [r for r in self.res["ours"] if r["structure"] == kind and r["variant"] == "fp32"
              and "seconds_per_eval" in r]
        if not ok:
            return
        n = max(r["atoms"] for r in ok)
        tried = []
        while self.left() > 90:
            n *= 2
            r = self.run_ours(kind, n, "fp32", timeout=int(max(self.left() - 30, 10)))
            r["max_fit_attempt"] = True
            tried.append((n, "seconds_per_eval" in r))
            self.save()
            if "seconds_per_eval" not in r:
                break
        self.res["notes"].append(f"max-fit {kind}: doubling from the largest measured size; tried "
                                 + ", ".join(f"{a} {'ok' if b else 'failed'}" for a, b in tried))

    def main(self):
        a = self.a
        kinds = a.structures.split(",")
        sizes = [int(s) for s in a.sizes.split(",")]
        for kind in kinds:
            for n in sizes:
                structure_path(a.out, kind, n)
        # ours
        if not a.skip_ours:
            variants = [(v, OURS_VARIANTS[v]) for v in a.ours_variants.split(",") if v]
            for kind in kinds:
                for n in sizes:
                    for name, extra in variants:
                        if self.left() < 30:
                            break
                        prev = [r for r in self.res["ours"] if r["structure"] == kind and r["variant"] == name and
                                r.get("oom")]
                        if prev:
                            continue
                        self.run_ours(kind, n, name, extra)
        # profile at 2000 atoms
        if a.profile and self.left() > 20:
            for kind in kinds[:1]:
                self.run_ours(kind, 2000, "fp32", profile=True)
                for name in ("fp32_split_tf32", "fp32_tf32"):  # the tensor-core modes asked for, TF32 always
                    if self.left() > 20 and (name == "fp32_tf32" or name in a.ours_variants.split(",")):
                        self.run_ours(kind, 2000, name, extra=OURS_VARIANTS[name], profile=True)
        # a small system in TF32 (issue 14's 192-atom target): GPU kernel time against the wall time says how much
        # of it is launch latency rather than work
        if a.profile_small and self.left() > 20:
            self.run_ours(kinds[-1], a.profile_small, "fp32_tf32", extra=OURS_VARIANTS["fp32_tf32"], profile=True)
        # fairchem
        if not a.skip_fairchem:
            for backend in [b for b in (a.backends + "," + a.extra).split(",") if b]:
                if backend not in BACKENDS:
                    self.res["notes"].append(f"unknown fairchem backend {backend}")
                    continue
                if self.left() < 40:
                    self.res["notes"].append(f"skipped fairchem {backend}: deadline")
                    continue
                sz = sizes if not backend.endswith("_compile") else [n for n in sizes if n == 2000] or sizes[:1]
                ks = kinds if not backend.endswith("_compile") else kinds[:1]
                self.run_fairchem(backend, ks, sz)
        if a.max_fit and not a.skip_ours:
            for kind in kinds:
                if self.left() > 60:
                    self.max_fit(kind)
        self.res["finished_after_s"] = time.time() - T0
        self.save()
        write_report(self.res, a.out)


# ----------------------------------------------------------------------------------------------- report
def _fmt_rate(r):
    if r is None:
        return "—"
    if r.get("oom"):
        return "OOM"
    if "seconds_per_eval" not in r:
        return "error"
    return f"{1.0 / r['seconds_per_eval']:.2f} ({r['seconds_per_eval'] * 1e3:.1f} ms)"


def write_report(res, out):
    ours = {(r["structure"], r["atoms"], r["variant"]): r for r in res["ours"]}
    fc = {(r.get("structure"), r.get("atoms"), r.get("backend")): r for r in res["fairchem"]}
    backends = [b for b in BACKENDS if any(k[2] == b for k in fc)]
    rows = sorted({(k[0], k[1]) for k in ours} | {(k[0], k[1]) for k in fc if k[0]})
    order = ["fp32", "fp32_split_tf32", "fp32_no_graphs", "fp32_tf32", "fp32_deterministic"]
    cols = [c for c in order if any(k[2] == c for k in ours)] + sorted({k[2] for k in ours} - set(order))
    lines = ["| structure | atoms | edges/atom | " + " | ".join(f"ours {c}" for c in cols) + " | " +
             " | ".join(f"fairchem {b}" for b in backends) + " | ours fp32 / fast_gpu | ours fp32 / fast_gpu (model only) |",
             "|---|---:|---:|" + "---:|" * (len(cols) + len(backends) + 2)]
    ratio_line = None
    for s, n in rows:
        o = {c: ours.get((s, n, c)) for c in cols}
        f = {b: fc.get((s, n, b)) for b in backends}
        epa = next((r.get("edges_per_atom") for r in o.values() if r and r.get("edges_per_atom")), None)
        if epa is None:
            e = next((r.get("edges") for r in f.values() if r and r.get("edges")), None)
            epa = e / n if e else None
        ratio = ratio_mo = "—"
        fg, of = f.get("umas_fast_gpu"), o.get("fp32")
        if fg and of and "seconds_per_eval" in fg and "seconds_per_eval" in of:
            ratio = f"{fg['seconds_per_eval'] / of['seconds_per_eval']:.2f}"
            if fg.get("graph_gen_s"):
                ratio_mo = f"{(fg['seconds_per_eval'] - fg['graph_gen_s']) / of['seconds_per_eval']:.2f}"
            if s == "carbon" and n == 2000:
                ratio_line = f"ratio_vs_umas_fast_gpu: {ratio}"
        lines.append(f"| {s} | {n} | {epa:.1f} | " if epa else f"| {s} | {n} | — | ")
        lines[-1] += " | ".join(_fmt_rate(o[c]) for c in cols) + " | " + " | ".join(_fmt_rate(f[b]) for b in backends)
        lines[-1] += f" | {ratio} | {ratio_mo} |"
    mem = ["| structure | atoms | " + " | ".join(f"ours {c}" for c in ["fp32"]) + " | " +
           " | ".join(f"fairchem {b}" for b in backends) + " |", "|---|---:|" + "---:|" * (1 + len(backends))]
    for s, n in rows:
        vals = []
        for r in [ours.get((s, n, "fp32"))] + [fc.get((s, n, b)) for b in backends]:
            vals.append("OOM" if r and r.get("oom") else
                        (f"{r['cuda_eval_bytes_per_atom'] / 2**20:.3f}" if r and "cuda_eval_bytes_per_atom" in r else "—"))
        mem.append(f"| {s} | {n} | " + " | ".join(vals) + " |")
    chk = ["| structure | atoms | backend | E fairchem (eV) | E ours fp32 (eV) | abs(dE)/atom (eV) |", "|---|---:|---|---:|---:|---:|"]
    for (s, n, b), r in sorted(fc.items(), key=lambda kv: tuple(str(x) for x in kv[0])):
        o = ours.get((s, n, "fp32"))
        if r.get("energy") is not None and o and o.get("energy") is not None:
            chk.append(f"| {s} | {n} | {b} | {r['energy']:.6f} | {o['energy']:.6f} | {abs(r['energy'] - o['energy']) / n:.2e} |")
    md = ["# generated by benchmarks/gpu_vs_fairchem.py", "", "energy+forces evaluations per second (median ms per "
          "evaluation in parentheses)", ""] + lines + ["", "evaluation memory, MiB per atom (peak allocated during one "
          "evaluation minus allocated before it)", ""] + mem + ["", "same weights, same structure: energies", ""] + chk + [
          "", ratio_line or "ratio_vs_umas_fast_gpu: n/a", ""]
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))
    try:
        plot(res, out, backends)
    except Exception as e:  # matplotlib missing or similar
        print(f"plot skipped: {e!r}", file=sys.stderr)


def plot(res, out, backends):
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = sorted({r["structure"] for r in res["ours"]} | {r.get("structure") for r in res["fairchem"] if
                                                              r.get("structure")})
    fig, axes = plt.subplots(1, len(kinds), figsize=(6.5 * len(kinds), 4.8), squeeze=False)
    for ax, kind in zip(axes[0], kinds):
        variants = ["fp32", "fp32_tf32", "fp32_deterministic"]
        variants = [v for v in variants if any(r["variant"] == v for r in res["ours"])] + sorted(
            {r["variant"] for r in res["ours"]} - set(variants))
        series = [(f"ours {v}", [r for r in res["ours"] if r["structure"] == kind and r["variant"] == v])
                  for v in variants]
        series += [(f"fairchem {b}", [r for r in res["fairchem"] if r.get("structure") == kind and
                                      r.get("backend") == b]) for b in backends]
        for label, rs in series:
            pts = sorted((r["atoms"], r["atoms"] / r["seconds_per_eval"]) for r in rs if "seconds_per_eval" in r)
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-" if label.startswith("ours") else "s--",
                        label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("atoms")
        ax.set_ylabel("atom-steps per second (energy + forces)")
        ax.set_title(f"{kind} ({'fcc C with vacancies' if kind == 'carbon' else 'liquid-like Cu, 11.8 Å³/atom'})")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"UMA-S-shaped model, {res['env'].get('cuda_device', 'GPU')}, fp32")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "results.png"), dpi=110)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", default="build-gpu/benchmarks/uma-engine-bench")
    ap.add_argument("--uma", default="potentials/uma-s-random-k2.uma")
    ap.add_argument("--pt", default="potentials/uma-s-random-k2.pt")
    ap.add_argument("--out", default="bench-out")
    ap.add_argument("--structures", default="carbon,cu")
    ap.add_argument("--sizes", default="200,2000,5000,20000")
    ap.add_argument("--backends", default="general,umas_fast_pytorch,umas_fast_gpu")
    ap.add_argument("--extra", default="", help="more fairchem columns: umas_fast_gpu_tf32, umas_fast_gpu_compile")
    ap.add_argument("--device", default="cuda", help="cuda (the benchmark); cpu only for dry runs of this script")
    ap.add_argument("--max-fit", action="store_true")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--profile-small", type=int, default=0, help="also profile ours in TF32 at this size (last structure)")
    ap.add_argument("--skip-ours", action="store_true")
    ap.add_argument("--skip-fairchem", action="store_true")
    ap.add_argument("--deadline", type=float, default=1e9, help="seconds after start; later items are skipped")
    ap.add_argument("--report-only", action="store_true", help="rewrite results.md/png from OUT/results.json")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--worker-backend", help=argparse.SUPPRESS)
    ap.add_argument("--worker-paths", help=argparse.SUPPRESS)
    ap.add_argument("--worker-profile", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--fairchem-profile", action="store_true", help="profile one predict() per size (torch.profiler)")
    ap.add_argument("--ours-variants", default="fp32,fp32_tf32,fp32_deterministic")
    ap.add_argument("--inputs", help="with --report-only: comma-separated results.json files to merge")
    ap.add_argument("--reps", help="W,R: warm-up and timed calls for every size (default: by size)")
    a = ap.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    if a.reps:
        global REPS_OVERRIDE
        REPS_OVERRIDE = tuple(int(x) for x in a.reps.split(","))
    if a.worker:
        fairchem_worker(a)
        return
    if a.report_only:
        files = a.inputs.split(",") if a.inputs else [os.path.join(a.out, "results.json")]
        merged = None
        for fn in files:
            with open(fn) as f:
                r = json.load(f)
            if merged is None:
                merged = r
            else:
                for k in ("ours", "fairchem", "profile", "notes"):
                    merged[k] += r.get(k, [])
        write_report(merged, a.out)
        return
    Driver(a).main()


if __name__ == "__main__":
    main()
