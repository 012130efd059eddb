#!/usr/bin/env python3
"""Shrink the bundled fairchem checkpoint for the trip to the GPU machine, and restore it there.

  pack   IN.pt  OUT.half.pt   (here, with fairchem importable): every float32 tensor of the checkpoint whose
                              values are exactly representable in float16 is stored as float16 (the random
                              model's parameters are fp16-rounded by construction, potentials/README.md);
                              others (e.g. the Jd buffers, float64 element references) stay as they are.
  unpack IN.half.pt OUT.pt    (there, with fairchem importable): casts those tensors back to float32; the result
                              holds bit-identical tensors to the original (storage sharing between
                              model_state_dict and ema_state_dict is kept), so fairchem loads the same model.
  verify A.pt B.pt            every tensor of the two checkpoints is bitwise equal (same dtypes).

The .pt is 43.6 MB, the tracked tree 22 MB, and a device call carries at most 64 MiB: this halves the .pt.
"""
from __future__ import annotations

import sys

import torch

MARK = "uma_fp16_packed_keys"


def _state_dicts(ckpt):
    return [name for name in ("model_state_dict", "ema_state_dict") if isinstance(getattr(ckpt, name, None), dict)]


def pack(src: str, dst: str) -> None:
    ckpt = torch.load(src, map_location="cpu", weights_only=False)
    memo: dict[int, torch.Tensor] = {}
    packed: dict[str, list[str]] = {}
    for name in _state_dicts(ckpt):
        sd = getattr(ckpt, name)
        packed[name] = []
        for k, t in list(sd.items()):
            if not (torch.is_tensor(t) and t.dtype == torch.float32):
                continue
            h = t.to(torch.float16)
            if not torch.equal(h.to(torch.float32), t):
                continue
            key = t.untyped_storage().data_ptr() + t.storage_offset() * 4
            if key not in memo:
                memo[key] = h
            sd[k] = memo[key]
            packed[name].append(k)
    torch.save({"checkpoint": ckpt, MARK: packed}, dst)
    n = sum(len(v) for v in packed.values())
    print(f"pack: {n} float32 tensors stored as float16 -> {dst}")


def unpack(src: str, dst: str) -> None:
    blob = torch.load(src, map_location="cpu", weights_only=False)
    ckpt, packed = blob["checkpoint"], blob[MARK]
    memo: dict[int, torch.Tensor] = {}
    for name, keys in packed.items():
        sd = getattr(ckpt, name)
        for k in keys:
            t = sd[k]
            key = id(t)
            if key not in memo:
                memo[key] = t.to(torch.float32)
            sd[k] = memo[key]
    torch.save(ckpt, dst)
    print(f"unpack: {sum(len(v) for v in packed.values())} tensors back to float32 -> {dst}")


def verify(a: str, b: str) -> None:
    A = torch.load(a, map_location="cpu", weights_only=False)
    B = torch.load(b, map_location="cpu", weights_only=False)
    bad = 0
    for name in _state_dicts(A):
        sa, sb = getattr(A, name), getattr(B, name)
        assert sa.keys() == sb.keys(), name
        for k in sa:
            ta, tb = sa[k], sb[k]
            if torch.is_tensor(ta):
                if ta.dtype != tb.dtype or not torch.equal(ta, tb):
                    bad += 1
                    print("differs:", name, k)
            elif ta != tb:
                bad += 1
    assert A.model_config == B.model_config and A.tasks_config == B.tasks_config
    print("verify:", "OK" if bad == 0 else f"{bad} differences")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    cmd, x, y = sys.argv[1:4]
    {"pack": pack, "unpack": unpack, "verify": verify}[cmd](x, y)
