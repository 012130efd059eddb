"""Which UMA generation a checkpoint is, and refusal (naming what was found) of anything the engine cannot
run: UMA-M, other lmax/mmax, direct-force models, spin balance, unknown heads, mismatched expert counts."""
from __future__ import annotations

from .console import die
from .generations import MODEL_IDS, MOE_HEAD, SINGLE_HEAD


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


def validate_backbone(bb: dict, model_config: dict, state: dict, model_id: str) -> int:
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


def expert_mapping(dataset_names, dataset_mapping) -> tuple[list[str], dict[str, int]]:
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


def energy_head_meta(model_config: dict, state: dict, model_id: str) -> tuple[str, dict]:
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
        names, experts = expert_mapping(hc.get("dataset_names"), hc.get("dataset_mapping"))
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

