#!/usr/bin/env python3
"""uma-convert: turn a fairchem UMA checkpoint into a `.uma` file (docs/uma-file-format.md),
or build a random UMA-S-shaped fairchem checkpoint (+ its `.uma`) for tests.

  uma-convert convert CHECKPOINT.pt -o OUT.uma [--name NAME] [--dtype keep|float32|float16]
  uma-convert random --seed S --experts K [--tasks omol,omat,oc20,odac,omc] --pt OUT.pt -o OUT.uma
                     [--dtype float16|float32] [--name NAME] [--no-verify]
  uma-convert info FILE.uma

Everything here is written from the fairchem-core inference API (MLIPInferenceCheckpoint,
hydra model config, tasks_config); no training code is needed.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import os
import struct
import sys
import warnings

CONVERTER_VERSION = "uma-convert 1.0"
FORMAT_VERSION = 1
UMA_DATASETS = ["oc20", "omol", "omat", "odac", "omc"]  # UMA-S 1.1 checkpoint order
CHARGE_RANGE = [-100, 100]
SPIN_RANGE = [0, 100]
DEFAULT_SPIN = {"omol": 1}  # every other task defaults to spin 0 (fairchem validate_uma_atoms_data)
NORMALIZER_RMSD = 1.423


def log(msg: str) -> None:
    print(f"uma-convert: {msg}", file=sys.stderr, flush=True)


def die(msg: str) -> None:
    print(f"uma-convert: error: {msg}", file=sys.stderr, flush=True)
    sys.exit(2)


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _versions() -> tuple[str, str]:
    import torch

    try:
        from importlib.metadata import version

        fc = version("fairchem-core")
    except Exception:  # pragma: no cover
        fc = "unknown"
    return fc, torch.__version__.split("+")[0]


def _created_stamp(explicit: str | None) -> str:
    """UTC creation time. Reproducible builds: --created or SOURCE_DATE_EPOCH fixes it."""
    if explicit:
        return explicit
    sde = os.environ.get("SOURCE_DATE_EPOCH")
    if sde:
        t = _dt.datetime.fromtimestamp(int(sde), tz=_dt.timezone.utc)
    else:
        t = _dt.datetime.now(tz=_dt.timezone.utc).replace(microsecond=0)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# ----------------------------------------------------------------------------------------------
# reading a checkpoint
# ----------------------------------------------------------------------------------------------


def _hydra_get(cfg, key, default=None):
    if cfg is None:
        return default
    if isinstance(cfg, dict):
        return cfg.get(key, default)
    return getattr(cfg, key, default)


def _to_float(x) -> float:
    import torch

    if isinstance(x, torch.Tensor):
        return float(x.double().item())
    return float(x)


def _elem_refs_tensor(cfg):
    """Element references from a task's `element_references` hydra entry (or instantiated module)."""
    import torch

    if cfg is None:
        return None
    if isinstance(cfg, torch.nn.Module):
        return cfg.element_references.detach().to(torch.float64).clone()
    if isinstance(cfg, torch.Tensor):
        return cfg.detach().to(torch.float64).clone()
    # a hydra dict: instantiate it (yields ElementReferences or a tensor)
    import hydra

    obj = hydra.utils.instantiate(cfg)
    return _elem_refs_tensor(obj)


def _normalizer_values(cfg) -> tuple[float, float]:
    import torch

    if cfg is None:
        return 0.0, 1.0
    if isinstance(cfg, torch.nn.Module):
        return _to_float(cfg.mean), _to_float(cfg.rmsd)
    mean = _hydra_get(cfg, "mean", None)
    rmsd = _hydra_get(cfg, "rmsd", None)
    if rmsd is None:
        rmsd = _hydra_get(cfg, "stdev", None)
    if mean is None or rmsd is None or any(
        k in cfg for k in ("file", "state_dict", "tensor")
    ):
        import hydra

        obj = hydra.utils.instantiate(cfg)
        return _to_float(obj.mean), _to_float(obj.rmsd)
    return _to_float(mean), _to_float(rmsd)


def parse_tasks(tasks_config) -> dict:
    """Group fairchem Task configs by dataset: energy/forces/stress normalizers + element refs."""
    out: dict[str, dict] = {}
    for tc in tasks_config:
        prop = _hydra_get(tc, "property")
        name = _hydra_get(tc, "name")
        datasets = list(_hydra_get(tc, "datasets", []) or [])
        if prop not in ("energy", "forces", "stress"):
            log(f"ignoring task {name} (property {prop})")
            continue
        mean, rmsd = _normalizer_values(_hydra_get(tc, "normalizer"))
        for ds in datasets:
            d = out.setdefault(ds, {"dataset": ds})
            d[f"{prop}_task"] = name
            d[f"{prop}_mean"] = mean
            d[f"{prop}_rmsd"] = rmsd
            if prop == "energy":
                refs = _elem_refs_tensor(_hydra_get(tc, "element_references"))
                d["element_references"] = refs
    return out


