#!/usr/bin/env python3
"""Energy conservation of an NVE run made of restart segments (tools/gpu/run-nve-long.sh).

Reads the segments' LAMMPS logs in order (and optionally the log of a `run 0` on the final restart file,
for an end point whose segment log was lost), joins their thermo rows on the step number (at a restart
boundary both segments print the boundary step: the earlier row is kept and the difference is reported:
it is the reproducibility of the energy when the forces are recomputed from the restart file), and writes
a Markdown table and a PNG plot of the total energy per atom.

Drift: least-squares slope of total energy per atom against time, in eV/atom/ns, over all rows, and
per segment; also the end-to-end change.

  python3 benchmarks/nve_report.py .carry-nve/nve-seg*.log --end nve-end.log --out results/x.md
"""
from __future__ import annotations

import argparse
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unittest", "lammps"))
from harness import thermo_tables  # noqa: E402
from kk_matrix_report import LOOP_RE, lsq_fit  # noqa: E402  (the same drift fit as the kk-matrix NVE table)


def rows_of(path):
    text = open(path, errors="replace").read()
    rows = []
    for cols, tab in thermo_tables(text):
        if "TotEng" in cols:
            rows += [dict(zip(cols, r)) for r in tab]
    loops = [(float(m.group(1)), int(m.group(3)), int(m.group(4)))
             for m in (LOOP_RE.match(l) for l in text.splitlines()) if m]
    return rows, loops


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("segments", nargs="+", help="segment logs, in order")
    ap.add_argument("--end", help="log of a 'run 0' on the final restart (end point only)")
    ap.add_argument("--dt-fs", type=float, default=1.0, help="time step in fs (default 1)")
    ap.add_argument("--out", required=True, help="Markdown output; the plot goes next to it (.png)")
    ap.add_argument("--title", default="NVE energy conservation")
    a = ap.parse_args(argv)

    joined, segs, boundary = {}, [], []
    natoms = None
    for i, path in enumerate(a.segments + ([a.end] if a.end else [])):
        rows, loops = rows_of(path)
        if not rows:
            continue
        natoms = loops[-1][2] if loops else natoms
        first, last = int(rows[0]["Step"]), int(rows[-1]["Step"])
        if first in joined:
            boundary.append((first, rows[0]["TotEng"] - joined[first]["TotEng"]))
        for r in rows:
            joined.setdefault(int(r["Step"]), r)
        steps_run = sum(l[1] for l in loops)
        secs = sum(l[0] for l in loops)
        segs.append(dict(name=os.path.basename(path), first=first, last=last, rows=rows,
                         steps=steps_run, seconds=secs, end_only=(a.end is not None and path == a.end)))
    if natoms is None:
        sys.exit("no thermo rows with TotEng")
    steps = sorted(joined)
    t_ns = [s * a.dt_fs * 1e-6 for s in steps]
    e = [joined[s]["TotEng"] / natoms for s in steps]
    temp = [joined[s].get("Temp", float("nan")) for s in steps]
    pe = [joined[s].get("PotEng", float("nan")) / natoms for s in steps]
    drift, intercept = lsq_fit(t_ns, e)
    resid = [y - (intercept + drift * x) for x, y in zip(t_ns, e)]

    L = [f"# {a.title}", "",
         f"{natoms} atoms, time step {a.dt_fs:g} fs, {len(steps)} thermo rows from step {steps[0]} to {steps[-1]} "
         f"({t_ns[-1] - t_ns[0]:.3f} ns).", "",
         "| quantity | value |", "|---|---:|",
         f"| total energy first / last (eV) | {joined[steps[0]]['TotEng']:.6f} / {joined[steps[-1]]['TotEng']:.6f} |",
         f"| end-to-end change (eV/atom) | {e[-1] - e[0]:.3e} |",
         f"| end-to-end change per time (eV/atom/ns) | {(e[-1] - e[0]) / (t_ns[-1] - t_ns[0]):.3e} |",
         f"| least-squares drift, all rows (eV/atom/ns) | {drift:.3e} |",
         f"| rms about the fit (meV/atom) | {1e3 * math.sqrt(sum(r * r for r in resid) / len(resid)):.4f} |",
         f"| max abs(E - E0) (meV/atom) | {1e3 * max(abs(y - e[0]) for y in e):.4f} |",
         f"| temperature first / mean / last (K) | {temp[0]:.0f} / {sum(temp) / len(temp):.0f} / {temp[-1]:.0f} |",
         f"| potential energy first / last (eV/atom) | {pe[0]:.5f} / {pe[-1]:.5f} |", "",
         "| segment | steps | rows | loop s | steps/s | drift in segment (eV/atom/ns) |", "|---|---:|---:|---:|---:|---:|"]
    for s in segs:
        if s["end_only"]:
            L.append(f"| {s['name']} (end point: run 0 on the final restart) | {s['first']} | 1 | — | — | — |")
            continue
        ts = [int(r["Step"]) * a.dt_fs * 1e-6 for r in s["rows"]]
        es = [r["TotEng"] / natoms for r in s["rows"]]
        rate = s["steps"] / s["seconds"] if s["seconds"] > 0 else float("nan")
        L.append(f"| {s['name']} | {s['first']}-{s['last']} | {len(s['rows'])} | {s['seconds']:.1f} | {rate:.2f} | "
                 f"{lsq_fit(ts, es)[0]:.3e} |")
    if boundary:
        L += ["", "Restart boundaries (the same step printed by both segments; energy recomputed from the restart "
              "file): " + ", ".join(f"step {st}: {d:+.2e} eV" for st, d in boundary) + "."]
    gaps = [(p, q) for p, q in zip(steps, steps[1:]) if q - p > 2 * min(b - a_ for a_, b in zip(steps, steps[1:]))]
    if gaps:
        L += ["", "Gaps in the thermo rows: " + ", ".join(f"{p}-{q}" for p, q in gaps) + "."]
    open(a.out, "w").write("\n".join(L) + "\n")
    print("\n".join(L))

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    ps = [x * 1e3 for x in t_ns]
    ax[0].plot(ps, [(y - e[0]) * 1e3 for y in e], lw=0.8, label="E_total - E_total(0)")
    ax[0].plot(ps, [drift * (x - t_ns[0]) * 1e3 for x in t_ns], "--", lw=0.8, label=f"fit {drift:.2e} eV/atom/ns")
    ax[0].set_ylabel("meV/atom")
    ax[0].legend()
    ax[0].set_title(a.title)
    ax[1].plot(ps, temp, lw=0.8, color="C3")
    ax[1].set_ylabel("T (K)")
    ax[1].set_xlabel("time (ps)")
    fig.tight_layout()
    fig.savefig(os.path.splitext(a.out)[0] + ".png", dpi=110)


if __name__ == "__main__":
    main()
