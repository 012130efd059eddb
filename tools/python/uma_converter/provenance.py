"""What goes into a .uma's provenance besides its source: the converter and software versions and the
creation time (fixed by --created or SOURCE_DATE_EPOCH so that builds are reproducible byte for byte)."""
from __future__ import annotations

import datetime as _dt
import os

# provenance.converter; docs/uma-file-format.md says what each version added (1.2: tensor_data_sha256)
CONVERTER_VERSION = "uma-convert 1.2"


def software_versions() -> tuple[str, str]:
    """(fairchem-core, torch) versions: a random model's weights depend on both (its random streams)."""
    import torch

    try:
        from importlib.metadata import version

        fc = version("fairchem-core")
    except Exception:  # pragma: no cover
        fc = "unknown"
    return fc, torch.__version__.split("+")[0]


def created_stamp(explicit: str | None) -> str:
    """UTC creation time. Reproducible builds: --created or SOURCE_DATE_EPOCH fixes it."""
    if explicit:
        return explicit
    sde = os.environ.get("SOURCE_DATE_EPOCH")
    if sde:
        t = _dt.datetime.fromtimestamp(int(sde), tz=_dt.timezone.utc)
    else:
        t = _dt.datetime.now(tz=_dt.timezone.utc).replace(microsecond=0)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")

