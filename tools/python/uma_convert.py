#!/usr/bin/env python3
"""uma-convert: turn a fairchem UMA checkpoint into a `.uma` file (docs/uma-file-format.md),
or build a random UMA-S-shaped fairchem checkpoint (+ its `.uma`) for tests.

  uma-convert convert CHECKPOINT.pt -o OUT.uma [--name NAME] [--dtype keep|float32|float16]
  uma-convert random --seed S --experts K [--model-id UMA-1.1|UMA-S-1.2|UMA-S-1.2.1]
                     [--tasks omol,omat,...] --pt OUT.pt -o OUT.uma
                     [--dtype float16|float32] [--name NAME] [--created STAMP] [--no-verify]
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

CONVERTER_VERSION = "uma-convert 1.2"
FORMAT_VERSION = 1
UMA_DATASETS = ["oc20", "omol", "omat", "odac", "omc"]  # UMA-S 1.1 checkpoint order
# UMA-S 1.2 / 1.2.1 dataset_mapping order (fairchem/core/scripts/uma_1p2p1_surgery.py)
UMA12_DATASETS = ["oc20", "oc22", "oc25", "omol", "omat", "odac", "omc"]
# The generations this converter (and the C++ engine) know, by fairchem's model_config["model_id"]
# (fairchem/core/models/uma/compat.py: 1.1 has none and is identified by backbone.model_version 1.1).
MODEL_IDS = ("UMA-1.1", "UMA-S-1.2", "UMA-S-1.2.1")
MODEL_DATASETS = {"UMA-1.1": UMA_DATASETS, "UMA-S-1.2": UMA12_DATASETS, "UMA-S-1.2.1": UMA12_DATASETS}
SINGLE_HEAD = "DatasetSpecificSingleHeadWrapper"
MOE_HEAD = "DatasetSpecificMoEWrapper"
CHARGE_RANGE = [-100, 100]
SPIN_RANGE = [0, 100]
DEFAULT_SPIN = {"omol": 1}  # every other task defaults to spin 0 (fairchem validate_uma_atoms_data)
NORMALIZER_RMSD = 1.423  # UMA-S 1.1 training configs
NORMALIZER_RMSD_1P2 = 1.342  # UMA-S 1.2 training configs (normalizer_rmsd); random 1.2.x models use it


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


def _backbone_meta(bb: dict, num_experts_found: int, model_id: str) -> dict:
    def g(key, default):
        v = bb.get(key, default)
        return v

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


def describe_model(model_config: dict, state: dict | None = None) -> str:
    """One line naming what a checkpoint is (for refusals)."""
    bb = dict(model_config.get("backbone") or {})
    heads = model_config.get("heads") or {}
    hs = ", ".join(f"{hn}: {str(hc.get('module', '?')).rsplit('.', 1)[-1]}"
                   f"({str(hc.get('head_cls', '?')).rsplit('.', 1)[-1]})" for hn, hc in heads.items())
    K = bb.get("num_experts")
    if state is not None:
        r = state.get("backbone.routing_mlp.4.weight")
        if r is not None:
            K = f"{K} (routing rows {r.shape[0]})"
    return (f"model_id {model_config.get('model_id')!r}, backbone.model_version {bb.get('model_version')!r}, "
            f"backbone {str(bb.get('model', '?')).rsplit('.', 1)[-1]}, lmax/mmax {bb.get('lmax')}/{bb.get('mmax')}, "
            f"num_layers {bb.get('num_layers')}, sphere_channels {bb.get('sphere_channels')}, num_experts {K}, "
            f"num_distance_basis {bb.get('num_distance_basis')}, "
            f"charge/spin_balanced_channels {bb.get('charge_balanced_channels')}/{bb.get('spin_balanced_channels')}, "
            f"heads [{hs}]")


def identify_model(model_config: dict, state: dict | None = None) -> str:
    """fairchem's generation id ("UMA-1.1", "UMA-S-1.2", "UMA-S-1.2.1") or die naming what was found.

    Mirrors fairchem/core/models/uma/compat.py: a model_id in the config wins; 1.1 has none and is
    recognised by backbone.model_version == 1.1 (fairchem back-fills "UMA-1.1")."""
    bb = dict(model_config.get("backbone") or {})
    what = describe_model(model_config, state)
    lmax, mmax, nl = int(bb.get("lmax", 2)), int(bb.get("mmax", 2)), int(bb.get("num_layers", 4))
    mid = model_config.get("model_id")
    mid = mid.strip() if isinstance(mid, str) else mid
    if lmax == 4 or nl == 10 or (isinstance(mid, str) and mid.upper().startswith("UMA-M")):
        die(f"UMA-M (lmax 4, 10 layers) is not supported yet; found {what}")
    if lmax != 2 or mmax != 2:
        die(f"lmax {lmax} / mmax {mmax} is not supported (only the UMA-S shape, lmax = mmax = 2); found {what}")
    if not mid:
        mv = bb.get("model_version", None)
        if mv in (1.1, "1.1"):
            return "UMA-1.1"
        die(f"checkpoint has no model_id and backbone.model_version {mv!r} (UMA 1.0 or untagged): "
            f"only {', '.join(MODEL_IDS)} are supported; found {what}")
    if mid not in MODEL_IDS:
        die(f"model_id {mid!r} is not supported (supported: {', '.join(MODEL_IDS)}); found {what}")
    return mid


def _validate_backbone(bb: dict, model_config: dict, state: dict, model_id: str) -> int:
    model = str(bb.get("model", ""))
    if not (model.endswith("uma.escn_moe.eSCNMDMoeBackbone") or model == "escnmd_moe_backbone"):
        die(f"backbone.model is {model!r}, expected fairchem.core.models.uma.escn_moe.eSCNMDMoeBackbone")
    K = int(bb.get("num_experts", 0))
    # MoLE expert count must agree with the stacked expert weights (backbone only: the 1.2 energy
    # head has its own per-dataset '.weights')
    mole_keys = [k for k in state if k.endswith(".weights") and k.startswith("backbone.")]
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
    if bb.get("direct_forces", True):
        die("backbone.direct_forces is True: only energy-conserving (autograd force) models are supported")
    if str(bb.get("chg_spin_emb_type", "pos_emb")) != "rand_emb":
        die(f"chg_spin_emb_type {bb.get('chg_spin_emb_type')!r} not supported (need rand_emb)")
    if bb.get("spin_balanced_channels"):
        die(f"spin_balanced_channels {list(bb['spin_balanced_channels'])} not supported "
            f"(no released UMA model balances spin); found {describe_model(model_config, state)}")
    ch = sorted(int(c) for c in (bb.get("charge_balanced_channels") or []))
    if ch:
        if ch != list(range(ch[0], ch[-1] + 1)):
            die(f"charge_balanced_channels {list(bb['charge_balanced_channels'])} are not contiguous "
                "(fairchem requires a contiguous range, e.g. [0, 1, 2])")
        if ch[0] < 0 or ch[-1] >= int(bb.get("sphere_channels", 128)):
            die(f"charge_balanced_channels {ch} outside the {bb.get('sphere_channels')} sphere channels")
    want = [] if model_id == "UMA-1.1" else [0, 1, 2]
    if ch != want:
        die(f"{model_id} has charge_balanced_channels {want} but this checkpoint has {ch}; "
            f"found {describe_model(model_config, state)}")
    if str(bb.get("distance_function", "gaussian")) != "gaussian":
        die("only distance_function=gaussian is supported")
    return K


def _expert_mapping(dataset_names, dataset_mapping) -> tuple[list[str], dict[str, int]]:
    """fairchem DatasetSpecificMoEWrapper._build_expert_mapping (escn_moe.py): the expert of a dataset
    is the index of its mapped target in the sorted unique targets; the wrapper has one expert slot per
    mapping key (num_experts = len(keys))."""
    if dataset_mapping is None:
        if dataset_names is None:
            die(f"{MOE_HEAD} head has neither dataset_mapping nor dataset_names")
        dataset_mapping = {n: n for n in dataset_names}
    elif dataset_names is not None:
        die(f"{MOE_HEAD} head has both dataset_names and dataset_mapping (fairchem refuses this)")
    dataset_mapping = {str(k): str(v) for k, v in dict(dataset_mapping).items()}
    if not set(dataset_mapping.values()) <= set(dataset_mapping.keys()):
        die(f"{MOE_HEAD} dataset_mapping values must be a subset of its keys: {dataset_mapping}")
    sorted_names = sorted(dataset_mapping.keys())
    unique_targets = sorted(set(dataset_mapping.values()))
    return sorted_names, {n: unique_targets.index(dataset_mapping[n]) for n in sorted_names}


def _energy_head_meta(model_config: dict, state: dict, model_id: str) -> tuple[str, dict]:
    """(head name, energy_head metadata) for the one supported head, or die."""
    heads = model_config.get("heads", {}) or {}
    head_names = list(heads.keys())
    if len(head_names) != 1:
        die(f"expected exactly one head, found {head_names}; {describe_model(model_config, state)}")
    hn = head_names[0]
    hc = heads[hn]
    mod = str(hc.get("module", ""))
    hcls = str(hc.get("head_cls", ""))
    if not hcls.endswith("MLP_EFS_Head"):
        die(f"head {hn}: head_cls {hcls!r} not supported (need MLP_EFS_Head); {describe_model(model_config, state)}")
    prefix = f"output_heads.{hn}.head.energy_block."
    if mod.endswith(SINGLE_HEAD):
        htype = "single"
        meta = {"type": "single"}
        for i in (0, 2, 4):
            if f"{prefix}{i}.weight" not in state:
                die(f"head {hn}: tensor {prefix}{i}.weight missing")
    elif mod.endswith(MOE_HEAD):
        htype = "dataset_moe"
        names, experts = _expert_mapping(hc.get("dataset_names"), hc.get("dataset_mapping"))
        K = len(names)
        for i in (0, 2, 4):
            w = state.get(f"{prefix}{i}.weights")
            if w is None or w.ndim != 3 or w.shape[0] != K:
                die(f"head {hn}: {prefix}{i}.weights is {None if w is None else list(w.shape)}, expected "
                    f"[{K}, out, in] ({K} datasets in the head's mapping)")
            b = state.get(f"{prefix}{i}.bias")
            if b is None or b.ndim != 1 or b.shape[0] != w.shape[1]:
                die(f"head {hn}: shared bias {prefix}{i}.bias missing or not [{w.shape[1]}]")
        meta = {"type": "dataset_moe", "num_experts": K, "experts": experts}
    else:
        die(f"head {hn}: wrapper {mod!r} (head_cls {hcls!r}) not supported (need {SINGLE_HEAD} or "
            f"{MOE_HEAD} around MLP_EFS_Head); {describe_model(model_config, state)}")
    want = "single" if model_id == "UMA-1.1" else "dataset_moe"
    if htype != want:
        die(f"{model_id} has a '{want}' energy head but this checkpoint's is '{htype}' ({mod}); "
            f"{describe_model(model_config, state)}")
    return hn, meta


def _task_meta(tasks: dict, datasets_emb: list[str], dataset_mapping: dict | None,
               head_experts: dict | None = None) -> dict:
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


def _data_section(blob: bytes) -> bytes:
    """The tensor bytes of a safetensors file: everything after [u64 N][N bytes of header]."""
    n = int.from_bytes(blob[:8], "little")
    return blob[8 + n:]


def _serialise(tensors: dict, meta: dict) -> bytes:
    """The .uma bytes: safetensors with meta as __metadata__.uma, plus tensor_data_sha256 = SHA-256 of the
    data section (the reader verifies it). The data section does not depend on the metadata (offsets
    are relative to it), so it is hashed from a first serialisation and checked unchanged in the second."""
    from safetensors.torch import save

    def dump(m):
        return save(tensors, metadata={"uma": json.dumps(m, sort_keys=True, separators=(",", ":"))})

    meta = dict(meta)
    meta.pop("tensor_data_sha256", None)
    data = _data_section(dump(meta))
    meta["tensor_data_sha256"] = hashlib.sha256(data).hexdigest()
    blob = dump(meta)
    if _data_section(blob) != data:
        die("internal error: the safetensors data section changed with the metadata")
    return blob


def build_uma(state: dict, model_config: dict, tasks_config, name: str, dtype_mode: str,
              provenance: dict, out_path: str) -> dict:
    """state: backbone./output_heads. tensors (no module. prefix). Writes out_path; returns summary."""
    import torch
    bb = dict(model_config["backbone"])
    model_id = identify_model(model_config, state)
    K = _validate_backbone(bb, model_config, state, model_id)
    bmeta = _backbone_meta(bb, K, model_id)
    datasets_emb = []
    if bmeta["use_dataset_embedding"]:
        prefix = "backbone.dataset_embedding.dataset_emb_dict."
        datasets_emb = [k[len(prefix):-len(".weight")] for k in state if k.startswith(prefix)]
        cfg_list = bb.get("dataset_list") or list((bb.get("dataset_mapping") or {}).keys())
        if cfg_list and sorted(cfg_list) == sorted(datasets_emb):
            datasets_emb = list(cfg_list)
    head_name, head_meta = _energy_head_meta(model_config, state, model_id)
    heads = model_config.get("heads", {}) or {}
    tasks = parse_tasks(tasks_config)
    tmeta = _task_meta(tasks, datasets_emb, bmeta["dataset_mapping"],
                       head_meta.get("experts") if head_meta["type"] == "dataset_moe" else None)
    if not tmeta:
        die("no energy tasks in tasks_config")
    head_names = [head_name]

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
        "model_id": model_id,
        "supports_single_atoms": bool(model_config.get("supports_single_atoms", False)),
        "energy_head": head_meta,
        "provenance": provenance,
    }
    for k, t in tensors.items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            die(f"tensor {k} holds NaN or Inf: the checkpoint is damaged; refusing to write it")
    blob = _serialise(tensors, meta)
    tmp = out_path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(blob)
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
        named = dict(model.named_parameters())
        for key in ("output_heads.energyandforcehead.head.energy_block.4.weight",  # 1.1 single head
                    "output_heads.energyandforcehead.head.energy_block.4.weights"):  # 1.2.x [K,1,H] head
            if key in named:
                named[key].mul_(HEAD_SCALE)


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
    # 1.1: refs drawn over the chosen datasets (unchanged since converter 1.0); 1.2.x: over all 7 in
    # UMA12_DATASETS order, so a dataset's refs do not depend on which tasks were chosen
    refs = random_element_refs(datasets if model_id == "UMA-1.1" else UMA12_DATASETS, seed)
    tasks = uma_tasks_config(datasets, refs, NORMALIZER_RMSD if model_id == "UMA-1.1" else NORMALIZER_RMSD_1P2)
    ckpt = MLIPInferenceCheckpoint(model_config=cfg, model_state_dict=dict(sd), ema_state_dict=ema,
                                   tasks_config=tasks)
    return ckpt


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


def cmd_random(args) -> None:
    import torch

    model_id = args.model_id
    shape = MODEL_DATASETS[model_id]
    if args.tasks is None:
        args.tasks = ",".join(["omol", "omat", "oc20", "odac", "omc"]) if model_id == "UMA-1.1" else ",".join(shape)
    datasets = [d.strip() for d in args.tasks.split(",") if d.strip()]
    for d in datasets:
        if d not in shape:
            die(f"unknown task {d!r} for {model_id} (choose from {shape})")
    # keep the checkpoint order of the shape (UMA-S 1.1: the embedding list; 1.2.x: dataset_mapping)
    datasets = [d for d in shape if d in datasets]
    log(f"building random {model_id}-shaped model: seed {args.seed}, {args.experts} experts, tasks {datasets}, "
        f"{args.dtype}")
    ckpt = build_random_checkpoint(args.seed, args.experts, datasets, args.dtype, model_id)
    os.makedirs(os.path.dirname(os.path.abspath(args.pt)), exist_ok=True)
    torch.save(ckpt, args.pt)
    log(f"wrote {args.pt} ({os.path.getsize(args.pt):,} bytes)")
    state = extract_state(ckpt)
    if not args.no_verify:
        _, head_meta = _energy_head_meta(ckpt.model_config, state, identify_model(ckpt.model_config, state))
        verify_pt(args.pt, datasets, model_id, head_meta.get("experts"))
    fc, tv = _versions()
    command = (f"uma-convert random --seed {args.seed} --experts {args.experts} --tasks {','.join(datasets)} "
               f"--dtype {args.dtype}")
    if model_id != "UMA-1.1":
        command += f" --model-id {model_id}"
    prov = {
        "source": "random",
        "source_sha256": None,  # the .pt pickle bytes are not part of the reproducibility contract
        "seed": args.seed,
        "fairchem_core_version": fc,
        "torch_version": tv,
        "converter": CONVERTER_VERSION,
        "created": _created_stamp(args.created),
        "command": command,
    }
    tag = {"UMA-1.1": "uma-s", "UMA-S-1.2": "uma-s-1p2", "UMA-S-1.2.1": "uma-s-1p2p1"}[model_id]
    name = args.name or f"{tag}-random-seed{args.seed}-k{args.experts}"
    summary = build_uma(state, ckpt.model_config, ckpt.tasks_config, name, args.dtype, prov, args.output)
    _print_summary(args.output, summary)


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
    r.add_argument("--model-id", choices=list(MODEL_IDS), default="UMA-1.1",
                   help="shape of the random model (default UMA-1.1)")
    r.add_argument("--tasks", default=None,
                   help="comma-separated tasks (default: omol,omat,oc20,odac,omc for UMA-1.1; all 7 datasets "
                        "for UMA-S-1.2 / 1.2.1)")
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