def _backbone_meta(bb: dict, num_experts_found: int) -> dict:
    def g(key, default):
        v = bb.get(key, default)
        return v

    dataset_mapping = bb.get("dataset_mapping")
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
        "model_version": float(g("model_version", 1.0)),
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
        "charge_balanced_channels": list(g("charge_balanced_channels", None) or []),
        "spin_balanced_channels": list(g("spin_balanced_channels", None) or []),
        "direct_forces": bool(g("direct_forces", True)),
        "dataset_mapping": dict(dataset_mapping) if dataset_mapping else None,
    }


def _validate_backbone(bb: dict, model_config: dict, state: dict) -> int:
    model = str(bb.get("model", ""))
    if not (model.endswith("uma.escn_moe.eSCNMDMoeBackbone") or model == "escnmd_moe_backbone"):
        die(f"backbone.model is {model!r}, expected fairchem.core.models.uma.escn_moe.eSCNMDMoeBackbone")
    K = int(bb.get("num_experts", 0))
    # MoLE expert count must agree with the stacked expert weights
    mole_keys = [k for k in state if k.endswith(".weights")]
    if K > 0:
        if not mole_keys:
            die(f"num_experts={K} but no MoLE '.weights' tensors in the state dict")
        for k in mole_keys:
            if state[k].shape[0] != K:
                die(f"MoLE tensor {k} has {state[k].shape[0]} experts, config says num_experts={K}")
        r = state.get("backbone.routing_mlp.4.weight")
        if r is None or r.shape[0] != K:
            die(f"routing_mlp.4.weight missing or not [{K}, *] (MoLE expert count mismatch)")
    elif mole_keys:
        die("num_experts=0 but the state dict has MoLE '.weights' tensors")
    mv = bb.get("model_version", None)
    model_id = model_config.get("model_id")
    if K > 0:
        if model_id not in (None, "", "UMA-1.1"):
            die(f"model_id {model_id!r} not supported (this engine implements UMA 1.1 semantics: "
                "composition mean with include_self=False)")
        if mv not in (1.1, "1.1"):
            die(f"backbone.model_version is {mv!r}; only UMA 1.1 (model_version 1.1) is supported")
    for key, want in (("lmax", 2), ("mmax", 2)):
        if int(bb.get(key, want)) != want:
            log(f"warning: {key}={bb.get(key)} (UMA-S uses {want})")
    if bb.get("direct_forces", True):
        die("backbone.direct_forces is True: only energy-conserving (autograd force) models are supported")
    if str(bb.get("chg_spin_emb_type", "pos_emb")) != "rand_emb":
        die(f"chg_spin_emb_type {bb.get('chg_spin_emb_type')!r} not supported (need rand_emb)")
    if bb.get("charge_balanced_channels") or bb.get("spin_balanced_channels"):
        die("charge/spin balanced channels (UMA 1.2) are not supported")
    if str(bb.get("distance_function", "gaussian")) != "gaussian":
        die("only distance_function=gaussian is supported")
    return K


def _task_meta(tasks: dict, datasets_emb: list[str], dataset_mapping: dict | None) -> dict:
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
    return meta


def _pick_dtype(name: str, t, mode: str):
    """Return the tensor to store (possibly fp16) honouring the lossless rule."""
    import torch

    if mode == "keep" or not t.is_floating_point():
        return t
    if t.dtype == torch.float64:  # element references etc. stay F64
        return t
    if mode == "float32":
        return t.to(torch.float32)
    if mode == "float16":
        h = t.to(torch.float16)
        if torch.equal(h.to(t.dtype), t) and torch.isfinite(h).all():
            return h
        return t.to(torch.float32)
    raise ValueError(mode)


