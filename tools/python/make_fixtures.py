#!/usr/bin/env python3
"""make-fixtures: reference energies/forces/stress/graphs from fairchem for the C++ parity tests.

  tools/make-fixtures [--model-uma potentials/uma-s-random-k2.uma] [--model PT] [--out DIR] [--only NAME ...]

  e.g. tools/make-fixtures --model-uma potentials/uma-s-1p2p1-random-k2.uma --out unittest/data/fixtures-1p2p1

For every structure of the model's set (fixture_structures.SETS: the six UMA-1.1 structures, plus three
charged / isolated-atom ones for 1.2.x models) this runs fairchem's `general` backend on the CPU (tf32
off, no compile, no activation checkpointing, internal graph v2) with the random checkpoint, unmerged
MoLE in fp64 and fp32, plus merged MoLE in fp64 (energy only), records the internal radius graph
fairchem used (fp64 run) and writes one JSON per structure.

--model defaults to the .pt next to --model-uma. If it does not exist, the checkpoint is rebuilt from
the recipe recorded in the .uma's provenance (seed, experts, model id, tasks, dtype, name, created)
into a temp dir, and the rebuilt .uma must be byte-identical to --model-uma.
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
# fixture directory of each bundled random model (make-fixtures / check-fixture defaults)
DEFAULT_OUT = {
    "uma-s-random-k2.uma": os.path.join("unittest", "data", "fixtures"),
    "uma-s-1p2-random-k2.uma": os.path.join("unittest", "data", "fixtures-1p2"),
    "uma-s-1p2p1-random-k2.uma": os.path.join("unittest", "data", "fixtures-1p2p1"),
}


def default_pt(uma: str) -> str:
    return os.path.splitext(uma)[0] + ".pt"


def default_out(uma: str) -> str:
    return DEFAULT_OUT.get(os.path.basename(uma), os.path.join("unittest", "data", "fixtures"))


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
    try:
        recipe = uma_convert.random_recipe(meta)
    except (KeyError, ValueError):
        sys.exit(f"make-fixtures: {pt} missing and {uma} is not a random model; cannot regenerate")
    new_pt = os.path.join(workdir, os.path.basename(pt))
    new_uma = os.path.join(workdir, os.path.basename(uma))
    log(f"{pt} not found: regenerating it into {workdir}: uma-convert {' '.join(recipe)}")
    uma_convert.main(recipe + ["--pt", new_pt, "-o", new_uma, "--no-verify"])
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
            # sanity check of 1.2.x's per-layer charge balance: after every block fairchem makes the
            # system sum of x[:, 0, charge channels] equal the total charge
            if getattr(backbone, "charge_channel_end", 0) > getattr(backbone, "charge_channel_start", 0):
                orig_bal = backbone.balance_channels
                lo, hi = backbone.charge_channel_start, backbone.charge_channel_end
                captured["balance"] = []

                def wrapped_bal(x, charge, spin, natoms, batch):
                    y = orig_bal(x, charge=charge, spin=spin, natoms=natoms, batch=batch)
                    sums = torch.zeros(len(natoms), hi - lo, dtype=y.dtype).index_add_(
                        0, batch.cpu(), y[:, 0, lo:hi].detach().cpu())
                    captured["balance"].append(float((sums - charge.cpu().to(y.dtype)[:, None]).abs().max()))
                    return y

                backbone.balance_channels = wrapped_bal
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
                if "balance" in captured:
                    del backbone.balance_channels
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
    # fairchem pads an empty graph with fake self-loops on atom 0 (escn_md.add_n_empty_edges: edge
    # vector (1+cutoff)(1,1,1), envelope 0), prepended to edge_index but not to cell_offsets; the
    # fixture records the real radius-graph edges and the number of such padding edges
    n_fake = ei.shape[1] - offs.shape[0]
    if n_fake < 0 or (n_fake > 0 and not bool((ei[:, :n_fake] == 0).all())):
        raise RuntimeError(f"{name}: unexpected graph layout ({ei.shape[1]} edges, {offs.shape[0]} offsets)")
    ei = ei[:, n_fake:]
    counts = torch.bincount(ei[1], minlength=len(atoms))
    log(f"  E64 {r64['energy']:.12f}  E32 {r32['energy']:.8f}  E64-merged {rm['energy']:.12f}  "
        f"edges {ei.shape[1]} (max/atom {int(counts.max())})" + (f", {n_fake} fake self-loop(s)" if n_fake else ""))
    if "balance" in graph:
        worst = max(graph["balance"])
        log(f"  charge balance (fp64): max |sum_n x[n,0,c] - Q| over {len(graph['balance'])} layers = {worst:.1e}")
        if worst > 1e-9:
            raise RuntimeError(f"{name}: fairchem's charge balance does not hold ({worst:.3e})")
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
            **({"fake_self_loops": int(n_fake)} if n_fake else {}),
        },
        "generator": gen,
    }


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="make-fixtures", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-uma", "--uma", dest="uma", default=DEFAULT_UMA,
                    help="the random .uma the fixtures are for (default %(default)s)")
    ap.add_argument("--model", default=None,
                    help="its fairchem .pt (default: next to --model-uma; regenerated from the .uma's recipe if missing)")
    ap.add_argument("--out", default=None, help="output dir (default: the model's fixture dir, e.g. "
                    "unittest/data/fixtures-1p2p1 for uma-s-1p2p1-random-k2.uma)")
    ap.add_argument("--only", action="append", choices=sorted(fixture_structures.BUILDERS),
                    help="only this fixture (repeatable)")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = ap.parse_args(argv)

    import torch

    logging.getLogger().setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.model is None:
        args.model = default_pt(args.uma)
    if args.out is None:
        args.out = default_out(args.uma)
    if not os.path.exists(args.uma):
        import make_test_models

        name = os.path.basename(args.uma)
        in_table = name in make_test_models.read_table()
        same_dir = os.path.realpath(os.path.dirname(os.path.abspath(args.uma))) == os.path.realpath(
            make_test_models.POTENTIALS)
        if not (in_table and same_dir):
            sys.exit(f"make-fixtures: {args.uma} not found")
        log(f"{args.uma} not found: building it with tools/make-test-models")
        if make_test_models.main([name]) != 0:
            sys.exit(f"make-fixtures: tools/make-test-models could not build {args.uma}")
    _, meta = uma_convert.read_uma_header(args.uma)
    model_id = meta.get("model_id") or "UMA-1.1"
    names = args.only or list(fixture_structures.SETS[model_id])
    os.makedirs(args.out, exist_ok=True)
    fc, tv = uma_convert._versions()
    cmd = ("tools/make-fixtures --model-uma " + shlex.quote(args.uma) + " --model " + shlex.quote(args.model)
           + " --out " + shlex.quote(args.out))
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
