#!/usr/bin/env python3
"""Our engine (uma-engine-bench, TF32 and strict fp32) against fairchem's UMA Nitro, same random UMA-S-1.2.1-shaped
weights, same structures, one CUDA GPU: energy + forces, ms per evaluation (median of repeats).

  python benchmarks/nitro_vs_ours.py --bench build-gpu/benchmarks/uma-engine-bench \\
      --uma potentials/uma-s-1p2p1-random-k2.uma --pt /tmp/uma-s-1p2p1-random-k2.pt --out DIR \\
      [--cases carbon:2000,cu:2048,cu:192] [--ours-variants tf32,fp32] [--skip-nitro] [--skip-ours]
      [--reference] [--deadline SECONDS]
  python benchmarks/nitro_vs_ours.py --dry-run --out DIR        # no GPU: real structures, FAKE timings, report
  python benchmarks/nitro_vs_ours.py --report-only --out DIR    # rewrite DIR/nitro_vs_ours.md from its .json

On the GPU machine it is run by `bash tools/gpu/run-on-device.sh nitro`, after `bash tools/gpu/prepare-nitro-carry.sh`
here (it prints these calls with their measured sizes; make the second right after the first returns):
  run(command="bash tools/gpu/run-on-device.sh stage-nitro-a build-bench", carry=[".carry-nitro/a", ".carry/deps"])
  run(command="bash tools/gpu/run-on-device.sh nitro", carry=[".carry-nitro/b"])
The .pt is made there by tools/gpu/nitro_checkpoint.py; results come back as nitro_vs_ours.md/.json.

Model: potentials/uma-s-1p2p1-random-k2.uma and its fairchem twin (.pt), random weights with 2 MoLE experts. Both
sides merge the experts for the system's composition before timing, so the expert count does not change the cost
of an evaluation (the released 1.2.1 model has more experts; the merged model is the same size).
Structures (task omat, charge 0, spin 0; written to DIR/structures/ in the fixture format): carbon = fairchem's
fcc-carbon speed structure (make_carbon in benchmarks/gpu_vs_fairchem.py), cu = liquid-like Cu (make_cu there):
carbon 2000, Cu 2048 and Cu 192 atoms by default. Where ase is missing (the device before the Nitro archive is
unpacked) a numpy copy of those two functions writes the same files (--check-structures compares them).
Ours: uma-engine-bench, one process per case and variant (tf32: fp32 with TF32 GEMMs, as Nitro computes;
fp32: strict fp32). The radius graph is built once on the CPU and is NOT in the timed evaluation; its time
(graph_build_cpu_s) is reported next to it so the reader can add it.
Nitro: fairchem-core's `MLIPPredictUnit.predict` as users call it (load_predict_unit with the "nitro" preset;
compile=False, which only applies to the multigpu fallback that is refused here anyway), timed with the graph
construction INCLUDED (Nitro builds its own padded radius graph inside predict), torch.cuda.synchronize after each
call, median after warm-up. It runs in its own worker process (Nitro picks its kernels for the GPU current at
import and sets expandable_segments there; neither touches our process). The random file's MD5 is added to
Nitro's allowlist in that process only (uma-1p2.md section 5); `type(pu.model.module).__name__` must be
"UMANitroModel" after loading, after the first call and after timing, else the case is reported as a fallback
and not timed (--allow-fallback times it anyway, marked as such). If Nitro cannot be imported or refuses the model, the report says why and still gives ours.
--reference adds one strict-fp32 fairchem evaluation per case (execution_mode general, merge_mole, no TF32) to say
which side a Nitro-vs-ours energy difference comes from.
Output: DIR/nitro_vs_ours.json (written after every step) and DIR/nitro_vs_ours.md with exactly one line
`ratio_vs_nitro: X`, X = Nitro ms / ours-TF32 ms at carbon 2000 (> 1: ours is faster), and a table of the
other ratios.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gpu_vs_fairchem as gvf  # noqa: E402  (structures; imports nothing heavy at module level)

T0 = time.time()
TASK = "omat"
RESULT_JSON = "nitro_vs_ours.json"
RESULT_MD = "nitro_vs_ours.md"
HEADLINE = ("carbon", 2000)
VARIANTS = {"tf32": ["--tf32"], "fp32": [], "split_tf32": ["--split-tf32"]}
# what the DRY RUN pretends (ms): Nitro from uma-1p2.md, ours TF32 / fp32 near the 2026-11-27 results
FAKE_MS = {("carbon", 2000): (32.0, 42.7, 95.8), ("cu", 2048): (47.0, 64.4, 140.2), ("cu", 192): (6.6, 8.1, 16.5)}


# --------------------------------------------------------------------------------------------------- structures
def parse_cases(s: str):
    out = []
    for item in [x.strip() for x in s.split(",") if x.strip()]:
        kind, _, n = item.partition(":")
        if kind not in ("carbon", "cu") or not n.isdigit() or int(n) < 1:
            raise SystemExit(f"nitro_vs_ours: bad case {item!r} (want carbon:N or cu:N)")
        out.append((kind, int(n)))
    if not out:
        raise SystemExit("nitro_vs_ours: no cases")
    return out


def carbon_numpy(n_atoms: int, seed: int = 0):
    """gvf.make_carbon without ase (bit-identical; checked by --check-structures): fcc C primitive cell
    a = 3.8 Å repeated n x n x n in ase's order, n_atoms sites drawn with np.random.seed(seed)."""
    import math

    import numpy as np

    cell = 0.5 * 3.8 * np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
    n = int(math.ceil(n_atoms ** (1.0 / 3.0) - 1e-9))
    m = np.array([(i, j, k) for i in range(n) for j in range(n) for k in range(n)], dtype=float)
    pos = np.zeros((len(m), 3)) + m @ cell
    np.random.seed(seed)
    idx = np.random.choice(len(pos), n_atoms, replace=False)
    return np.full(n_atoms, 6), pos[idx], cell * n


