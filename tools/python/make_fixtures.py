#!/usr/bin/env python3
"""make-fixtures: reference energies/forces/stress/graphs from fairchem for the C++ parity tests.

  tools/make-fixtures --model potentials/uma-s-random-k2.pt --out unittest/data/fixtures [--only NAME ...]

For every structure in fixture_structures.BUILDERS this runs fairchem's `general` backend on the CPU
(tf32 off, no compile, no activation checkpointing, internal graph v2) with the random UMA-S
checkpoint, unmerged MoLE in fp64 and fp32, plus merged MoLE in fp64 (energy only), records the
internal radius graph fairchem used (fp64 run) and writes one JSON per structure.

If --model does not exist, the checkpoint is rebuilt from the seed recorded in the bundled .uma
(--uma) into a temp dir, and the rebuilt .uma must be byte-identical to the bundled one.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import logging
import os
import shlex
import sys
import tempfile
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)

import fixture_structures  # noqa: E402
import uma_convert  # noqa: E402

DEFAULT_PT = os.path.join("potentials", "uma-s-random-k2.pt")
DEFAULT_UMA = os.path.join("potentials", "uma-s-random-k2.uma")


def log(msg: str) -> None:
    print(f"make-fixtures: {msg}", file=sys.stderr, flush=True)


def settings(dtype, merge_mole: bool):
    from fairchem.core.units.mlip_unit import InferenceSettings

    return InferenceSettings(tf32=False, activation_checkpointing=False, merge_mole=merge_mole, compile=False,
                             external_graph_gen=False, internal_graph_gen_version=2, execution_mode="general",
                             base_precision_dtype=dtype)


def ensure_model(pt: str, uma: str, workdir: str) -> str:
    """Return a .pt path whose .uma conversion equals the bundled `uma` (rebuilding if needed)."""
    if os.path.exists(pt):
        check_pt_matches_uma(pt, uma)
        return pt
    if not os.path.exists(uma):
        sys.exit(f"make-fixtures: neither {pt} nor {uma} exists")
    _, meta = uma_convert.read_uma_header(uma)
    prov = meta["provenance"]
    if prov.get("source") != "random":
        sys.exit(f"make-fixtures: {pt} missing and {uma} is not a random model; cannot regenerate")
    seed = int(prov["seed"])
    k = int(meta["backbone"]["num_experts"])
    tasks = ",".join(meta["datasets"])
    dtype = "float16" if "--dtype float16" in prov.get("command", "--dtype float16") else "float32"
    new_pt = os.path.join(workdir, os.path.basename(pt))
    new_uma = os.path.join(workdir, os.path.basename(uma))
    log(f"{pt} not found: regenerating it from seed {seed} ({k} experts, {tasks}, {dtype}) into {workdir}")
    uma_convert.main(["random", "--seed", str(seed), "--experts", str(k), "--tasks", tasks, "--dtype", dtype,
                      "--pt", new_pt, "-o", new_uma, "--name", meta["model_name"], "--created", prov["created"],
                      "--no-verify"])
    a, b = uma_convert.sha256_file(new_uma), uma_convert.sha256_file(uma)
    if a != b:
        sys.exit(f"make-fixtures: regenerated .uma sha256 {a} != bundled {uma} sha256 {b} "
                 "(different fairchem/torch version or generator change?)")
    log(f"regenerated model matches bundled {uma} (sha256 {b})")
    return new_pt


def check_pt_matches_uma(pt: str, uma: str) -> None:
    """The fixtures name the .uma's sha256, so the .pt must hold exactly the .uma's weights."""
    import torch
    from safetensors import safe_open

    ckpt = torch.load(pt, map_location="cpu", weights_only=False)
    state = uma_convert.extract_state(ckpt)
    with safe_open(uma, "pt") as f:
        keys = set(f.keys())
        for k, v in state.items():
            if k not in keys or not torch.equal(f.get_tensor(k).to(v.dtype), v):
                sys.exit(f"make-fixtures: {pt} does not match {uma} (tensor {k})")
            keys.discard(k)
        for t in uma_convert.parse_tasks(ckpt.tasks_config).values():
            name = f"tasks.{t['dataset']}.element_references"
            if name in keys:
                if not torch.equal(f.get_tensor(name), t["element_references"][: f.get_tensor(name).numel()]):
                    sys.exit(f"make-fixtures: {pt} element references differ from {uma} ({name})")
                keys.discard(name)
    if keys:
        sys.exit(f"make-fixtures: {uma} has tensors the .pt lacks: {sorted(keys)[:5]}")
    log(f"{pt} holds exactly the weights of {uma}")


class Runner:
    """One MLIPPredictUnit per precision (unmerged); captures fairchem's internal graph."""

    def __init__(self, pt: str):
        self.pt = pt
        self.units = {}

    def unit(self, dtype, merge: bool):
        from fairchem.core.units.mlip_unit.predict import MLIPPredictUnit

        key = (dtype, merge)
        if merge or key not in self.units:  # a merged unit is bound to one composition: always fresh
            pu = MLIPPredictUnit(self.pt, device="cpu", inference_settings=settings(dtype, merge))
            if merge:
                return pu
            self.units[key] = pu
        return self.units[key]

    @staticmethod
    def data(atoms, task):
        import torch
        from fairchem.core.datasets.atomic_data import AtomicData

        return AtomicData.from_ase(atoms, task_name=task, r_edges=False, target_dtype=torch.float64,
                                   r_data_keys=["spin", "charge"])

    def predict(self, atoms, task, dtype, merge=False, capture_graph=False):
        import torch

        pu = self.unit(dtype, merge)
        pu.validate_atoms_data(atoms, task)
        data = self.data(atoms, task)
        captured = {}
        backbone = pu.model.module.backbone
        if capture_graph:
            orig = backbone._generate_graph

            def wrapped(data_dict):
                g = orig(data_dict)
                captured["edge_index"] = g["edge_index"].detach().cpu().clone()
                captured["cell_offsets"] = g["cell_offsets"].detach().cpu().clone()
                captured["edge_distance"] = g["edge_distance"].detach().cpu().clone()
                return g

            backbone._generate_graph = wrapped
        prev = torch.get_default_dtype()
        # fairchem quirk: the MoLE merge (first predict) builds new nn.Linear layers and a new backbone
        # with the *current* default dtype, i.e. float32 after MLIPPredictUnit restored it, so an fp64
        # merged model silently carries fp32-rounded merged weights/buffers (~1e-8 relative energy
        # error). Keep float64 as default during the call so the merged fp64 model is really fp64.
        if dtype == torch.float64:
            torch.set_default_dtype(torch.float64)
        try:
            out = pu.predict(data)
        finally:
            torch.set_default_dtype(prev)
            if capture_graph:
                del backbone._generate_graph
        backbone = pu.model.module.backbone  # may have been replaced by the merge
        if merge:
            if not pu.inference_settings.merge_mole or getattr(backbone, "num_experts", 0) != 0:
                raise RuntimeError("merge_mole run fell back to an unmerged model")
        res = {
            "energy": float(out["energy"].detach().double()[0]),
            "forces": out["forces"].detach().double().cpu().tolist(),
        }
        if "stress" in out:
            res["stress"] = out["stress"].detach().double().cpu().reshape(-1).tolist()
        coeffs = getattr(getattr(backbone, "global_mole_tensors", None), "expert_mixing_coefficients", None)
        if coeffs is not None and not merge:
            res["mole_coefficients"] = coeffs.detach().double().cpu().reshape(-1).tolist()
        return res, captured, data