def build_uma(state: dict, model_config: dict, tasks_config, name: str, dtype_mode: str,
              provenance: dict, out_path: str) -> dict:
    """state: backbone./output_heads. tensors (no module. prefix). Writes out_path; returns summary."""
    import torch
    from safetensors.torch import save_file

    bb = dict(model_config["backbone"])
    K = _validate_backbone(bb, model_config, state)
    bmeta = _backbone_meta(bb, K)
    datasets_emb = []
    if bmeta["use_dataset_embedding"]:
        prefix = "backbone.dataset_embedding.dataset_emb_dict."
        datasets_emb = [k[len(prefix):-len(".weight")] for k in state if k.startswith(prefix)]
        cfg_list = bb.get("dataset_list") or list((bb.get("dataset_mapping") or {}).keys())
        if cfg_list and sorted(cfg_list) == sorted(datasets_emb):
            datasets_emb = list(cfg_list)
    tasks = parse_tasks(tasks_config)
    tmeta = _task_meta(tasks, datasets_emb, bmeta["dataset_mapping"])
    if not tmeta:
        die("no energy tasks in tasks_config")
    # heads: exactly one DatasetSpecificSingleHeadWrapper(MLP_EFS_Head) is supported
    heads = model_config.get("heads", {}) or {}
    head_names = list(heads.keys())
    for hn, hc in heads.items():
        mod = str(hc.get("module", ""))
        hcls = str(hc.get("head_cls", ""))
        if not mod.endswith("DatasetSpecificSingleHeadWrapper") or not hcls.endswith("MLP_EFS_Head"):
            die(f"head {hn}: module {mod!r} head_cls {hcls!r} not supported "
                "(need DatasetSpecificSingleHeadWrapper + MLP_EFS_Head)")
    if len(head_names) != 1:
        die(f"expected exactly one head, found {head_names}")

    # expected element list: embeddings cover Z < max_num_elements; Z=0 is not an element
    maxZ = bmeta["max_num_elements"]
    charge_rows = state["backbone.charge_embedding.rand_emb.weight"].shape[0]
    spin_rows = state["backbone.spin_embedding.rand_emb.weight"].shape[0]
    charge_range = [-(charge_rows // 2), charge_rows - 1 - charge_rows // 2]
    spin_range = [0, spin_rows - 1]

    tensors = {}
    n_f16 = n_f32 = 0
    for k in sorted(state):
        t = state[k].detach().cpu().contiguous()
        s = _pick_dtype(k, t, dtype_mode).contiguous()
        if s.dtype == torch.float16:
            n_f16 += 1
        elif s.dtype == torch.float32:
            n_f32 += 1
        tensors[k] = s
    for ds in tmeta:
        refs = tasks[ds].get("element_references")
        if refs is None:
            refs = torch.zeros(maxZ, dtype=torch.float64)
            log(f"task {ds}: no element references (zeros written)")
        refs = refs.to(torch.float64).reshape(-1)
        if refs.numel() < maxZ:
            die(f"task {ds}: element references have {refs.numel()} entries < max_num_elements {maxZ}")
        tensors[f"tasks.{ds}.element_references"] = refs[:maxZ].contiguous()

    meta = {
        "format": "uma",
        "format_version": FORMAT_VERSION,
        "model_name": name,
        "backbone": bmeta,
        "datasets": datasets_emb,
        "tasks": tmeta,
        "elements": list(range(1, maxZ)),
        "charge_range": charge_range,
        "spin_range": spin_range,
        "heads": {hn: {"module": heads[hn]["module"], "head_cls": heads[hn]["head_cls"]} for hn in head_names},
        "model_id": model_config.get("model_id") or ("UMA-1.1" if K > 0 else None),
        "provenance": provenance,
    }
    tmp = out_path + ".tmp"
    save_file(tensors, tmp, metadata={"uma": json.dumps(meta, sort_keys=True, separators=(",", ":"))})
    os.chmod(tmp, 0o644)
    os.replace(tmp, out_path)
    nparams = sum(v.numel() for k, v in state.items() if v.is_floating_point())
    return {
        "parameters": nparams,
        "experts": K,
        "elements": f"Z=1..{maxZ - 1}",
        "tasks": list(tmeta.keys()),
        "datasets": datasets_emb,
        "f16_tensors": n_f16,
        "f32_tensors": n_f32,
        "bytes": os.path.getsize(out_path),
        "sha256": sha256_file(out_path),
    }


def extract_state(ckpt) -> dict:
    ema = getattr(ckpt, "ema_state_dict", None)
    if ema is None:
        ema = ckpt["ema_state_dict"]
    state = {}
    for k, v in ema.items():
        if k == "n_averaged":
            continue
        kk = k[len("module."):] if k.startswith("module.") else k
        if kk.startswith("backbone.Jd_") or kk == "n_averaged":
            continue
        state[kk] = v
    return state


def cmd_convert(args) -> None:
    import torch

    src = args.checkpoint
    log(f"reading {src}")
    ckpt = torch.load(src, map_location="cpu", weights_only=False)
    model_config = getattr(ckpt, "model_config", None) or ckpt["model_config"]
    tasks_config = getattr(ckpt, "tasks_config", None) or ckpt["tasks_config"]
    try:  # training configs may arrive as OmegaConf containers
        from omegaconf import DictConfig, ListConfig, OmegaConf

        if isinstance(model_config, DictConfig):
            model_config = OmegaConf.to_container(model_config, resolve=True)
        if isinstance(tasks_config, (DictConfig, ListConfig)):
            tasks_config = OmegaConf.to_container(tasks_config, resolve=True)
        tasks_config = [OmegaConf.to_container(t, resolve=True) if isinstance(t, DictConfig) else t
                        for t in tasks_config]
    except ImportError:  # pragma: no cover
        pass
    state = extract_state(ckpt)
    log(f"{len(state)} EMA tensors (Jd_* and n_averaged dropped)")
    fc, tv = _versions()
    prov = {
        "source": os.path.basename(src),
        "source_sha256": sha256_file(src),
        "seed": None,
        "fairchem_core_version": fc,
        "torch_version": tv,
        "converter": CONVERTER_VERSION,
        "created": _created_stamp(args.created),
    }
    name = args.name or os.path.splitext(os.path.basename(src))[0]
    summary = build_uma(state, model_config, tasks_config, name, args.dtype, prov, args.output)
    _print_summary(args.output, summary)


def _print_summary(path, s) -> None:
    print(f"wrote {path}")
    print(f"  parameters : {s['parameters']:,}")
    print(f"  experts    : {s['experts']}")
    print(f"  elements   : {s['elements']}")
    print(f"  datasets   : {', '.join(s['datasets'])}")
    print(f"  tasks      : {', '.join(s['tasks'])}")
    print(f"  storage    : {s['f16_tensors']} F16 / {s['f32_tensors']} F32 tensors, {s['bytes']:,} bytes")
    print(f"  sha256     : {s['sha256']}")


# ----------------------------------------------------------------------------------------------
# random UMA-S-shaped checkpoint
# ----------------------------------------------------------------------------------------------


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


def _perturb_(model, seed: int) -> None:
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
                full = f"{mname}.{pname}"
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
                _ = full
        last = dict(model.named_parameters()).get("output_heads.energyandforcehead.head.energy_block.4.weight")
        if last is not None:
            last.mul_(HEAD_SCALE)


WEIGHT_GAIN = 1.0
ROUTING_GAIN = 3.0
HEAD_SCALE = 2.0


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


def build_random_checkpoint(seed: int, experts: int, datasets: list[str], dtype: str):
    """Returns (MLIPInferenceCheckpoint, plain state dict without module. prefix)."""
    import hydra
    import torch
    from fairchem.core.units.mlip_unit.api.inference import MLIPInferenceCheckpoint

    cfg = uma_s_model_config(experts, datasets)
    torch.manual_seed(seed)
    prev = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = hydra.utils.instantiate(cfg)
    finally:
        torch.set_default_dtype(prev)
    _perturb_(model, seed)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if dtype == "float16" and p.dtype == torch.float32:
                p.copy_(p.to(torch.float16).to(torch.float32))  # exactly fp16-representable
    sd = model.state_dict()
    # EMA dict = AveragedModel layout ("module." prefix + n_averaged); the tensors are shared with
    # model_state_dict so torch.save stores each storage once (an untrained EMA equals the model).
    ema = {"module." + k: v for k, v in sd.items()}
    ema["n_averaged"] = torch.tensor(1, dtype=torch.long)
    refs = random_element_refs(datasets, seed)
    tasks = uma_tasks_config(datasets, refs)
    ckpt = MLIPInferenceCheckpoint(model_config=cfg, model_state_dict=dict(sd), ema_state_dict=ema,
                                   tasks_config=tasks)
    return ckpt


def verify_pt(pt_path: str, datasets: list[str]) -> dict:
    """Load the .pt through fairchem's MLIPPredictUnit and predict a small structure per task."""
    import numpy as np
    import torch
    from ase.build import molecule, bulk
    from fairchem.core.datasets.atomic_data import AtomicData
    from fairchem.core.units.mlip_unit import InferenceSettings
    from fairchem.core.units.mlip_unit.predict import MLIPPredictUnit

    settings = InferenceSettings(tf32=False, activation_checkpointing=False, merge_mole=False, compile=False,
                                 external_graph_gen=False, internal_graph_gen_version=2,
                                 execution_mode="general", base_precision_dtype=torch.float32)
    pu = MLIPPredictUnit(pt_path, device="cpu", inference_settings=settings)
    res = {}
    for ds in datasets:
        if ds == "omol":
            atoms = molecule("CH3CH2OH")
        else:
            atoms = bulk("Cu", "fcc", a=3.61, cubic=True)
            atoms.rattle(0.05, seed=1)
        pu.validate_atoms_data(atoms, ds)
        data = AtomicData.from_ase(atoms, task_name=ds, r_edges=False, target_dtype=torch.float32,
                                   r_data_keys=["spin", "charge"])
        out = pu.predict(data)
        e = float(out["energy"][0])
        fmax = float(out["forces"].abs().max())
        if not np.isfinite(e) or not np.isfinite(fmax):
            die(f"verification: non-finite prediction for {ds}")
        res[ds] = (e, fmax)
        log(f"verify {ds:5s}: E = {e:.6f} eV, max|F| = {fmax:.4f} eV/A ({len(atoms)} atoms)")
    return res


def cmd_random(args) -> None:
    import torch

    datasets = [d.strip() for d in args.tasks.split(",") if d.strip()]
    for d in datasets:
        if d not in UMA_DATASETS:
            die(f"unknown task {d!r} (choose from {UMA_DATASETS})")
    # keep the UMA-S 1.1 checkpoint order for the embedding list
    datasets = [d for d in UMA_DATASETS if d in datasets]
    log(f"building random UMA-S model: seed {args.seed}, {args.experts} experts, tasks {datasets}, {args.dtype}")
    ckpt = build_random_checkpoint(args.seed, args.experts, datasets, args.dtype)
    os.makedirs(os.path.dirname(os.path.abspath(args.pt)), exist_ok=True)
    torch.save(ckpt, args.pt)
    log(f"wrote {args.pt} ({os.path.getsize(args.pt):,} bytes)")
    if not args.no_verify:
        verify_pt(args.pt, datasets)
    fc, tv = _versions()
    prov = {
        "source": "random",
        "source_sha256": None,  # the .pt pickle bytes are not part of the reproducibility contract
        "seed": args.seed,
        "fairchem_core_version": fc,
        "torch_version": tv,
        "converter": CONVERTER_VERSION,
        "created": _created_stamp(args.created),
        "command": f"uma-convert random --seed {args.seed} --experts {args.experts} --tasks {','.join(datasets)} --dtype {args.dtype}",
    }
    name = args.name or f"uma-s-random-seed{args.seed}-k{args.experts}"
    state = extract_state(ckpt)
    summary = build_uma(state, ckpt.model_config, ckpt.tasks_config, name, args.dtype, prov, args.output)
    _print_summary(args.output, summary)


# ----------------------------------------------------------------------------------------------
# info
# ----------------------------------------------------------------------------------------------


def read_uma_header(path: str) -> tuple[dict, dict]:
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    meta = json.loads(header.get("__metadata__", {}).get("uma", "{}"))
    return header, meta


def cmd_info(args) -> None:
    header, meta = read_uma_header(args.file)
    print(json.dumps(meta, indent=2, sort_keys=True))
    if args.tensors:
        for k, v in header.items():
            if k != "__metadata__":
                print(k, v["dtype"], v["shape"])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="uma-convert", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("convert", help="convert a fairchem UMA checkpoint (.pt) to .uma")
    c.add_argument("checkpoint")
    c.add_argument("-o", "--output", required=True)
    c.add_argument("--name")
    c.add_argument("--dtype", choices=["keep", "float32", "float16"], default="keep")
    c.add_argument("--created", help="override the provenance UTC timestamp (reproducible builds)")
    c.set_defaults(fn=cmd_convert)
    r = sub.add_parser("random", help="build a random UMA-S-shaped checkpoint and its .uma")
    r.add_argument("--seed", type=int, required=True)
    r.add_argument("--experts", type=int, required=True)
    r.add_argument("--tasks", default=",".join(["omol", "omat", "oc20", "odac", "omc"]))
    r.add_argument("--pt", required=True)
    r.add_argument("-o", "--output", required=True)
    r.add_argument("--dtype", choices=["float16", "float32"], default="float16")
    r.add_argument("--name")
    r.add_argument("--created", help="override the provenance UTC timestamp (reproducible builds)")
    r.add_argument("--no-verify", action="store_true", help="skip loading the .pt in fairchem")
    r.set_defaults(fn=cmd_random)
    i = sub.add_parser("info", help="print the metadata of a .uma file")
    i.add_argument("file")
    i.add_argument("--tensors", action="store_true")
    i.set_defaults(fn=cmd_info)
    args = ap.parse_args(argv)
    import logging

    logging.getLogger().setLevel(logging.ERROR)  # fairchem's deprecation chatter
    warnings.simplefilter("ignore")
    if args.cmd == "random" and args.experts < 1:
        die("--experts must be >= 1")
    args.fn(args)


if __name__ == "__main__":
    main()