def cu_numpy(n_atoms: int, seed: int = 0):
    """gvf.make_cu without ase (bit-identical): cubic fcc Cu at 11.8 Å^3/atom, N(0, 0.35²) displacements,
    wrapped as ase's wrap does (fractional + 1e-7, mod 1, - 1e-7)."""
    import numpy as np

    a = (4 * 11.8) ** (1.0 / 3.0)
    basis = np.array([[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]) * a
    rep = gvf.cu_repeats(n_atoms)
    cell0 = np.eye(3) * a
    m = np.array([(i, j, k) for i in range(rep[0]) for j in range(rep[1]) for k in range(rep[2])], dtype=float)
    pos = (basis[None, :, :] + (m @ cell0)[:, None, :]).reshape(-1, 3)
    cell = cell0 * np.array(rep)[:, None]
    rng = np.random.default_rng(seed)
    pos = pos + rng.normal(scale=0.35, size=pos.shape)
    frac = np.linalg.solve(cell.T, pos.T).T
    frac += 1e-7
    frac %= 1.0
    frac -= 1e-7
    return np.full(len(pos), 29), frac @ cell, cell


def _have_ase() -> bool:
    try:
        import ase.build  # noqa: F401

        return True
    except Exception:
        return False


def structure_file(out: str, kind: str, n: int) -> str:
    """The structure JSON (fixture format) of gvf.structure_path; without ase (the device before the Nitro archive
    is unpacked) from the numpy versions above, which write the same file."""
    if _have_ase():
        p = gvf.structure_path(out, kind, n)
    else:
        d = os.path.join(out, "structures")
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, f"{kind}_{n}.json")
        if not os.path.exists(p):
            z, pos, cell = carbon_numpy(n) if kind == "carbon" else cu_numpy(n)
            with open(p, "w") as f:
                json.dump({"name": f"{kind}_{n}", "task": TASK, "charge": 0, "spin": 0,
                           "numbers": [int(x) for x in z], "positions": pos.tolist(), "cell": cell.tolist(),
                           "pbc": [True, True, True]}, f, separators=(",", ":"))
    got = gvf.actual_atoms(p)
    if got != n:
        raise SystemExit(f"nitro_vs_ours: {kind} {n} gives {got} atoms (choose another size)")
    return p


def reps_for(n: int):
    """(warm-up, timed) calls: the small case is ~5-15 ms per call, so it gets more repeats."""
    return (10, 100) if n <= 500 else (5, 30)


# --------------------------------------------------------------------------------------------------- Nitro worker
class _Capture:
    """Collects fairchem's log warnings (the reason Nitro refused or fell back is logged there)."""

    def __init__(self):
        import logging

        self.lines = []
        cap = self

        class H(logging.Handler):
            def emit(self, record):
                try:
                    cap.lines.append(record.getMessage()[:600])
                except Exception:
                    pass

        self.handler = H(level=logging.WARNING)
        logging.getLogger().addHandler(self.handler)

    def nitro_reasons(self):
        return [l for l in self.lines if "UMA Nitro" in l or "Now running" in l or "nitro mode" in l]


def _model_class(pu) -> str:
    try:
        return type(pu.model.module).__name__
    except Exception as e:
        return f"<{e!r}>"


