#!/usr/bin/env python3
"""Time fairchem's `general` backend (energy + forces, fp32, merged MoLE, CPU) on rattled fcc Cu cells.

  .venv/bin/python benchmarks/fairchem_cpu_bench.py [--model potentials/uma-s-random-k2.pt]
      [--threads 1] [--sizes 200,2000] [--repeats 3] [--warmup 1] [--write-structures DIR]

Prints one JSON object to stdout: per structure the seconds per evaluation (median of --repeats
timed calls after --warmup untimed ones), edges, atoms. With --write-structures DIR it also writes
DIR/cu_<N>.json = {"name","numbers","positions","cell","pbc","task","charge","spin"} (positions
already wrapped, cell rows = lattice vectors) so the C++ benchmark can time the same structures.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import time
import warnings

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

# supercell repeats of the 4-atom cubic fcc cell for the requested sizes
REPEATS = {200: (5, 5, 2), 256: (4, 4, 4), 500: (5, 5, 5), 2000: (10, 10, 5), 2048: (8, 8, 8)}


def build_cu(natoms: int, seed: int = 7):
    import numpy as np
    from ase.build import bulk
    from ase.geometry import wrap_positions

    if natoms not in REPEATS:
        raise SystemExit(f"unsupported size {natoms}; choose from {sorted(REPEATS)}")
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(REPEATS[natoms])
    rng = np.random.default_rng(seed + natoms)
    atoms.positions += rng.normal(scale=0.05, size=atoms.positions.shape)
    atoms.set_positions(wrap_positions(atoms.get_positions(), atoms.get_cell(), pbc=True, eps=0))
    return atoms


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(ROOT, "potentials", "uma-s-random-k2.pt"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--sizes", default="200,2000")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--task", default="omat")
    ap.add_argument("--write-structures", metavar="DIR")
    ap.add_argument("--only-write", action="store_true", help="write the structures and exit (no fairchem run)")
    args = ap.parse_args(argv)

    sizes = [int(s) for s in args.sizes.split(",") if s]
    structures = {n: build_cu(n) for n in sizes}
    if args.write_structures:
        os.makedirs(args.write_structures, exist_ok=True)
        for n, atoms in structures.items():
            with open(os.path.join(args.write_structures, f"cu_{n}.json"), "w") as f:
                json.dump({"name": f"cu_{n}", "task": args.task, "charge": 0, "spin": 0,
                           "numbers": [int(z) for z in atoms.numbers],
                           "positions": atoms.get_positions().tolist(),
                           "cell": atoms.get_cell()[:].tolist(), "pbc": [True, True, True]},
                          f, separators=(",", ":"))
                f.write("\n")
    if args.only_write:
        return

    import torch

    logging.getLogger().setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    torch.set_num_threads(args.threads)
    from fairchem.core.datasets.atomic_data import AtomicData
    from fairchem.core.units.mlip_unit import InferenceSettings
    from fairchem.core.units.mlip_unit.predict import MLIPPredictUnit

    settings = InferenceSettings(tf32=False, activation_checkpointing=False, merge_mole=True, compile=False,
                                 external_graph_gen=False, internal_graph_gen_version=2,
                                 execution_mode="general", base_precision_dtype=torch.float32)
    results = []
    for n, atoms in structures.items():
        # merged MoLE is bound to one composition/task: one predict unit per structure
        pu = MLIPPredictUnit(args.model, device="cpu", inference_settings=settings)
        torch.set_num_threads(args.threads)
        atoms.info.update(charge=0, spin=0)
        pu.validate_atoms_data(atoms, args.task)
        data = AtomicData.from_ase(atoms, task_name=args.task, r_edges=False, r_data_keys=["spin", "charge"])
        nedges = None
        times = []
        for i in range(args.warmup + args.repeats):
            t0 = time.perf_counter()
            out = pu.predict(data)
            energy = float(out["energy"][0])
            _ = out["forces"].sum().item()
            dt = time.perf_counter() - t0
            if i >= args.warmup:
                times.append(dt)
            print(f"fairchem_cpu_bench: {n} atoms, call {i}: {dt:.3f} s", file=sys.stderr, flush=True)
        if nedges is None:
            from fairchem.core.graph.compute import generate_graph

            bb = pu.model.module.backbone
            d = AtomicData.from_ase(atoms, task_name=args.task, r_edges=False)
            g = generate_graph(d, cutoff=bb.cutoff, max_neighbors=bb.max_neighbors,
                               enforce_max_neighbors_strictly=False, radius_pbc_version=2, pbc=d.pbc)
            nedges = int(g["edge_index"].shape[1])
        results.append({"name": f"cu_{n}", "atoms": len(atoms), "edges": nedges,
                        "seconds_per_eval": statistics.median(times), "all_seconds": times, "energy": energy,
                        "merged": bool(pu.inference_settings.merge_mole)})
        del pu
    try:
        from importlib.metadata import version

        fcv = version("fairchem-core")
    except Exception:
        fcv = "unknown"
    print(json.dumps({"backend": "fairchem general", "precision": "fp32", "merge_mole": True, "device": "cpu",
                      "threads": args.threads, "torch_version": torch.__version__, "fairchem_core_version": fcv,
                      "model": os.path.basename(args.model), "results": results}, indent=1))


if __name__ == "__main__":
    main()
