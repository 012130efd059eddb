"""The bytes of a .uma file: safetensors with the model metadata as __metadata__.uma (docs/uma-file-format.md),
the storage dtype of each tensor, the tensor_data_sha256 the reader verifies, and reading a header back."""
from __future__ import annotations

import hashlib
import json
import os
import struct

from .console import die

FORMAT_VERSION = 1


def sha256_file(path: str) -> str:
    """Hex SHA-256 of a whole file (the sha256 the summary prints and potentials/test-models.sha256 records)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def tensor_for_storage(t, mode: str):
    """Return the tensor to store (possibly fp16) honouring the lossless rule: float16 only where the
    round trip is exact and finite, so --dtype float16 never changes a weight (else F32)."""
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


def data_section(blob: bytes) -> bytes:
    """The tensor bytes of a safetensors file: everything after [u64 N][N bytes of header]."""
    n = int.from_bytes(blob[:8], "little")
    return blob[8 + n:]


def serialise_uma(tensors: dict, meta: dict) -> bytes:
    """The .uma bytes: safetensors with meta as __metadata__.uma, plus tensor_data_sha256 = SHA-256 of the
    data section (the reader verifies it). The data section does not depend on the metadata (offsets
    are relative to it), so it is hashed from a first serialisation and checked unchanged in the second."""
    from safetensors.torch import save

    def dump(m):
        return save(tensors, metadata={"uma": json.dumps(m, sort_keys=True, separators=(",", ":"))})

    meta = dict(meta)
    meta.pop("tensor_data_sha256", None)
    data = data_section(dump(meta))
    meta["tensor_data_sha256"] = hashlib.sha256(data).hexdigest()
    blob = dump(meta)
    if data_section(blob) != data:
        die("internal error: the safetensors data section changed with the metadata")
    return blob


def write_uma(tensors: dict, meta: dict, out_path: str) -> None:
    """Write the .uma through a temporary file and a rename, so that a reader never sees half a file."""
    blob = serialise_uma(tensors, meta)
    tmp = out_path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(blob)
    os.chmod(tmp, 0o644)
    os.replace(tmp, out_path)


def read_uma_header(path: str) -> tuple[dict, dict]:
    """(safetensors header, the model metadata of __metadata__.uma) without reading the tensors."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    meta = json.loads(header.get("__metadata__", {}).get("uma", "{}"))
    return header, meta