def nitro_worker(a) -> None:
    """One process: import Nitro, allowlist the random file, then per case a fresh predict unit (Nitro's merged
    composition is fixed per unit), first call, warm-up, peak memory, timed calls. Results after each case go to
    a.worker_out and at the end to stdout as WORKER_RESULT <json>."""
    import gc
    import logging
    import warnings

    warnings.simplefilter("ignore")
    logging.getLogger().setLevel(logging.WARNING)
    cap = _Capture()
    res = {"cases": [], "env": {}}

    def save():
        with open(a.worker_out, "w") as f:
            json.dump(res, f, indent=1)

    def finish():
        save()
        print("WORKER_RESULT " + json.dumps(res), flush=True)

    t = time.time()
    try:
        import torch

        res["env"]["torch"] = torch.__version__
        cuda = a.device == "cuda"
        if cuda:
            res["env"]["gpu"] = torch.cuda.get_device_name(0)
            res["env"]["capability"] = list(torch.cuda.get_device_capability(0))
        from fairchem.core.common.checksums import cached_file_md5
        from fairchem.core.units.mlip_unit import load_predict_unit
        from fairchem.core.units.mlip_unit.api.inference import inference_settings_nitro

        from fairchem.core.models.uma.uma_nitro import _inference as nitro
        res["env"]["nitro_kernels"] = nitro.kernel_backend_summary()
        res["env"]["alloc_conf"] = os.environ.get("PYTORCH_CUDA_ALLOC_CONF", "")
        try:
            from importlib.metadata import version

            res["env"]["fairchem_core"] = version("fairchem-core")
            res["env"]["cutlass_dsl"] = version("nvidia-cutlass-dsl-libs-base")
        except Exception:
            pass
    except Exception as e:  # the import closure is incomplete: say what broke, report ours alone
        import traceback

        res["import_error"] = f"{e!r}"[:1500]
        res["import_traceback"] = traceback.format_exc()[-4000:]
        print(f"[nitro] import failed: {e!r}"[:2000], file=sys.stderr, flush=True)
        finish()
        return
    res["env"]["import_s"] = round(time.time() - t, 1)
    # benchmark-only allowlisting of the random file (uma-1p2.md section 5); nothing on disk is edited
    md5 = cached_file_md5(a.pt)
    nitro._SUPPORTED_CHECKPOINTS.setdefault(md5, "random UMA-S-1.2.1-shaped benchmark model")
    res["env"]["pt_md5"] = md5
    settings = inference_settings_nitro()
    settings.compile = False  # only the multigpu fallback would compile; a fallback is not timed here
    if not cuda:  # CPU check of this worker only: no Nitro without CUDA, the fallback path is what gets tested
        torch.cuda.synchronize = lambda *x: None
        torch.cuda.memory_allocated = torch.cuda.max_memory_allocated = lambda *x: 0
        torch.cuda.reset_peak_memory_stats = torch.cuda.empty_cache = lambda *x: None
    for spec in a.worker_cases.split(","):
        kind, n_s, path = spec.split(":", 2)
        n = int(n_s)
        r = {"structure": kind, "atoms": n, "path": path}
        res["cases"].append(r)
        left = a.worker_deadline - (time.time() - T0)
        if left < (25 if res["cases"][:-1] else 40):
            r["skipped"] = f"deadline ({left:.0f} s left)"
            save()
            continue
        pu = None
        try:
            n_log = len(cap.lines)
            t = time.time()
            pu = load_predict_unit(a.pt, inference_settings=settings, device=a.device)
            r["load_s"] = time.time() - t
            r["class_after_load"] = _model_class(pu)
            if r["class_after_load"] != "UMANitroModel":
                r["fallback"] = "at load"
                r["reason"] = cap.nitro_reasons()[-3:] or cap.lines[n_log:][-3:]
                print(f"[nitro] {kind} {n}: Nitro refused the model ({r['class_after_load']} runs): "
                      f"{r['reason']}", file=sys.stderr, flush=True)
                save()
                if not a.worker_allow_fallback:
                    break  # the same file and settings: the other cases would be refused the same way
            atoms = gvf.read_structure(path)
            data, out, r["first_call_s"] = gvf.first_predict(pu, atoms)
            r["class_after_first_call"] = _model_class(pu)
            warm, reps = reps_for(n)
            if a.worker_reps:
                warm, reps = (int(x) for x in a.worker_reps.split(","))
            out, r["cuda_bytes_before_eval"], r["cuda_peak_bytes"] = gvf.warm_and_measure_memory(pu, data, warm)
            times, out = gvf.time_predict(pu, data, reps)
            r["class_after_timing"] = _model_class(pu)
            r["energy"] = float(out["energy"].reshape(-1)[0])
            f = out["forces"].detach().double().cpu()
            r["sum_abs_forces"] = float(f.abs().sum())
            r["max_abs_force"] = float(f.abs().max())
            r["seconds_per_eval"] = statistics.median(times)
            r["min_s"], r["max_s"] = min(times), max(times)
            r["all_seconds"] = times
            r["warmup"], r["repeats"] = warm, reps
            r["is_nitro"] = all(r.get(k) == "UMANitroModel" for k in
                                ("class_after_load", "class_after_first_call", "class_after_timing"))
            if not r["is_nitro"]:
                if not r.get("fallback"):
                    r["fallback"] = "during the calls"
                    r["reason"] = cap.nitro_reasons()[-3:] or cap.lines[n_log:][-3:]
            print(f"[nitro] {kind} {n}: {r['seconds_per_eval'] * 1e3:.2f} ms (median of {reps}; first call "
                  f"{r['first_call_s']:.1f} s), E = {r['energy']:.6f} eV, model {r['class_after_timing']}"
                  + ("" if r["is_nitro"] else "  <-- NOT Nitro"), file=sys.stderr, flush=True)
        except Exception as e:
            r["error"] = f"{e!r}"[:1500]
            r["oom"] = "OutOfMemory" in type(e).__name__
            print(f"[nitro] {kind} {n}: ERROR {e!r}"[:2000], file=sys.stderr, flush=True)
        finally:
            if pu is not None:
                rel = getattr(getattr(getattr(pu, "model", None), "module", None), "release_inference_resources", None)
                try:
                    if rel:
                        rel()
                except Exception:
                    pass
            pu = data = out = None
            gc.collect()
            torch.cuda.empty_cache()
            save()
    res["log_tail"] = cap.nitro_reasons()[-10:]
    finish()