def element_ref_sum(uma_path: str, task: str, numbers) -> float:
    from safetensors import safe_open

    with safe_open(uma_path, "pt") as f:
        refs = f.get_tensor(f"tasks.{task}.element_references").double()
    return float(sum(refs[int(z)] for z in numbers))


def make_one(name: str, runner: Runner, uma_path: str, gen: dict) -> dict:
    import numpy as np
    import torch

    atoms, task, charge, spin = fixture_structures.BUILDERS[name]()
    atoms.info["charge"] = charge
    atoms.info["spin"] = spin
    periodic = bool(np.any(atoms.pbc))
    log(f"{name}: {len(atoms)} atoms, task {task}, charge {charge}, spin {spin}, pbc {atoms.pbc.tolist()}")

    ref = {}
    r64, graph, data = runner.predict(atoms, task, torch.float64, capture_graph=True)
    r32, _, _ = runner.predict(atoms, task, torch.float32)
    rm, _, _ = runner.predict(atoms, task, torch.float64, merge=True)
    for key, r in (("fp64", r64), ("fp32", r32)):
        entry = {"energy": r["energy"], "forces": r["forces"]}
        if periodic:
            entry["stress"] = r["stress"]
        if "mole_coefficients" in r:
            entry["mole_coefficients"] = r["mole_coefficients"]
        ref[key] = entry
    ref["fp64_merged"] = {"energy": rm["energy"]}
    ref["element_reference_sum"] = element_ref_sum(uma_path, task, atoms.numbers)

    ei = graph["edge_index"]
    offs = graph["cell_offsets"].round().long()
    counts = torch.bincount(ei[1], minlength=len(atoms))
    log(f"  E64 {r64['energy']:.12f}  E32 {r32['energy']:.8f}  E64-merged {rm['energy']:.12f}  "
        f"edges {ei.shape[1]} (max/atom {int(counts.max())})")
    # positions fairchem used (from_ase wraps periodic directions; our builders pre-wrap)
    pos_used = data.pos.detach().double().cpu().numpy()
    drift = float(np.abs(pos_used - atoms.get_positions()).max())
    if drift > 1e-12:
        log(f"  warning: from_ase moved positions by {drift:.2e} A; storing fairchem's positions")
    cell = np.array(atoms.get_cell()[:], dtype=float) if periodic else np.zeros((3, 3))
    return {
        "name": name,
        "task": task,
        "charge": int(charge),
        "spin": int(spin),
        "numbers": [int(z) for z in atoms.numbers],
        "positions": pos_used.tolist(),
        "cell": cell.tolist(),
        "pbc": [bool(p) for p in atoms.pbc],
        "reference": ref,
        "graph": {
            "src": ei[0].tolist(),
            "dst": ei[1].tolist(),
            "offsets": offs.tolist(),
            "max_neighbors": 300,
            "cutoff": 6.0,
        },
        "generator": gen,
    }


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="make-fixtures", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=DEFAULT_PT, help="fairchem .pt (regenerated from --uma's seed if missing)")
    ap.add_argument("--uma", default=DEFAULT_UMA, help="the bundled .uma the .pt must correspond to")
    ap.add_argument("--out", default=os.path.join("unittest", "data", "fixtures"))
    ap.add_argument("--only", action="append", choices=sorted(fixture_structures.BUILDERS),
                    help="only this fixture (repeatable)")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = ap.parse_args(argv)

    import torch

    logging.getLogger().setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    if args.threads:
        torch.set_num_threads(args.threads)
    names = args.only or list(fixture_structures.BUILDERS)
    os.makedirs(args.out, exist_ok=True)
    fc, tv = uma_convert._versions()
    _, meta = uma_convert.read_uma_header(args.uma)
    cmd = "tools/make-fixtures --model " + shlex.quote(args.model) + " --out " + shlex.quote(args.out)
    with tempfile.TemporaryDirectory(prefix="uma-fixtures-") as tmp:
        pt = ensure_model(args.model, args.uma, tmp)
        runner = Runner(pt)
        gen = {
            "command": cmd,
            "fairchem_core_version": fc,
            "torch_version": tv,
            "model": os.path.basename(args.uma),
            "model_sha256": uma_convert.sha256_file(args.uma),
            "seed": meta.get("provenance", {}).get("seed"),
            "settings": "InferenceSettings(tf32=False, activation_checkpointing=False, merge_mole=False|True, "
                        "compile=False, external_graph_gen=False, internal_graph_gen_version=2, "
                        "execution_mode='general', base_precision_dtype=float64|float32), device cpu, "
                        "MLIPPredictUnit seed 41",
            "date": _dt.datetime.now(tz=_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        for name in names:
            fx = make_one(name, runner, args.uma, gen)
            path = os.path.join(args.out, f"{name}.json")
            with open(path, "w") as f:
                json.dump(fx, f, separators=(",", ":"))
                f.write("\n")
            log(f"  wrote {path} ({os.path.getsize(path):,} bytes)")


if __name__ == "__main__":
    main()
