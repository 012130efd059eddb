"""The check that a random .pt is a model fairchem itself loads and runs: load it through the public
load_predict_unit and predict one small structure per task (uma-convert random without --no-verify)."""
from __future__ import annotations

from .console import die, log


def verify_pt(pt_path: str, datasets: list[str], model_id: str = "UMA-1.1", expected_experts=None) -> dict:
    """Load the .pt through fairchem's public load_predict_unit (general backend, fp32, unmerged) and
    predict a small structure per task (+ an isolated O atom for models that run single atoms)."""
    import numpy as np
    import torch
    from ase import Atoms
    from ase.build import bulk, molecule
    from fairchem.core.datasets.atomic_data import AtomicData
    from fairchem.core.units.mlip_unit import InferenceSettings, load_predict_unit

    settings = InferenceSettings(tf32=False, activation_checkpointing=False, merge_mole=False, compile=False,
                                 external_graph_gen=False, internal_graph_gen_version=2,
                                 execution_mode="general", base_precision_dtype=torch.float32)
    pu = load_predict_unit(pt_path, inference_settings=settings, device="cpu")
    module = pu.model.module
    if (module.model_id or "UMA-1.1") != model_id:
        die(f"verification: fairchem loaded model_id {module.model_id!r}, expected {model_id!r}")
    head = module.output_heads["energyandforcehead"]
    if expected_experts is not None:
        got = dict(getattr(head, "dataset_name_to_exp", {}))
        if got != expected_experts:
            die(f"verification: fairchem's head expert mapping {got} != converter's {expected_experts}")
    jobs = []
    for ds in datasets:
        if ds == "omol":
            atoms = molecule("CH3CH2OH")
        else:
            atoms = bulk("Cu", "fcc", a=3.61, cubic=True)
            atoms.rattle(0.05, seed=1)
        jobs.append((ds, atoms))
    if module.supports_single_atoms and "omol" in datasets:
        o = Atoms("O", positions=[[0.0, 0.0, 0.0]], pbc=False)
        o.info.update(charge=0, spin=3)
        jobs.append(("omol", o))
    res = {}
    for ds, atoms in jobs:
        pu.validate_atoms_data(atoms, ds)
        data = AtomicData.from_ase(atoms, task_name=ds, r_edges=False, target_dtype=torch.float32,
                                   r_data_keys=["spin", "charge"])
        out = pu.predict(data)
        e = float(out["energy"][0])
        fmax = float(out["forces"].abs().max())
        if not np.isfinite(e) or not np.isfinite(fmax):
            die(f"verification: non-finite prediction for {ds}")
        res[(ds, len(atoms))] = (e, fmax)
        log(f"verify {ds:5s}: E = {e:.6f} eV, max|F| = {fmax:.4f} eV/A ({len(atoms)} atoms)")
    return res