def reference_worker(a) -> None:
    """Strict-fp32 fairchem (execution_mode general, merge_mole, TF32 off): one energy per case."""
    import logging
    import warnings

    warnings.simplefilter("ignore")
    logging.getLogger().setLevel(logging.ERROR)
    res = {"cases": []}
    try:
        import torch
        from fairchem.core.datasets.atomic_data import AtomicData
        from fairchem.core.units.mlip_unit import InferenceSettings, load_predict_unit

        settings = InferenceSettings(tf32=False, activation_checkpointing=False, merge_mole=True, compile=False,
                                     external_graph_gen=False, internal_graph_gen_version=2,
                                     execution_mode="general", base_precision_dtype=torch.float32)
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        for spec in a.worker_cases.split(","):
            kind, n_s, path = spec.split(":", 2)
            r = {"structure": kind, "atoms": int(n_s)}
            res["cases"].append(r)
            if a.worker_deadline - (time.time() - T0) < 15:
                r["skipped"] = "deadline"
                continue
            try:
                pu = load_predict_unit(a.pt, inference_settings=settings, device=a.device)
                atoms = gvf.read_structure(path)
                pu.validate_atoms_data(atoms, TASK)
                data = AtomicData.from_ase(atoms, task_name=TASK, r_edges=False, r_data_keys=["spin", "charge"])
                out = pu.predict(data)
                r["energy"] = float(out["energy"].reshape(-1)[0])
                r["sum_abs_forces"] = float(out["forces"].abs().sum())
                print(f"[reference] {kind} {n_s}: E = {r['energy']:.6f} eV (fairchem general, strict fp32)",
                      file=sys.stderr, flush=True)
            except Exception as e:
                r["error"] = f"{e!r}"[:800]
                print(f"[reference] {kind} {n_s}: ERROR {e!r}"[:1000], file=sys.stderr, flush=True)
            pu = data = out = None
            if a.device == "cuda":
                torch.cuda.empty_cache()
    except Exception as e:
        res["import_error"] = f"{e!r}"[:1500]
    print("WORKER_RESULT " + json.dumps(res), flush=True)


