#!/usr/bin/env python3
"""Report of tools/gpu/run-kk-matrix.sh (issue 6): reads its work folder, writes OUT/results.md, results.json
and results.png (matplotlib permitting), and prints the markdown.

  python benchmarks/kk_matrix_report.py --work /tmp/kkm --out $OUT

The work folder holds runs.tsv (one line per LAMMPS run: tag, phase, atoms, ranks, GPUs, exit status, wall
seconds, GPU memory idle/peak in MiB from nvidia-smi every 0.2 s, timeout, log path), notes.txt, the LAMMPS
logs (logs/TAG.log, their stdout+stderr logs/TAG.out), build/env.txt, and fc/results.json (fairchem's numbers
from benchmarks/gpu_vs_fairchem.py --skip-ours). Run tags: nve, parity.{cu,omol}.np{1,2},
matrix.{kk,plain}.N, largest.N, scaling.np{1,2}.

Steps/s of a LAMMPS run: steps / seconds of the last "Loop time" line (the timed `run` after the warm-up
`run`; neighbor rebuilds included). Memory per atom: (peak - idle) / atoms, nvidia-smi's memory.used of
the run's (first) GPU: CUDA context + the caching allocator's peak, not the live working set. fairchem's
memory column is its own torch peak-allocated bytes during one evaluation. NVE drift: least-squares slope of
total energy per atom against time (eV/atom/ns); fluctuation: rms of the residual about that line.

Prints `kk_ratio_vs_umas_fast_gpu: X` (2000 atoms: uma/kk fp32 MD steps/s / fairchem umas_fast_gpu fp32
evals/s) only when both were measured in the work folder read, i.e. in the same call.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import re
import subprocess
import sys
import time

LOOP_RE = re.compile(r"^Loop time of (\S+) on (\d+) procs for (\d+) steps with (\d+) atoms")
RATIO_ATOMS = 2000
PARITY_TOL = 1e-10  # unittest/kokkos/compare_kk.py's bound for fp64 uma/kk vs uma (same network, other sum order)

# The LAMMPS tests' thermo parser (one parser for every suite; it needs numpy, as this report does).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unittest", "lammps"))
from harness import thermo_tables  # noqa: E402


# ----------------------------------------------------------------------------------------------- parsing
def read_text(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def parse_log(path):
    """Thermo rows (dicts, all tables in order), loop lines, first error line of a LAMMPS log (+ .out)."""
    text = read_text(path)
    tables = thermo_tables(text)
    loops = []
    for line in text.splitlines():
        m = LOOP_RE.match(line)
        if m:
            loops.append({"seconds": float(m.group(1)), "procs": int(m.group(2)), "steps": int(m.group(3)),
                          "atoms": int(m.group(4))})
    err = None
    other = read_text(path[:-4] + ".out") if path.endswith(".log") else ""
    for src in (text, other):
        for line in src.splitlines():
            if line.startswith("ERROR") or "out of memory" in line or "terminate called" in line or \
                    "what():" in line or "Segmentation fault" in line or "Kokkos::" in line and "ERROR" in line:
                err = line.strip()[:400]
                break
        if err:
            break
    if err is None and other.strip():
        tail = [l for l in other.splitlines() if l.strip() and "WARNING" not in l]
        if tail and any(k in tail[-1].lower() for k in ("error", "abort", "killed", "signal")):
            err = tail[-1].strip()[:400]
    return {"tables": [(c, [dict(zip(c, r)) for r in rows]) for c, rows in tables], "loops": loops, "error": err,
            "timeout_warning": "Wall time limit reached" in text}


def read_runs(work):
    runs = {}
    path = os.path.join(work, "runs.tsv")
    if not os.path.exists(path):
        return runs
    with open(path) as f:
        for r in csv.DictReader(f, delimiter="\t"):
            rec = dict(r)
            for k in ("atoms", "ranks", "wall_s", "mem_idle_mib", "mem_peak_mib", "timeout_s"):
                try:
                    rec[k] = int(float(rec[k]))
                except (TypeError, ValueError):
                    rec[k] = None
            rec["skipped"] = rec["rc"] == "skipped"
            rec["rc"] = None if rec["skipped"] else int(rec["rc"])
            rec.update(parse_log(rec["log"]) if not rec["skipped"] else {"tables": [], "loops": [], "error": None,
                                                                            "timeout_warning": False})
            if rec["skipped"]:
                rec["error"] = "not run (out of time)"
            elif rec["rc"] == 0:
                rec["error"] = None
            elif rec["rc"] in (124, 137) and not rec["error"]:
                rec["error"] = f"killed by the time box after {rec['wall_s']} s (timeout {rec['timeout_s']} s)"
            elif rec["rc"] not in (0, None) and not rec["error"]:
                rec["error"] = f"exit status {rec['rc']}, no error line found"
            runs[rec["tag"]] = rec
    return runs


def rows_of(rec):
    return [row for _, rows in rec["tables"] for row in rows]


def steps_per_s(rec, partial_ok=True):
    """Steps/s of the last (timed) run: from its Loop time line; if the run was cut before that line, from
    the CPU (wall seconds) column of its last thermo table (marked in rec["rate_from"])."""
    if not rec or rec.get("skipped"):
        return None
    if rec["loops"] and len(rec["loops"]) == len(rec["tables"]) and rec.get("rc") == 0:
        lp = rec["loops"][-1]
        if lp["seconds"] > 0 and lp["steps"] > 0:
            rec["rate_from"] = "loop"
            return lp["steps"] / lp["seconds"]
    if not partial_ok or not rec["tables"]:
        return None
    cols, rows = rec["tables"][-1]
    if "CPU" not in cols or len(rows) < 2 or rows[-1]["Step"] <= rows[0]["Step"] or rows[-1]["CPU"] <= rows[0]["CPU"]:
        return None
    rec["rate_from"] = f"CPU column, steps {int(rows[0]['Step'])}-{int(rows[-1]['Step'])} (run cut)"
    return (rows[-1]["Step"] - rows[0]["Step"]) / (rows[-1]["CPU"] - rows[0]["CPU"])


def mem_per_atom(rec):
    if not rec or not rec.get("mem_peak_mib") or rec.get("mem_idle_mib") is None or not rec.get("atoms"):
        return None
    return (rec["mem_peak_mib"] - rec["mem_idle_mib"]) / rec["atoms"]


def first_pe(rec):
    rows = rows_of(rec) if rec else []
    return rows[0].get("PotEng") if rows else None


def fmt(x, spec=".3g", none="—"):
    return none if x is None else format(x, spec)


# ----------------------------------------------------------------------------------------------- sections
def parity(runs):
    out = []
    for case in ("cu", "omol"):
        a, b = runs.get(f"parity.{case}.np1"), runs.get(f"parity.{case}.np2")
        r = {"case": case, "atoms": (a or b or {}).get("atoms")}
        usable = lambda x: x and not x["skipped"] and (x["rc"] == 0 or (x["rc"] in (124, 137) and rows_of(x)))
        if not usable(a) or not usable(b):
            r["error"] = "; ".join(f"{t}: " + ("not run" if not x else "not run (time)" if x["skipped"] else
                                               x["error"] or "rc " + str(x["rc"]))
                                   for t, x in (("1 rank", a), ("2 ranks", b)) if not usable(x))
            out.append(r)
            continue
        A, B = rows_of(a), rows_of(b)
        n = min(len(A), len(B))
        r["rows"] = f"{n}/{len(A)}/{len(B)}"
        if n == 0:
            r["error"] = "no thermo rows"
            out.append(r)
            continue
        cols = [c for c in A[0] if c in B[0] and c != "Step"]
        ptens = [c for c in cols if re.fullmatch(r"P[xyz]{2}", c)]
        pscale = max((abs(A[i][c]) for c in ptens for i in range(n)), default=0.0)
        per = {}
        for c in cols:
            scale = pscale if c in ptens else max(abs(A[i][c]) for i in range(n))
            d = max(abs(A[i][c] - B[i][c]) for i in range(n))
            per[c] = d / scale if scale > 0 else d
        worst = max(per, key=per.get)
        cut = [t for t, x in (("1 rank", a), ("2 ranks", b)) if x["rc"] != 0]
        r["partial"] = f"{' and '.join(cut)} cut by the time box: rows reached compared" if cut else None
        r.update(per_column=per, max_rel=per[worst], worst_column=worst,
                 max_abs_dpe=max(abs(A[i]["PotEng"] - B[i]["PotEng"]) for i in range(n)) if "PotEng" in cols else None,
                 pe_np1=A[n - 1].get("PotEng"), pe_np2=B[n - 1].get("PotEng"),
                 steps=int(A[n - 1]["Step"]), np2_procs=(b["loops"][-1]["procs"] if b["loops"] else None))
        out.append(r)
    return out


def matrix(runs, fc):
    sizes = sorted({r["atoms"] for t, r in runs.items() if t.startswith("matrix.") and r["atoms"]} |
                   {x["atoms"] for x in fc if x.get("atoms")})
    out = []
    for n in sizes:
        kk = next((r for t, r in runs.items() if t.startswith("matrix.kk.") and r["atoms"] == n), None)
        pl = next((r for t, r in runs.items() if t.startswith("matrix.plain.") and r["atoms"] == n), None)
        f = next((x for x in fc if x.get("atoms") == n and x.get("backend") == "umas_fast_gpu"), None)
        if f is None:
            f = next((x for x in fc if x.get("atoms") == n), None)
        r = {"atoms": n, "kk_steps_per_s": steps_per_s(kk), "plain_steps_per_s": steps_per_s(pl),
             "kk_partial": bool(kk and kk.get("rate_from", "loop") != "loop"),
             "plain_partial": bool(pl and pl.get("rate_from", "loop") != "loop"),
             "kk_mem_mib_per_atom": mem_per_atom(kk), "plain_mem_mib_per_atom": mem_per_atom(pl),
             "kk_mem_peak_mib": kk and kk.get("mem_peak_mib"), "plain_mem_peak_mib": pl and pl.get("mem_peak_mib"),
             "kk_mem_idle_mib": kk and kk.get("mem_idle_mib"),
             "kk_timed_steps": kk["loops"][-1]["steps"] if kk and kk["loops"] else None,
             "kk_error": kk and kk.get("error"), "plain_error": pl and pl.get("error"),
             "kk_pe0": first_pe(kk), "plain_pe0": first_pe(pl)}
        if f:
            r["fc_backend"] = f.get("backend")
            r["fc_evals_per_s"] = f.get("evals_per_s")
            r["fc_mem_mib_per_atom"] = (f["cuda_eval_bytes_per_atom"] / 2**20) if "cuda_eval_bytes_per_atom" in f \
                else None
            r["fc_energy"] = f.get("energy")
            r["fc_edges_per_atom"] = f["edges"] / n if f.get("edges") else None
            r["fc_error"] = "OOM" if f.get("oom") else (f.get("error", "")[:300] or None)
            r["fc_first_call_s"] = f.get("first_call_s")
        fg = r.get("fc_evals_per_s") if r.get("fc_backend") == "umas_fast_gpu" else None
        r["kk_over_fc"] = r["kk_steps_per_s"] / fg if r["kk_steps_per_s"] and fg else None
        r["plain_over_fc"] = r["plain_steps_per_s"] / fg if r["plain_steps_per_s"] and fg else None
        r["kk_over_plain"] = (r["kk_steps_per_s"] / r["plain_steps_per_s"]
                              if r["kk_steps_per_s"] and r["plain_steps_per_s"] else None)
        if r.get("fc_energy") is not None and r["kk_pe0"] is not None:
            r["de_per_atom_kk_vs_fc"] = abs(r["fc_energy"] - r["kk_pe0"]) / n
        out.append(r)
    return out


def largest(runs, notes):
    att = []
    for t, r in sorted(((t, r) for t, r in runs.items() if t.startswith("largest.")), key=lambda kv: kv[1]["atoms"]):
        sps = steps_per_s(r)
        att.append({"atoms": r["atoms"], "rc": r["rc"], "ok": r["rc"] == 0, "wall_s": r["wall_s"],
                    "s_per_step": 1 / sps if sps else None,
                    "mem_peak_mib": r["mem_peak_mib"], "mem_mib_per_atom": mem_per_atom(r),
                    "error": r["error"], "time_box": r["rc"] in (124, 137)})
    ok = [a for a in att if a["ok"]]
    bad = [a for a in att if not a["ok"]]
    base = [r["atoms"] for t, r in runs.items() if t.startswith("matrix.kk.") and r["rc"] == 0]
    return {"attempts": att, "largest_ok": max((a["atoms"] for a in ok), default=None),
            "largest_matrix_ok": max(base, default=None), "first_failed": bad[0] if bad else None,
            "not_tried": [l for l in notes if l.startswith("largest:")]}


def scaling(runs, tag="scaling"):
    a, b = runs.get(f"{tag}.np1"), runs.get(f"{tag}.np2")
    r = {"atoms": (a or b or {}).get("atoms"), "np1_steps_per_s": steps_per_s(a), "np2_steps_per_s": steps_per_s(b),
         "np1_rate_from": a and a.get("rate_from"), "np2_rate_from": b and b.get("rate_from"),
         "np1_error": a and a.get("error"), "np2_error": b and b.get("error"),
         "np1_mem_mib_per_atom": mem_per_atom(a), "np2_rank0_mem_peak_mib": b and b.get("mem_peak_mib")}
    if r["np1_steps_per_s"] and r["np2_steps_per_s"]:
        r["speedup"] = r["np2_steps_per_s"] / r["np1_steps_per_s"]
        r["efficiency"] = r["speedup"] / 2
    if a and b and a["rc"] == 0 and b["rc"] == 0:
        pa, pb = rows_of(a), rows_of(b)
        if pa and pb:
            r["pe_rel_diff_last"] = abs(pa[-1]["PotEng"] - pb[-1]["PotEng"]) / max(abs(pa[-1]["PotEng"]), 1e-30)
    return r


def lsq_fit(t, e):
    """Least-squares line e = slope * t + intercept (slope nan when all t are equal)."""
    n = len(t)
    tm, em = sum(t) / n, sum(e) / n
    sxx = sum((x - tm) ** 2 for x in t)
    slope = sum((x - tm) * (y - em) for x, y in zip(t, e)) / sxx if sxx > 0 else float("nan")
    return slope, em - slope * tm


def nve(runs, notes):
    rec = runs.get("nve")
    if not rec:
        return {"error": "not run"}
    rows = rows_of(rec)
    text = read_text(rec["log"])
    m = re.search(r"Fix halt condition for fix-id \S+ met on step (\d+)", text)
    r = {"atoms": rec["atoms"], "rc": rec["rc"], "wall_s": rec["wall_s"], "error": rec["error"],
         "stopped_by": "stop file (fix halt)" if m else ("timer timeout" if rec["timeout_warning"] else
                                                         ("killed" if rec["rc"] in (124, 137) else None)),
         "mem_peak_mib": rec["mem_peak_mib"], "mem_idle_mib": rec["mem_idle_mib"],
         "planned": next((l for l in notes if l.startswith("nve:")), None)}
    pm = re.search(r"(\d+) steps planned", r["planned"] or "")
    r["steps_planned"] = int(pm.group(1)) if pm else None
    if rec["loops"]:
        lp = rec["loops"][-1]
        r["steps_ran"] = lp["steps"]
        r["steps_per_s"] = lp["steps"] / lp["seconds"] if lp["seconds"] > 0 else None
        r["atoms"] = lp["atoms"]
    elif rows:
        r["steps_ran"] = int(rows[-1]["Step"])
        r["steps_per_s"] = steps_per_s(rec)
        r["note"] = "no Loop line (killed): steps from the last thermo row"
    if len(rows) < 3 or "TotEng" not in rows[0]:
        r["error"] = r.get("error") or "fewer than 3 thermo rows"
        r["rows"] = rows
        return r
    n = r["atoms"]
    t = [row["Time"] / 1000.0 if "Time" in row else row["Step"] * 1e-6 for row in rows]  # ns
    e = [row["TotEng"] / n for row in rows]
    m = len(t)
    slope, icpt = lsq_fit(t, e)
    em = sum(e) / m
    resid = [y - (icpt + slope * x) for x, y in zip(t, e)]
    r.update(points=m, t_ns=[t[0], t[-1]], drift_ev_per_atom_per_ns=slope, fit_intercept_ev_per_atom=icpt,
             rms_fluct_mev_per_atom=1e3 * math.sqrt(sum(x * x for x in resid) / m),
             std_about_mean_mev_per_atom=1e3 * math.sqrt(sum((y - em) ** 2 for y in e) / m),
             etot_first_last_ev_per_atom=[e[0], e[-1]], max_abs_dev_from_start_mev_per_atom=1e3 * max(
                 abs(y - e[0]) for y in e),
             temp_mean=sum(row["Temp"] for row in rows) / m if "Temp" in rows[0] else None,
             series={"t_ns": t, "etot_per_atom": e, "pe_per_atom": [row.get("PotEng", 0) / n for row in rows],
                     "temp": [row.get("Temp") for row in rows]})
    return r


# ----------------------------------------------------------------------------------------------- report
def env_lines(work):
    env = read_text(os.path.join(work, "build", "env.txt"))
    dev = next((l for l in env.splitlines() if "H100" in l or "H200" in l or "NVIDIA" in l and "," in l), None)
    torch_l = next((l for l in env.splitlines() if l.startswith("torch")), None)
    fcv = next((l for l in read_text(os.path.join(work, "build", "fcimport.log")).splitlines()
                if l.startswith("fairchem-core")), None)
    ngpu = len([l for l in env.splitlines() if ("H100" in l or "H200" in l)])
    try:
        # the `run` tool copies the working tree; the .git it carries can be older than the code that ran
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                timeout=10).stdout.strip() or None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, timeout=10).stdout.strip()
        if commit and dirty:
            commit += " + uncommitted changes"
    except Exception:
        commit = None
    return {"gpu": dev, "gpus_listed": ngpu, "torch": torch_l, "fairchem": fcv, "commit": commit,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def build_md(R):
    L = ["# uma/kk matrix (tools/gpu/run-kk-matrix.sh, benchmarks/kk_matrix_report.py)", ""]
    e = R["env"]
    L += [f"Date {e['date']}; GPU: {e['gpu'] or 'unknown'} (x{e['gpus_listed'] or '?'}); {e['torch'] or 'torch ?'}; "
          f"{e['fairchem'] or 'fairchem: not imported'}; commit {e['commit'] or 'unknown (no .git on the device)'}. "
          f"Phase seconds: {(R.get('phase_seconds') or 'n/a').strip()}.", ""]

    L += ["## Parity: 1 GPU (1 rank, -k on g 1) vs 2 GPUs (2 ranks, mpirun -np 2, -k on g 2), fp64 uma/kk", "",
          "Max difference per column relative to the column's largest |value| over the run (pxx..pyz: to the "
          f"largest of the six); reference bound {PARITY_TOL:g} (unittest/kokkos/compare_kk.py).", "",
          "| case | atoms | rows (n/1r/2r) | last step | max rel diff (column) | max abs dPE (eV) | PE 1 rank | PE 2 ranks |",
          "|---|---:|---|---:|---|---:|---:|---:|"]
    for p in R["parity"]:
        if p.get("error"):
            L.append(f"| {p['case']} | {fmt(p.get('atoms'), 'd')} | — | — | not compared: {p['error']} | | | |")
            continue
        L.append(f"| {p['case']} | {p['atoms']} | {p['rows']} | {p['steps']} | {p['max_rel']:.2e} ({p['worst_column']}) | "
                 f"{fmt(p['max_abs_dpe'], '.2e')} | {fmt(p['pe_np1'], '.12g')} | {fmt(p['pe_np2'], '.12g')} |"
                 + (f" {p['partial']}" if p.get("partial") else ""))
    for p in R["parity"]:
        if p.get("per_column"):
            L.append("")
            L.append(f"{p['case']}, per column: " + ", ".join(f"{c} {v:.1e}" for c, v in p["per_column"].items()))

    L += ["", "## MD speed on one GPU, liquid-like Cu (gpu_vs_fairchem.py make_cu), fp32", "",
          "uma/kk: `-k on g 1 -sf kk -pk kokkos newton on neigh full`; plain: `pair_style uma ... device cuda`, "
          "no -k. Steps/s from the timed run's Loop time (after a warm-up run; neighbor rebuilds included). "
          "fairchem: umas_fast_gpu energy+forces evaluations/s on the same structure and weights (graph "
          "generation included, median). Memory: nvidia-smi (peak - idle) / atoms for LAMMPS; fairchem: torch "
          "peak allocated during one evaluation / atoms.", "",
          f"| atoms | uma/kk steps/s (ms) | plain uma steps/s (ms) | fairchem {R['fc_backend']} evals/s (ms) | kk / fast_gpu | plain / fast_gpu | kk / plain | "
          "MiB/atom kk | MiB/atom plain | MiB/atom fairchem | peak MiB kk | abs(dE)/atom kk PE(0) vs fairchem |",
          "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]

    def rate(x, err, partial=False):
        if x:
            return f"{x:.3g} ({1e3 / x:.1f})" + (" *" if partial else "")
        if err:
            return "not run" if err.startswith("not run") else "OOM" if "out of memory" in err.lower() or \
                err == "OOM" else "failed"
        return "—"

    for m in R["matrix"]:
        L.append(f"| {m['atoms']} | {rate(m['kk_steps_per_s'], m['kk_error'], m['kk_partial'])} | "
                 f"{rate(m['plain_steps_per_s'], m['plain_error'], m['plain_partial'])} | "
                 f"{rate(m.get('fc_evals_per_s'), m.get('fc_error'))} | {fmt(m['kk_over_fc'], '.2f')} | "
                 f"{fmt(m['plain_over_fc'], '.2f')} | {fmt(m['kk_over_plain'], '.2f')} | {fmt(m['kk_mem_mib_per_atom'], '.3f')} | "
                 f"{fmt(m['plain_mem_mib_per_atom'], '.3f')} | {fmt(m.get('fc_mem_mib_per_atom'), '.3f')} | "
                 f"{fmt(m['kk_mem_peak_mib'], 'd')} | {fmt(m.get('de_per_atom_kk_vs_fc'), '.2e')} |")
    errs = [(m["atoms"], k, m[k]) for m in R["matrix"] for k in ("kk_error", "plain_error", "fc_error") if m.get(k)]
    if any(m["kk_partial"] or m["plain_partial"] for m in R["matrix"]):
        L += ["", "\\* run cut by its timeout: steps/s from the CPU column of the thermo rows it printed."]
    if errs:
        L += [""] + [f"- {n} atoms, {k[:-6]}: {v}" for n, k, v in errs]

    lg = R["largest"]
    L += ["", "## Largest uma/kk fp32 system on one GPU (`run 2`, doubling from 40 000 atoms)", "",
          "| atoms | result | wall (s) | s/step | peak MiB | MiB/atom | error |", "|---:|---|---:|---:|---:|---:|---|"]
    for a in lg["attempts"]:
        L.append(f"| {a['atoms']} | {'ran' if a['ok'] else ('time box' if a['time_box'] else 'FAILED')} | {a['wall_s']} | "
                 f"{fmt(a['s_per_step'], '.2f')} | {fmt(a['mem_peak_mib'], 'd')} | {fmt(a['mem_mib_per_atom'], '.3f')} | "
                 f"{a['error'] or ''} |")
    L.append("")
    L.append(f"Largest that ran: {fmt(lg['largest_ok'], 'd')} atoms (largest uma/kk matrix run: "
             f"{fmt(lg['largest_matrix_ok'], 'd')}). First that failed: " +
             (f"{lg['first_failed']['atoms']} atoms: {lg['first_failed']['error']}" if lg["first_failed"] else "none") +
             ". " + " ".join(lg["not_tried"]))

    for key, what in (("scaling", "uma/kk fp32 (2-rank halo mode: see Notes)"),
                      ("xscaling", "plain uma device cuda fp32, halo exchange")):
        s = R[key]
        if key == "xscaling" and not (s.get("np1_steps_per_s") or s.get("np1_error")):
            continue  # phase not run
        L += ["", f"## Strong scaling, {fmt(s.get('atoms'), 'd')} atoms, {what} (`run 1` warm-up, `run 3` timed)", "",
              "| GPUs | steps/s | s/step | note |", "|---:|---:|---:|---|"]
        for g, k in ((1, "np1"), (2, "np2")):
            x = s.get(f"{k}_steps_per_s")
            frm = s.get(f"{k}_rate_from")
            L.append(f"| {g} | {fmt(x, '.3g')} | {fmt(1 / x if x else None, '.2f')} | "
                     f"{'; '.join(v for v in (s.get(f'{k}_error'), frm if frm != 'loop' else None) if v)} |")
        L.append("")
        L.append(f"Speed-up {fmt(s.get('speedup'), '.2f')}, parallel efficiency {fmt(s.get('efficiency'), '.2f')}"
                 f"; last PE 1 vs 2 GPUs relative difference {fmt(s.get('pe_rel_diff_last'), '.1e')}.")

    v = R["nve"]
    L += ["", "## NVE, uma/kk fp32 (GPU 1, alongside the other phases), fcc Cu, 600 K start, 1 fs", ""]
    if "drift_ev_per_atom_per_ns" in v:
        L += ["| atoms | steps ran / planned | stopped early by | steps/s | thermo points | drift (eV/atom/ns) | rms about fit (meV/atom) | "
              "std about mean (meV/atom) | max abs(E - E0) (meV/atom) | mean T (K) |",
              "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
              f"| {v['atoms']} | {v.get('steps_ran')} / {fmt(v.get('steps_planned'), 'd')} | {v['stopped_by'] or '—'} | "
              f"{fmt(v.get('steps_per_s'), '.3g')} | {v['points']} | {v['drift_ev_per_atom_per_ns']:.3e} | "
              f"{v['rms_fluct_mev_per_atom']:.3g} | {v['std_about_mean_mev_per_atom']:.3g} | "
              f"{v['max_abs_dev_from_start_mev_per_atom']:.3g} | {fmt(v['temp_mean'], '.0f')} |"]
        if v.get("error"):
            L.append(f"\n{v['error']}")
    else:
        L.append(f"No drift: {v.get('error')} (steps ran: {v.get('steps_ran', 0)}).")
    if v.get("planned"):
        L.append(f"\nPlanned: {v['planned']}.")

    skipped = [f"{t} ({r['phase']})" for t, r in R["runs_brief"].items() if r["skipped"]]
    notes = [n for n in R["notes"] if not n.startswith(("nve:", "phase_seconds"))]
    if skipped or notes:
        L += ["", "## Notes", ""] + [f"- {n}" for n in notes] + ([f"- not run (time): {', '.join(skipped)}"] if skipped else [])
    L += ["", R["ratio_line"] or f"(no uma/kk vs umas_fast_gpu ratio: not both measured at {RATIO_ATOMS} atoms in this call)", ""]
    return "\n".join(L)


def plot(R, out):
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(2, 2, figsize=(12, 8.5))
    a = ax[0][0]
    for key, label, style in (("kk_steps_per_s", "uma/kk MD steps/s", "o-"),
                              ("plain_steps_per_s", "uma device cuda MD steps/s", "s-"),
                              ("fc_evals_per_s", f"fairchem {R['fc_backend']} evals/s", "^--")):
        pts = [(m["atoms"], m[key]) for m in R["matrix"] if m.get(key)]
        if pts:
            a.plot([p[0] for p in pts], [p[1] for p in pts], style, label=label)
    a.set_xscale("log"); a.set_yscale("log"); a.set_xlabel("atoms"); a.set_ylabel("per second")
    a.set_title("fp32, liquid-like Cu, one GPU"); a.grid(True, which="both", alpha=0.3)
    if a.get_legend_handles_labels()[0]:
        a.legend(fontsize=7)
    a = ax[0][1]
    for key, label, style in (("kk_mem_mib_per_atom", "uma/kk (nvidia-smi peak-idle)", "o-"),
                              ("plain_mem_mib_per_atom", "uma device cuda (nvidia-smi)", "s-"),
                              ("fc_mem_mib_per_atom", "fairchem (torch peak alloc)", "^--")):
        pts = [(m["atoms"], m[key]) for m in R["matrix"] if m.get(key)]
        pts += [(x["atoms"], x["mem_mib_per_atom"]) for x in R["largest"]["attempts"]
                if key.startswith("kk") and x.get("mem_mib_per_atom") and x["ok"]]
        if pts:
            pts.sort()
            a.plot([p[0] for p in pts], [p[1] for p in pts], style, label=label)
    a.set_xscale("log"); a.set_xlabel("atoms"); a.set_ylabel("GPU MiB per atom"); a.grid(True, alpha=0.3)
    if a.get_legend_handles_labels()[0]:
        a.legend(fontsize=7)
    a.set_title("GPU memory")
    for a in (ax[0][0], ax[0][1]):
        a.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    a = ax[1][0]
    v = R["nve"]
    if "series" in v:
        t, e = v["series"]["t_ns"], v["series"]["etot_per_atom"]
        a.plot([x * 1e3 for x in t], [(y - e[0]) * 1e3 for y in e], ".-", label="E_tot - E_tot(0)")
        a.plot([x * 1e3 for x in t], [(v["fit_intercept_ev_per_atom"] + v["drift_ev_per_atom_per_ns"] * x - e[0]) * 1e3
                                      for x in t], "--",
               label=f"fit slope {v['drift_ev_per_atom_per_ns']:.2e} eV/atom/ns")
        a.set_xlabel("time (ps)"); a.set_ylabel("meV/atom"); a.legend(fontsize=7)
    a.set_title(f"NVE uma/kk fp32, {v.get('atoms', '?')} atoms, {v.get('steps_ran', 0)} steps"); a.grid(True, alpha=0.3)
    a = ax[1][1]
    s = R["scaling"]
    vals = [s.get("np1_steps_per_s") or 0, s.get("np2_steps_per_s") or 0]
    a.bar(["1 GPU", "2 GPUs"], vals, color=["C0", "C1"])
    a.set_ylabel("MD steps/s"); a.set_title(f"strong scaling, {s.get('atoms') or '?'} atoms, efficiency "
                                             f"{fmt(s.get('efficiency'), '.2f')}")
    fig.suptitle(f"uma/kk, {R['env'].get('gpu') or 'GPU'} — random UMA-S-shaped model")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "results.png"), dpi=100)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default="/tmp/kkm")
    ap.add_argument("--out", default=".")
    a = ap.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    runs = read_runs(a.work)
    notes = [l.strip() for l in read_text(os.path.join(a.work, "notes.txt")).splitlines() if l.strip()]
    fcj = os.path.join(a.work, "fc", "results.json")
    fc = []
    if os.path.exists(fcj):
        try:
            fc = json.load(open(fcj)).get("fairchem", [])
        except Exception as x:
            notes.append(f"fairchem results.json unreadable: {x!r}")
    backends = sorted({x.get("backend") for x in fc if x.get("backend")})
    R = {"env": env_lines(a.work), "notes": notes, "fc_backend": ",".join(backends) or "umas_fast_gpu",
         "phase_seconds": next((l[len("phase_seconds"):] for l in notes if l.startswith("phase_seconds")), None),
         "parity": parity(runs), "matrix": matrix(runs, fc), "largest": largest(runs, notes),
         "scaling": scaling(runs), "xscaling": scaling(runs, "xscaling"), "nve": nve(runs, notes), "fairchem_raw": fc,
         "runs_brief": {t: {k: r[k] for k in ("phase", "atoms", "ranks", "gpus", "rc", "wall_s", "mem_idle_mib",
                                               "mem_peak_mib", "timeout_s", "error", "skipped", "loops")}
                        for t, r in runs.items()}}
    m2k = next((m for m in R["matrix"] if m["atoms"] == RATIO_ATOMS), None)
    R["ratio_line"] = None
    if m2k and m2k.get("kk_over_fc") and m2k.get("fc_backend") == "umas_fast_gpu":
        R["ratio_line"] = f"kk_ratio_vs_umas_fast_gpu: {m2k['kk_over_fc']:.3f}"
    plot_note = None
    try:
        plot(R, a.out)
    except Exception as x:  # matplotlib missing on the device, or similar
        plot_note = f"plot skipped (no results.png): {x!r}"
    md = build_md(R) + (f"\n{plot_note}\n" if plot_note else "")
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write(md)
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(R, f, indent=1, default=str)
    print(md)
    if R["ratio_line"]:
        print(R["ratio_line"])


if __name__ == "__main__":
    main()
