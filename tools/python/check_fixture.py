#!/usr/bin/env python3
"""check-fixture: regenerate fixtures with fairchem into a temp dir and compare with the committed ones.

  tools/check-fixture [--model-uma potentials/uma-s-random-k2.uma] [--fixtures DIR] NAME [NAME ...]
  tools/check-fixture [--model-uma ...] --all
  e.g. tools/check-fixture --model-uma potentials/uma-s-1p2p1-random-k2.uma oc22_charged_periodic

--fixtures defaults to the model's fixture dir (unittest/data/fixtures for uma-s-random-k2.uma,
fixtures-1p2 / fixtures-1p2p1 for the 1.2 / 1.2.1 models); --all is every structure of the model's
set (fixture_structures.SETS). The fixtures must name the same model sha256 as --model-uma.

Tolerances: fp64 energy rel 1e-10 (also the merged fp64 energy), fp64 forces abs 1e-9 eV/A,
fp64 stress abs 1e-10 eV/A^3; fp32 energy rel 1e-5, fp32 forces abs 1e-4 eV/A, fp32 stress
abs 1e-5 eV/A^3; the graph (src, dst, offset) multiset must be identical.
Exits non-zero naming the largest error when anything differs.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import fixture_structures  # noqa: E402
import make_fixtures  # noqa: E402

TOL = {
    "fp64": {"energy_rel": 1e-10, "forces_abs": 1e-9, "stress_abs": 1e-10},
    "fp32": {"energy_rel": 1e-5, "forces_abs": 1e-4, "stress_abs": 1e-5},
    "fp64_merged": {"energy_rel": 1e-10},
}


def _max_abs(a, b) -> float:
    import numpy as np

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return float("inf")
    return float(np.abs(a - b).max()) if a.size else 0.0


def compare(old: dict, new: dict) -> list[str]:
    errors = []
    for key in ("numbers", "pbc", "task", "charge", "spin"):
        if old[key] != new[key]:
            errors.append(f"{key} differs: {old[key]} vs {new[key]}")
    d = _max_abs(old["positions"], new["positions"])
    if d > 1e-12:
        errors.append(f"positions differ by {d:.3e} A")
    for prec, tol in TOL.items():
        o, n = old["reference"][prec], new["reference"][prec]
        rel = abs(o["energy"] - n["energy"]) / max(abs(o["energy"]), 1e-30)
        status = "ok" if rel <= tol["energy_rel"] else "FAIL"
        print(f"    {prec:11s} energy {o['energy']:.12f} vs {n['energy']:.12f}  rel err {rel:.2e}  [{status}]")
        if rel > tol["energy_rel"]:
            errors.append(f"{prec} energy rel err {rel:.3e} > {tol['energy_rel']:.0e}")
        for q in ("forces", "stress"):
            if q + "_abs" not in tol or (q not in o and q not in n):
                continue
            err = _max_abs(o.get(q, []), n.get(q, []))
            status = "ok" if err <= tol[q + "_abs"] else "FAIL"
            print(f"    {prec:11s} {q:6s} max abs err {err:.2e}  [{status}]")
            if err > tol[q + "_abs"]:
                errors.append(f"{prec} {q} max abs err {err:.3e} > {tol[q + '_abs']:.0e}")
    go, gn = old["graph"], new["graph"]
    if go.get("fake_self_loops", 0) != gn.get("fake_self_loops", 0):
        errors.append(f"fake self-loops differ: {go.get('fake_self_loops', 0)} vs {gn.get('fake_self_loops', 0)}")
    eo = sorted(zip(go["src"], go["dst"], map(tuple, go["offsets"])))
    en = sorted(zip(gn["src"], gn["dst"], map(tuple, gn["offsets"])))
    if eo != en:
        so, sn = set(eo), set(en)
        errors.append(f"graph differs: {len(eo)} vs {len(en)} edges, {len(so - sn)} only in committed, "
                      f"{len(sn - so)} only in regenerated")
    else:
        print(f"    graph identical ({len(eo)} edges)")
    return errors


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="check-fixture", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*")
    ap.add_argument("--all", action="store_true")
    ap.add_argument("--model-uma", "--uma", dest="uma", default=make_fixtures.DEFAULT_UMA)
    ap.add_argument("--model", default=None, help="fairchem .pt (default: next to --model-uma, rebuilt if missing)")
    ap.add_argument("--fixtures", default=None, help="committed fixtures (default: the model's fixture dir)")
    args = ap.parse_args(argv)
    if args.model is None:
        args.model = make_fixtures.default_pt(args.uma)
    if args.fixtures is None:
        args.fixtures = make_fixtures.default_out(args.uma)
    if args.all:
        import uma_convert

        _, meta = uma_convert.read_uma_header(args.uma)
        names = list(fixture_structures.SETS[meta.get("model_id") or "UMA-1.1"])
    else:
        names = args.names
    if not names:
        ap.error("name a fixture or pass --all")
    for n in names:
        if n not in fixture_structures.BUILDERS:
            ap.error(f"unknown fixture {n!r} (known: {', '.join(fixture_structures.BUILDERS)})")
    failed = []
    with tempfile.TemporaryDirectory(prefix="uma-check-") as tmp:
        cmd = ["--model", args.model, "--model-uma", args.uma, "--out", tmp]
        for n in names:
            cmd += ["--only", n]
        make_fixtures.main(cmd)
        for n in names:
            with open(os.path.join(args.fixtures, f"{n}.json")) as f:
                old = json.load(f)
            with open(os.path.join(tmp, f"{n}.json")) as f:
                new = json.load(f)
            print(f"{n}:")
            errs = compare(old, new)
            if old["generator"].get("model_sha256") != new["generator"].get("model_sha256"):
                errs.append("model_sha256 differs from the committed fixture's")
            for e in errs:
                print(f"  MISMATCH {n}: {e}")
            if errs:
                failed.append(n)
    if failed:
        print(f"check-fixture: FAILED for {', '.join(failed)}", file=sys.stderr)
        sys.exit(1)
    print(f"check-fixture: {len(names)} fixture(s) reproduced within tolerance")


if __name__ == "__main__":
    main()