# --------------------------------------------------------------------------------------------------- driver
class Driver:
    def __init__(self, a):
        self.a = a
        self.cases = parse_cases(a.cases)
        self.res = {"started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "dry_run": bool(a.dry_run),
                    "model": {"uma": a.uma, "pt": a.pt}, "cases": [list(c) for c in self.cases],
                    "ours": [], "nitro": {}, "reference": {}, "notes": [], "env": self.env()}
        self.save()

    def env(self):
        e = {"host_python": sys.version.split()[0]}
        try:
            e["nvidia_smi"] = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,clocks.max.sm",
                                              "--format=csv,noheader"], capture_output=True, text=True,
                                             timeout=20).stdout.strip()
        except Exception:
            e["nvidia_smi"] = None
        try:
            e["uma_sha256"] = _sha256(self.a.uma)
        except Exception:
            pass
        return e

    def left(self):
        return self.a.deadline - (time.time() - T0)

    def save(self):
        with open(os.path.join(self.a.out, RESULT_JSON), "w") as f:
            json.dump(self.res, f, indent=1)

    # ours ---------------------------------------------------------------------------------------------------
    def run_ours(self, kind, n, variant):
        path = structure_file(self.a.out, kind, n)
        warm, reps = reps_for(n)
        if self.a.reps:
            warm, reps = (int(x) for x in self.a.reps.split(","))
        cmd = [self.a.bench, "--model", self.a.uma, "--structure", path, "--device", self.a.device,
               "--precision", "fp32", "--task", TASK, "--warmup", str(warm), "--repeats", str(reps),
               *VARIANTS[variant]]
        r = {"structure": kind, "atoms": n, "variant": variant, "cmd": " ".join(cmd)}
        t = time.time()
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=max(min(self.left() - 5, 240), 5))
            stdout, stderr, r["rc"] = p.stdout, p.stderr, p.returncode
        except subprocess.TimeoutExpired:
            stdout, stderr, r["rc"] = "", "timeout", -9
        except OSError as e:
            stdout, stderr, r["rc"] = "", f"cannot run {self.a.bench}: {e}", -1
        r["wall_s"] = time.time() - t
        try:
            j = json.loads(stdout.strip().splitlines()[-1])
            j.pop("structure", None)
            if j.get("atoms") not in (None, n):
                r["bench_atoms"] = j["atoms"]  # the file has other atoms than the case says: shown, not merged
            j.pop("atoms", None)
            r.update(j)
        except Exception:
            pass
        if "seconds_per_eval" not in r:
            r["error"] = (stderr or "no output")[-1500:]
        bench_lines = [l for l in stderr.splitlines() if l.startswith("[bench]") or "error" in l.lower()]
        sys.stderr.write("\n".join(bench_lines[-6:]) + "\n")
        self.res["ours"].append(r)
        self.save()
        return r

    # workers ------------------------------------------------------------------------------------------------
    def run_worker(self, role, reserve=0.0):
        specs = ",".join(f"{k}:{n}:{structure_file(self.a.out, k, n)}" for k, n in self.cases)
        wout = os.path.join(self.a.out, f"{role}_worker.json")
        deadline = self.a.deadline - reserve
        cmd = [sys.executable, os.path.abspath(__file__), f"--{role}-worker", "--pt", self.a.pt, "--out", self.a.out,
               "--device", self.a.device, "--worker-cases", specs, "--worker-out", wout,
               "--worker-deadline", str(min(deadline - (time.time() - T0) - 10, 86400))]
        if self.a.reps:
            cmd += ["--worker-reps", self.a.reps]
        if self.a.allow_fallback:
            cmd += ["--worker-allow-fallback"]
        env = dict(os.environ)
        if role == "nitro":
            # what Nitro sets at import anyway, set before torch starts (the worker's process only)
            cur = env.get("PYTORCH_CUDA_ALLOC_CONF", "")
            if "expandable_segments" not in cur:
                env["PYTORCH_CUDA_ALLOC_CONF"] = f"{cur},expandable_segments:True".lstrip(",")
        t = time.time()
        timeout = min(max(deadline - (time.time() - T0), 10), 86400)
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
            stdout, stderr, rc = p.stdout, p.stderr, p.returncode
        except subprocess.TimeoutExpired as e:
            stdout = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
            stderr = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
            rc = "timeout"
        lines = [l for l in stderr.splitlines() if l.startswith(f"[{role}]")]
        sys.stderr.write("\n".join(lines) + ("\n" if lines else ""))
        got = [l for l in stdout.splitlines() if l.startswith("WORKER_RESULT ")]
        if got:
            w = json.loads(got[-1][len("WORKER_RESULT "):])
        elif os.path.exists(wout):  # killed at the deadline: what it saved after each case
            with open(wout) as f:
                w = json.load(f)
            w["worker_error"] = f"worker ended rc={rc} before its summary; partial results"
        else:
            w = {"cases": [], "worker_error": f"worker rc={rc}: " + stderr[-2500:]}
            sys.stderr.write(f"[{role}] worker failed rc={rc}:\n{stderr[-2500:]}\n")
        w["worker_rc"] = rc
        w["worker_wall_s"] = time.time() - t
        w["stderr_tail"] = stderr[-4000:]  # fairchem's own log (Nitro banner, fallback warnings)
        if role == "nitro" and not any(c.get("is_nitro") for c in w.get("cases", [])):
            sys.stderr.write(f"[{role}] worker stderr (last 2000 characters):\n{stderr[-2000:]}\n")
        self.res[role] = w
        self.save()

    def main(self):
        a = self.a
        for k, n in self.cases:
            structure_file(a.out, k, n)
        if a.dry_run:
            self.fake()
        else:
            if not a.skip_ours:
                variants = [v for v in a.ours_variants.split(",") if v]
                for v in variants:
                    if v not in VARIANTS:
                        raise SystemExit(f"nitro_vs_ours: unknown variant {v} (choose from {list(VARIANTS)})")
                for k, n in self.cases:
                    for v in variants:
                        if self.left() < 20:
                            self.res["notes"].append(f"ours {k} {n} {v}: skipped, deadline")
                            continue
                        self.run_ours(k, n, v)
            if a.skip_nitro:
                self.res["nitro"] = {"cases": [], "skipped": a.skip_nitro_reason or "--skip-nitro"}
            elif self.left() < 60:
                self.res["nitro"] = {"cases": [], "skipped": f"deadline ({self.left():.0f} s left)"}
            else:
                self.run_worker("nitro", reserve=(60 if a.reference else 0))
            if a.reference and a.skip_nitro:
                self.res["notes"].append("reference: skipped with Nitro (it needs the same fairchem install)")
            elif a.reference:
                if self.left() > 30:
                    self.run_worker("reference")
                else:
                    self.res["notes"].append("reference: skipped, deadline")
        self.res["finished_after_s"] = round(time.time() - T0, 1)
        self.save()
        write_report(self.res, a.out)

    def fake(self):
        """--dry-run: every number below is made up (FAKE_MS); only the structures and the plumbing are real."""
        for k, n in self.cases:
            path = structure_file(self.a.out, k, n)
            nitro_ms, tf32_ms, fp32_ms = FAKE_MS.get((k, n), (n * 0.016, n * 0.021, n * 0.047))
            e0 = -3.1 * n
            for v, ms, de in (("tf32", tf32_ms, 2e-5), ("fp32", fp32_ms, 1e-6)):
                self.res["ours"].append({"structure": k, "atoms": n, "variant": v, "rc": 0, "fake": True,
                                         "seconds_per_eval": ms / 1e3, "graph_build_cpu_s": 2e-5 * n,
                                         "edges": 49 * n if k == "carbon" else 75 * n,
                                         "edges_per_atom": 49.0 if k == "carbon" else 75.0,
                                         "energy": e0 + de * n, "sum_abs_forces": 1.1 * n, "path": path})
            self.res["nitro"].setdefault("cases", []).append(
                {"structure": k, "atoms": n, "fake": True, "seconds_per_eval": nitro_ms / 1e3, "first_call_s": 20.0,
                 "is_nitro": True, "class_after_timing": "UMANitroModel", "energy": e0, "sum_abs_forces": 1.1 * n,
                 "cuda_peak_bytes": int(6e6 * n)})
        self.res["nitro"]["env"] = {"nitro_kernels": "FAKE (dry run)"}
        self.res["notes"].append("DRY RUN: all timings and energies are fake; only the structures are real")


