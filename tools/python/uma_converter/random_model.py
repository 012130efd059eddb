"""Random UMA-S-shaped fairchem checkpoints of each generation (the test models of potentials/ and the
fixtures' models), and the recipe that rebuilds a random .uma from its own metadata."""
from __future__ import annotations

import warnings

from .console import die
from .generations import MODEL_IDS, NORMALIZER_RMSD, NORMALIZER_RMSD_1P2, UMA12_DATASETS


def uma_s_model_config(num_experts: int, datasets: list[str]) -> dict:
    return {
        "_target_": "fairchem.core.models.base.HydraModel",
        "backbone": {
            "model": "fairchem.core.models.uma.escn_moe.eSCNMDMoeBackbone",
            "max_num_elements": 100,
            "sphere_channels": 128,
            "hidden_channels": 128,
            "edge_channels": 128,
            "lmax": 2,
            "mmax": 2,
            "num_layers": 4,
            "cutoff": 6.0,
            "distance_function": "gaussian",
            "num_distance_basis": 64,
            "norm_type": "rms_norm_sh",
            "act_type": "gate",
            "ff_type": "spectral",
            "chg_spin_emb_type": "rand_emb",
            "cs_emb_grad": True,
            "dataset_list": list(datasets),
            "use_dataset_embedding": True,
            "num_experts": int(num_experts),
            "moe_layer_type": "pytorch",
            "moe_dropout": 0.05,
            "use_composition_embedding": True,
            "otf_graph": True,
            "max_neighbors": 300,
            "regress_forces": True,
            "regress_stress": True,
            "direct_forces": False,
            "model_version": 1.1,
        },
        "heads": {
            "energyandforcehead": {
                "module": "fairchem.core.models.uma.escn_moe.DatasetSpecificSingleHeadWrapper",
                "head_cls": "fairchem.core.models.uma.escn_md.MLP_EFS_Head",
                "head_kwargs": {"wrap_property": False},
                "dataset_names": list(datasets),
            }
        },
        "pass_through_head_outputs": True,
    }


def model_config_for(model_id: str, num_experts: int, datasets: list[str]) -> dict:
    """Random-model config of one generation. UMA-1.1: exactly uma_s_model_config (datasets = the
    embedding list). UMA-S-1.2 / 1.2.1: 32 Gaussians, charge balance of channels 0-2, the 7 datasets
    as an identity dataset_mapping (whatever tasks are chosen), the per-dataset MoLE energy head
    (DatasetSpecificMoEWrapper), supports_single_atoms, model_id and no model_version (as in
    fairchem's uma_1p2p1_surgery.py and shared/docs/uma-1p2.md)."""
    if model_id == "UMA-1.1":
        return uma_s_model_config(num_experts, datasets)
    if model_id not in MODEL_IDS:
        die(f"--model-id {model_id!r} unknown (choose from {', '.join(MODEL_IDS)})")
    cfg = uma_s_model_config(num_experts, UMA12_DATASETS)
    bb = cfg["backbone"]
    del bb["dataset_list"]
    del bb["model_version"]
    mapping = {d: d for d in UMA12_DATASETS}
    bb["dataset_mapping"] = dict(mapping)
    bb["num_distance_basis"] = 32
    bb["charge_balanced_channels"] = [0, 1, 2]
    cfg["heads"] = {
        "energyandforcehead": {
            "module": "fairchem.core.models.uma.escn_moe.DatasetSpecificMoEWrapper",
            "head_cls": "fairchem.core.models.uma.escn_md.MLP_EFS_Head",
            "head_kwargs": {"wrap_property": False},
            "dataset_mapping": dict(mapping),
        }
    }
    cfg["model_id"] = model_id
    cfg["supports_single_atoms"] = True
    return cfg


# perturb_: weight scale (times 1/sqrt(fan_in)) of every matrix, of the routing MLP, and the factor on the
# last energy-head layer
WEIGHT_GAIN = 1.0
ROUTING_GAIN = 3.0
HEAD_SCALE = 2.0


def perturb_(model, seed: int) -> None:
    """Make a freshly initialised UMA model numerically interesting: no zero biases, no unit
    norm gains, O(1) activations, experts and routing that visibly depend on the input."""
    import torch

    g = torch.Generator().manual_seed(seed + 1000003)

    def rn(shape):
        return torch.randn(shape, generator=g, dtype=torch.float32)

    with torch.no_grad():
        for mname, mod in model.named_modules():
            cls = type(mod).__name__
            params = dict(mod.named_parameters(recurse=False))
            if not params:
                continue
            for pname, p in sorted(params.items()):
                if cls == "Embedding":
                    if "source_embedding" in mname or "target_embedding" in mname:
                        p.copy_(0.5 * rn(p.shape))  # fairchem inits these to +-1e-3
                    # other embeddings keep nn.Embedding's N(0,1)
                elif cls == "LayerNorm" or "RMSNorm" in cls or "LayerNorm" in cls:
                    if "weight" in pname:
                        p.copy_(1.0 + 0.2 * rn(p.shape))
                    else:
                        p.copy_(0.2 * rn(p.shape))
                elif p.ndim >= 2:  # Linear [out,in], MoLE [K,out,in], SO3_Linear [L+1,out,in]
                    fan_in = p.shape[-1]
                    gain = WEIGHT_GAIN
                    if "routing_mlp" in mname:
                        gain = ROUTING_GAIN
                    p.copy_(rn(p.shape) * (gain / fan_in**0.5))
                else:  # biases (incl. the zero-initialised SO3_Linear biases)
                    p.copy_(0.1 * rn(p.shape))
        named = dict(model.named_parameters())
        for key in ("output_heads.energyandforcehead.head.energy_block.4.weight",  # 1.1 single head
                    "output_heads.energyandforcehead.head.energy_block.4.weights"):  # 1.2.x [K,1,H] head
            if key in named:
                named[key].mul_(HEAD_SCALE)


