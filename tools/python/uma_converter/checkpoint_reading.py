"""Reading a fairchem UMA checkpoint (MLIPInferenceCheckpoint, or the dict a training run saves): its EMA
weights, and per dataset the energy/forces/stress normalizers and element references of tasks_config."""
from __future__ import annotations

from .console import log


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


def extract_state(ckpt) -> dict:
    """The EMA weights (what fairchem's inference loads) with the `module.` prefix removed; the Jd_* buffers,
    which fairchem rebuilds, and the EMA counter n_averaged are left out (docs/uma-file-format.md)."""
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


def load_checkpoint(path: str):
    """(checkpoint, model_config, tasks_config) of a fairchem checkpoint file, the configs as plain
    containers whether it is an MLIPInferenceCheckpoint or a dict."""
    import torch

    ckpt = torch.load(path, map_location="cpu", weights_only=False)
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
    return ckpt, model_config, tasks_config