def _sha256(path):
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------------------------------- report
def _ms(r):
    if not r:
        return None
    return r["seconds_per_eval"] * 1e3 if "seconds_per_eval" in r else None


def _fmt_ms(r, why=True):
    if r is None:
        return "—"
    if r.get("skipped"):
        return "skipped"
    if r.get("oom"):
        return "OOM"
    if "seconds_per_eval" not in r:
        return "error" if why else "—"
    return f"{r['seconds_per_eval'] * 1e3:.2f}"


def nitro_status(res) -> tuple[bool, str]:
    """(usable, one-line reason when not)."""
    n = res.get("nitro") or {}
    if n.get("skipped"):
        return False, f"Nitro skipped: {n['skipped']}"
    if n.get("import_error"):
        return False, f"Nitro could not be imported: {n['import_error'][:300]}"
    cases = n.get("cases") or []
    fb = [c for c in cases if c.get("fallback")]
    if fb:
        return bool([c for c in cases if c.get("is_nitro")]), \
            f"Nitro fell back ({fb[0]['fallback']}) for {fb[0]['structure']} {fb[0]['atoms']}: " \
            f"{'; '.join(fb[0].get('reason') or [])[:400]}"
    if not any(c.get("is_nitro") for c in cases):
        err = n.get("worker_error") or next((c.get("error") for c in cases if c.get("error")), None)
        return False, f"no Nitro timing ({(err or 'no result')[:400]})"
    return True, ""