def random_element_refs(datasets: list[str], seed: int, maxZ: int = 100) -> dict:
    import torch

    g = torch.Generator().manual_seed(seed + 2000003)
    refs = {}
    for ds in datasets:  # fixed order so each dataset's refs depend only on the seed
        lo, hi = (-40.0, -5.0) if ds == "omol" else (-5.0, 0.0)
        r = lo + (hi - lo) * torch.rand(maxZ, generator=g, dtype=torch.float64)
        r[0] = 0.0
        refs[ds] = r
    return refs


def uma_tasks_config(datasets: list[str], refs: dict, rmsd: float = NORMALIZER_RMSD) -> list:
    """fairchem Task hydra dicts (what MLIPPredictUnit.setup_tasks instantiates)."""
    T = "fairchem.core.units.mlip_unit.mlip_unit.Task"
    OS = "fairchem.core.units.mlip_unit.mlip_unit.OutputSpec"
    NORM = {"_target_": "fairchem.core.modules.normalization.normalizer.Normalizer", "mean": 0.0, "rmsd": rmsd}
    tasks = []
    for ds in datasets:
        tasks.append({
            "_target_": T, "name": f"{ds}_energy", "level": "system", "property": "energy",
            "out_spec": {"_target_": OS, "dim": [1], "dtype": "float32"},
            "normalizer": dict(NORM),
            "element_references": {
                "_target_": "fairchem.core.modules.normalization.element_references.ElementReferences",
                "element_references": {"_target_": "torch.DoubleTensor", "_args_": [refs[ds].tolist()]},
            },
            "datasets": [ds],
        })
        tasks.append({
            "_target_": T, "name": f"{ds}_forces", "level": "atom", "property": "forces",
            "out_spec": {"_target_": OS, "dim": [3], "dtype": "float32"},
            "normalizer": dict(NORM), "datasets": [ds],
        })
        if ds in ("omat", "omc"):
            tasks.append({
                "_target_": T, "name": f"{ds}_stress", "level": "system", "property": "stress",
                "out_spec": {"_target_": OS, "dim": [1, 9], "dtype": "float32"},
                "normalizer": dict(NORM), "datasets": [ds],
            })
    return tasks


def build_random_checkpoint(seed: int, experts: int, datasets: list[str], dtype: str,
                            model_id: str = "UMA-1.1"):
    """Returns an MLIPInferenceCheckpoint. `datasets` are the tasks (for UMA-1.1 also the embedding
    list); 1.2.x models always carry the 7 datasets of their shape."""
    import hydra
    import torch
    from fairchem.core.units.mlip_unit.api.inference import MLIPInferenceCheckpoint

    cfg = model_config_for(model_id, experts, datasets)
    torch.manual_seed(seed)
    prev = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = hydra.utils.instantiate(cfg)
    finally:
        torch.set_default_dtype(prev)
    perturb_(model, seed)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if dtype == "float16" and p.dtype == torch.float32:
                p.copy_(p.to(torch.float16).to(torch.float32))  # exactly fp16-representable
    sd = model.state_dict()
    # EMA dict = AveragedModel layout ("module." prefix + n_averaged); the tensors are shared with
    # model_state_dict so torch.save stores each storage once (an untrained EMA equals the model).
    ema = {"module." + k: v for k, v in sd.items()}
    ema["n_averaged"] = torch.tensor(1, dtype=torch.long)
    # 1.1: refs drawn over the chosen datasets (unchanged since converter 1.0); 1.2.x: over all 7 in
    # UMA12_DATASETS order, so a dataset's refs do not depend on which tasks were chosen
    refs = random_element_refs(datasets if model_id == "UMA-1.1" else UMA12_DATASETS, seed)
    tasks = uma_tasks_config(datasets, refs, NORMALIZER_RMSD if model_id == "UMA-1.1" else NORMALIZER_RMSD_1P2)
    ckpt = MLIPInferenceCheckpoint(model_config=cfg, model_state_dict=dict(sd), ema_state_dict=ema,
                                   tasks_config=tasks)
    return ckpt


def random_recipe(meta: dict) -> list[str]:
    """The `uma-convert random` arguments that rebuild a random .uma from its own metadata
    (without --pt / -o); used by make-fixtures and make-test-models."""
    prov = meta["provenance"]
    if prov.get("source") != "random":
        raise ValueError("not a random model")
    toks = (prov.get("command") or "").split()
    opts = {toks[i]: toks[i + 1] for i in range(len(toks) - 1) if toks[i].startswith("--")}
    args = ["random", "--seed", str(prov["seed"]),
            "--experts", opts.get("--experts", str(meta["backbone"]["num_experts"])),
            "--model-id", opts.get("--model-id", meta.get("model_id") or "UMA-1.1"),
            "--tasks", opts.get("--tasks", ",".join(meta["tasks"])),
            "--dtype", opts.get("--dtype", "float16"),
            "--name", meta["model_name"], "--created", prov["created"]]
    return args

