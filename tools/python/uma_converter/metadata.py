"""The backbone and per-task blocks of a .uma's metadata (docs/uma-file-format.md), from a checkpoint's
backbone config and parsed tasks; the task block also refuses normalizers under which forces or stress
would not be derivatives of the energy."""
from __future__ import annotations

from .console import die, log
from .generations import DEFAULT_SPIN


def backbone_meta(bb: dict, num_experts_found: int, model_id: str) -> dict:
    """The `backbone` block: the hyperparameters the engine builds its layers from, with fairchem's
    eSCNMDMoeBackbone defaults where the config leaves a key out."""
    g = bb.get

    dataset_mapping = bb.get("dataset_mapping")
    mv = bb.get("model_version", None)
    return {
        "max_num_elements": int(g("max_num_elements", 100)),
        "sphere_channels": int(g("sphere_channels", 128)),
        "hidden_channels": int(g("hidden_channels", 128)),
        "edge_channels": int(g("edge_channels", 128)),
        "lmax": int(g("lmax", 2)),
        "mmax": int(g("mmax", 2)),
        "num_layers": int(g("num_layers", 2)),
        "cutoff": float(g("cutoff", 5.0)),
        "num_distance_basis": int(g("num_distance_basis", 512)),
        "max_neighbors": int(g("max_neighbors", 300)),
        "num_experts": int(num_experts_found),
        # 1.1 carries model_version 1.1; 1.2.x has none (null; the generation is the top-level model_id)
        "model_version": float(mv) if mv is not None else None,
        "use_composition_embedding": bool(g("use_composition_embedding", False)),
        "chg_spin_emb_type": str(g("chg_spin_emb_type", "pos_emb")),
        # extra keys (informative; the C++ reader may assert them)
        "distance_function": str(g("distance_function", "gaussian")),
        "norm_type": str(g("norm_type", "rms_norm_sh")),
        "act_type": str(g("act_type", "gate")),
        "ff_type": str(g("ff_type", "grid")),
        "moe_expert_coefficient_norm": str(g("moe_expert_coefficient_norm", "softmax")),
        "mole_type": str(g("moe_type", "so2")),
        "use_dataset_embedding": bool(g("use_dataset_embedding", True)),
        "charge_balanced_channels": sorted(int(c) for c in (g("charge_balanced_channels", None) or [])),
        "spin_balanced_channels": list(g("spin_balanced_channels", None) or []),
        # fairchem escn_moe.py set_MOLE_coefficients: the composition mean includes the zero initial
        # value (divides by N+1) only for model_id "UMA-S-1.2" (the 1.2 bug)
        "composition_include_self": model_id == "UMA-S-1.2",
        "direct_forces": bool(g("direct_forces", True)),
        "dataset_mapping": dict(dataset_mapping) if dataset_mapping else None,
    }


def task_meta(tasks: dict, datasets_emb: list[str], dataset_mapping: dict | None,
              head_experts: dict | None = None) -> dict:
    """The `tasks` block, one entry per dataset with an energy task: its embedding, normalizers, charge/spin
    defaults and (dataset_moe head) its head expert. The engine returns forces and stress as derivatives of
    the energy, so their normalizers must equal the energy's."""
    meta = {}
    for ds, d in sorted(tasks.items()):
        if "energy_rmsd" not in d:
            log(f"warning: dataset {ds} has no energy task; skipped")
            continue
        emb = dataset_mapping.get(ds, ds) if dataset_mapping else ds
        if emb not in datasets_emb:
            die(f"task dataset {ds} maps to embedding {emb!r} which is not in the backbone dataset list {datasets_emb}")
        e_mean, e_rmsd = d["energy_mean"], d["energy_rmsd"]
        f_rmsd = d.get("forces_rmsd", e_rmsd)
        f_mean = d.get("forces_mean", 0.0)
        s_rmsd = d.get("stress_rmsd", e_rmsd)  # fairchem adds an untrained stress task with the energy normalizer
        s_mean = d.get("stress_mean", 0.0)
        if e_mean != 0.0:
            die(f"task {ds}: energy normalizer mean is {e_mean}, must be 0 (else forces would not be -dE/dx)")
        if f_rmsd != e_rmsd or f_mean != 0.0:
            die(f"task {ds}: forces normalizer (mean {f_mean}, rmsd {f_rmsd}) differs from energy rmsd {e_rmsd}: "
                "forces would not be -dE/dx")
        if s_rmsd != e_rmsd or s_mean != 0.0:
            die(f"task {ds}: stress normalizer (mean {s_mean}, rmsd {s_rmsd}) differs from energy rmsd {e_rmsd}: "
                "stress would not be the strain derivative of E")
        meta[ds] = {
            "dataset": emb,
            "energy_mean": e_mean,
            "energy_rmsd": e_rmsd,
            "forces_rmsd": f_rmsd,
            "stress_rmsd": s_rmsd,
            "default_charge": 0,
            "default_spin": DEFAULT_SPIN.get(ds, 0),
            "has_trained_stress": "stress_task" in d,
        }
        if head_experts is not None:  # dataset_moe energy head: the expert this task's systems use
            if ds not in head_experts:
                die(f"task dataset {ds} is not in the energy head's dataset mapping {sorted(head_experts)}")
            meta[ds]["head_expert"] = int(head_experts[ds])
    return meta