def write_report(res, out):
    ours = {(r["structure"], r["atoms"], r["variant"]): r for r in res.get("ours", [])}
    nit = {(c["structure"], c["atoms"]): c for c in (res.get("nitro") or {}).get("cases", [])}
    ref = {(c["structure"], c["atoms"]): c for c in (res.get("reference") or {}).get("cases", [])}
    cases = [tuple(c) for c in res.get("cases", [])]
    ok, why = nitro_status(res)

    def nitro_ms(key):
        c = nit.get(key)
        return _ms(c) if c and c.get("is_nitro") else None

    ratios = {}
    rows = ["| structure | atoms | edges/atom | Nitro predict (ms, graph incl.) | ours TF32 (ms) | ours fp32 (ms) | "
            "our graph build, CPU (ms) | Nitro / ours TF32 | Nitro / ours fp32 | Nitro / (ours TF32 + graph) | "
            "Nitro first call (s) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for key in cases:
        s, n = key
        t, f = ours.get((s, n, "tf32")), ours.get((s, n, "fp32"))
        c = nit.get(key)
        nm, tm, fm = nitro_ms(key), _ms(t), _ms(f)
        g = next((r.get("graph_build_cpu_s") for r in (t, f) if r and r.get("graph_build_cpu_s") is not None), None)
        epa = next((r.get("edges_per_atom") for r in (t, f) if r and r.get("edges_per_atom")), None)
        r_t = nm / tm if nm and tm else None
        r_f = nm / fm if nm and fm else None
        r_g = nm / (tm + g * 1e3) if nm and tm and g is not None else None
        ratios[f"{s}_{n}"] = {"nitro_over_ours_tf32": r_t, "nitro_over_ours_fp32": r_f,
                              "nitro_over_ours_tf32_plus_graph": r_g}
        nitro_cell = "fallback" if c and c.get("fallback") else _fmt_ms(c)
        rows.append(f"| {s} | {n} | {epa:.1f} | " if epa else f"| {s} | {n} | — | ")
        rows[-1] += " | ".join([nitro_cell, _fmt_ms(t), _fmt_ms(f), f"{g * 1e3:.1f}" if g is not None else "—",
                                f"{r_t:.2f}" if r_t else "—", f"{r_f:.2f}" if r_f else "—",
                                f"{r_g:.2f}" if r_g else "—",
                                f"{c['first_call_s']:.1f}" if c and c.get("first_call_s") is not None else "—"]) + " |"
    head = ratios.get(f"{HEADLINE[0]}_{HEADLINE[1]}", {}).get("nitro_over_ours_tf32")
    res["ratio_vs_nitro"] = head
    res["ratios"] = ratios
    chk = ["| structure | atoms | E Nitro (eV) | E ours TF32 (eV) | E ours fp32 (eV) | abs(dE)/atom Nitro vs ours TF32 | "
           "abs(dE)/atom Nitro vs ours fp32 | abs(dE)/atom ours TF32 vs fp32 | sum abs(F) rel. diff Nitro vs ours TF32 | "
           "E fairchem strict fp32 (eV) |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    checks = {}
    for key in cases:
        s, n = key
        c, t, f, rf = nit.get(key), ours.get((s, n, "tf32")), ours.get((s, n, "fp32")), ref.get(key)
        en = c.get("energy") if c and c.get("is_nitro") else None
        et, ef = (t or {}).get("energy"), (f or {}).get("energy")
        er = (rf or {}).get("energy")

        def d(x, y):
            return abs(x - y) / n if x is not None and y is not None else None

        fn, ft = (c or {}).get("sum_abs_forces") if en is not None else None, (t or {}).get("sum_abs_forces")
        frel = abs(fn - ft) / abs(ft) if fn is not None and ft else None
        checks[f"{s}_{n}"] = {"dE_per_atom_nitro_vs_ours_tf32": d(en, et), "dE_per_atom_nitro_vs_ours_fp32": d(en, ef),
                              "dE_per_atom_ours_tf32_vs_fp32": d(et, ef), "sumF_rel_nitro_vs_ours_tf32": frel,
                              "dE_per_atom_reference_vs_ours_fp32": d(er, ef), "dE_per_atom_reference_vs_nitro": d(er, en)}

        def e(x):
            return f"{x:.6f}" if x is not None else "—"

        def g(x):
            return f"{x:.2e}" if x is not None else "—"

        cc = checks[f"{s}_{n}"]
        chk.append(f"| {s} | {n} | {e(en)} | {e(et)} | {e(ef)} | {g(cc['dE_per_atom_nitro_vs_ours_tf32'])} | "
                   f"{g(cc['dE_per_atom_nitro_vs_ours_fp32'])} | {g(cc['dE_per_atom_ours_tf32_vs_fp32'])} | "
                   f"{g(frel)} | {e(er)} |")
    res["energy_checks"] = checks
    mem = ["| structure | atoms | Nitro peak allocated (MiB) | ours TF32 peak allocated (MiB) |", "|---|---:|---:|---:|"]
    for key in cases:
        c, t = nit.get(key) or {}, ours.get((key[0], key[1], "tf32")) or {}
        mem.append(f"| {key[0]} | {key[1]} | " + " | ".join(
            f"{r['cuda_peak_bytes'] / 2**20:.0f}" if r.get("cuda_peak_bytes") else "—" for r in (c, t)) + " |")
    env = res.get("env", {})
    nenv = (res.get("nitro") or {}).get("env", {})
    md = ["# ours vs fairchem UMA Nitro (generated by benchmarks/nitro_vs_ours.py)", ""]
    if res.get("dry_run"):
        md += ["**DRY RUN: every timing and energy below is FAKE (plumbing test without a GPU).**", ""]
    md += [f"GPU: {env.get('nvidia_smi') or nenv.get('gpu') or '?'}; Nitro kernels: {nenv.get('nitro_kernels', '—')}; "
           f"torch {nenv.get('torch', '?')}, fairchem-core {nenv.get('fairchem_core', '?')}, "
           f"nvidia-cutlass-dsl {nenv.get('cutlass_dsl', '?')}; started {res.get('started')}.",
           f"Model: `{os.path.basename(res['model']['uma'])}` (sha256 {env.get('uma_sha256', '?')[:16]}…) and its "
           "fairchem twin: random UMA-S-1.2.1-shaped weights with 2 MoLE experts. Both sides merge the experts for the "
           "composition before timing, so the expert count does not change the cost of an evaluation.",
           "Energy + forces per evaluation, median ms. **Nitro: `MLIPPredictUnit.predict` as fairchem users call it, "
           "graph construction included.** Ours: `uma-engine-bench` evaluation (energy, forces, virial) with the "
           "radius graph built beforehand and NOT included; our graph-build time (CPU, once) is in its own column "
           "and in the last ratio column. TF32 = fp32 tensors with TF32 GEMMs (what Nitro computes in); "
           "fp32 = strict fp32.", ""]
    if not ok:
        md += [f"**Nitro: not measured — {why}** (ours is reported alone).", ""]
    elif why:
        md += [f"Note: {why}", ""]
    md += rows + ["", "Energies on the same weights and structures (Nitro runs TF32, so agreement is to TF32 "
                  "tolerance):", ""] + chk + ["", "Peak CUDA memory during one evaluation:", ""] + mem + [""]
    for note in res.get("notes", []):
        md.append(f"- {note}")
    md += ["", f"ratio_vs_nitro: {head:.2f}" if head else
           f"ratio_vs_nitro: n/a ({(why or 'no timing at ' + ' '.join(map(str, HEADLINE)))[:200]})", ""]
    # exactly one line starts with 'ratio_vs_nitro:'
    assert sum(1 for l in md if l.startswith("ratio_vs_nitro:")) == 1
    with open(os.path.join(out, RESULT_MD), "w") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(out, RESULT_JSON), "w") as f:
        json.dump(res, f, indent=1)
    print("\n".join(md))


# --------------------------------------------------------------------------------------------------- main
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", default="build-gpu/benchmarks/uma-engine-bench")
    ap.add_argument("--uma", default="potentials/uma-s-1p2p1-random-k2.uma")
    ap.add_argument("--pt", default="/tmp/uma-s-1p2p1-random-k2.pt")
    ap.add_argument("--out", default="nitro-out")
    ap.add_argument("--cases", default="carbon:2000,cu:2048,cu:192", help="KIND:ATOMS,... (carbon or cu)")
    ap.add_argument("--ours-variants", default="tf32,fp32")
    ap.add_argument("--device", default="cuda", help="cuda; cpu only to check the fallback path of the workers")
    ap.add_argument("--skip-ours", action="store_true")
    ap.add_argument("--skip-nitro", action="store_true", help="report ours alone")
    ap.add_argument("--skip-nitro-reason", help="the reason printed with --skip-nitro")
    ap.add_argument("--allow-fallback", action="store_true",
                    help="time the predict unit even when Nitro refused the model (reported as a fallback)")
    ap.add_argument("--reference", action="store_true", help="one strict-fp32 fairchem energy per case")
    ap.add_argument("--reps", help="W,R: warm-up and timed calls for every case (default 5,30; 10,100 at <= 500 atoms)")
    ap.add_argument("--deadline", type=float, default=1e9, help="seconds after start; later steps are skipped")
    ap.add_argument("--dry-run", action="store_true", help="no GPU: real structures, fake timings, the report")
    ap.add_argument("--report-only", action="store_true", help="rewrite the report from OUT/nitro_vs_ours.json")
    ap.add_argument("--check-structures", action="store_true",
                    help="check that the ase-free structures equal gpu_vs_fairchem's (for --cases), then exit")
    ap.add_argument("--nitro-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--reference-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--worker-cases", help=argparse.SUPPRESS)
    ap.add_argument("--worker-out", help=argparse.SUPPRESS)
    ap.add_argument("--worker-deadline", type=float, default=1e9, help=argparse.SUPPRESS)
    ap.add_argument("--worker-reps", help=argparse.SUPPRESS)
    ap.add_argument("--worker-allow-fallback", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.reps and (len(a.reps.split(",")) != 2 or not all(x.isdigit() for x in a.reps.split(","))):
        ap.error("--reps wants W,R")
    os.makedirs(a.out, exist_ok=True)
    if a.nitro_worker:
        nitro_worker(a)
        return 0
    if a.reference_worker:
        reference_worker(a)
        return 0
    if a.check_structures:  # the numpy structures against gvf's ase ones (needs ase)
        import numpy as np

        bad = 0
        for k, n in parse_cases(a.cases):
            at = gvf.make_carbon(n) if k == "carbon" else gvf.make_cu(n)
            z, pos, cell = carbon_numpy(n) if k == "carbon" else cu_numpy(n)
            same = (len(at) == len(z) and (at.numbers == z).all() and np.array_equal(at.get_positions(), pos)
                    and np.array_equal(at.get_cell()[:], cell))
            bad += not same
            print(f"{k} {n}: numpy structure {'==' if same else '!='} gpu_vs_fairchem's (ase)")
        return 1 if bad else 0
    if a.report_only:
        with open(os.path.join(a.out, RESULT_JSON)) as f:
            write_report(json.load(f), a.out)
        return 0
    if not a.dry_run:
        if not a.skip_ours and not os.path.exists(a.bench):
            print(f"nitro_vs_ours: {a.bench} not found (build it: run-on-device.sh build-bench); ours skipped",
                  file=sys.stderr)
            a.skip_ours = True
        if not a.skip_nitro and not os.path.exists(a.pt):
            a.skip_nitro, a.skip_nitro_reason = True, f"no fairchem checkpoint at {a.pt}"
    Driver(a).main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
