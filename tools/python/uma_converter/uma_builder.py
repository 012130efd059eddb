"""Checkpoint state + model/tasks configs -> a .uma: recognise and validate the model, build its metadata,
choose the stored tensors (weights and per-task element references), refuse non-finite ones, write the file."""
from __future__ import annotations

import os

from .checkpoint_reading import parse_tasks
from .console import die, log
from .metadata import backbone_meta, task_meta
from .model_recognition import energy_head_meta, identify_model, validate_backbone
from .uma_file import FORMAT_VERSION, sha256_file, tensor_for_storage, write_uma


def build_uma(state: dict, model_config: dict, tasks_config, name: str, dtype_mode: str,
              provenance: dict, out_path: str) -> dict:
    """state: backbone./output_heads. tensors (no module. prefix). Writes out_path; returns summary."""
    bb = dict(model_config["backbone"])
    model_id = identify_model(model_config, state)
    K = validate_backbone(bb, model_config, state, model_id)
    bmeta = backbone_meta(bb, K, model_id)
    datasets_emb = _embedding_datasets(bb, bmeta, state)
    head_name, head_meta = energy_head_meta(model_config, state, model_id)
    heads = model_config.get("heads", {}) or {}
    tasks = parse_tasks(tasks_config)
    tmeta = task_meta(tasks, datasets_emb, bmeta["dataset_mapping"],
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

    tensors, n_f16, n_f32 = _stored_weights(state, dtype_mode)
    tensors.update(_element_reference_tensors(tasks, tmeta, maxZ))

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
    _refuse_non_finite(tensors)
    write_uma(tensors, meta, out_path)
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


def _embedding_datasets(bb: dict, bmeta: dict, state: dict) -> list[str]:
    """The backbone's dataset-embedding names, in the config's order when the config lists the same set
    (the state dict's order is whatever the checkpoint happened to save)."""
    if not bmeta["use_dataset_embedding"]:
        return []
    prefix = "backbone.dataset_embedding.dataset_emb_dict."
    datasets_emb = [k[len(prefix):-len(".weight")] for k in state if k.startswith(prefix)]
    cfg_list = bb.get("dataset_list") or list((bb.get("dataset_mapping") or {}).keys())
    if cfg_list and sorted(cfg_list) == sorted(datasets_emb):
        datasets_emb = list(cfg_list)
    return datasets_emb


def _stored_weights(state: dict, dtype_mode: str) -> tuple[dict, int, int]:
    """(tensors to store, by name in sorted order; how many are F16; how many F32)."""
    import torch

    tensors = {}
    n_f16 = n_f32 = 0
    for k in sorted(state):
        t = state[k].detach().cpu().contiguous()
        s = tensor_for_storage(t, dtype_mode).contiguous()
        if s.dtype == torch.float16:
            n_f16 += 1
        elif s.dtype == torch.float32:
            n_f32 += 1
        tensors[k] = s
    return tensors, n_f16, n_f32


def _element_reference_tensors(tasks: dict, tmeta: dict, maxZ: int) -> dict:
    """tasks.<dataset>.element_references (F64, one per Z < maxZ) of every task written."""
    import torch

    tensors = {}
    for ds in tmeta:
        refs = tasks[ds].get("element_references")
        if refs is None:
            refs = torch.zeros(maxZ, dtype=torch.float64)
            log(f"task {ds}: no element references (zeros written)")
        refs = refs.to(torch.float64).reshape(-1)
        if refs.numel() < maxZ:
            die(f"task {ds}: element references have {refs.numel()} entries < max_num_elements {maxZ}")
        tensors[f"tasks.{ds}.element_references"] = refs[:maxZ].contiguous()
    return tensors


def _refuse_non_finite(tensors: dict) -> None:
    import torch

    for k, t in tensors.items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            die(f"tensor {k} holds NaN or Inf: the checkpoint is damaged; refusing to write it")
