"""The UMA generations this converter (and the C++ engine) know, and the constants that differ between them."""
from __future__ import annotations

UMA_DATASETS = ["oc20", "omol", "omat", "odac", "omc"]  # UMA-S 1.1 checkpoint order
# UMA-S 1.2 / 1.2.1 dataset_mapping order (fairchem/core/scripts/uma_1p2p1_surgery.py)
UMA12_DATASETS = ["oc20", "oc22", "oc25", "omol", "omat", "odac", "omc"]
# The generations this converter (and the C++ engine) know, by fairchem's model_config["model_id"]
# (fairchem/core/models/uma/compat.py: 1.1 has none and is identified by backbone.model_version 1.1).
MODEL_IDS = ("UMA-1.1", "UMA-S-1.2", "UMA-S-1.2.1")
MODEL_DATASETS = {"UMA-1.1": UMA_DATASETS, "UMA-S-1.2": UMA12_DATASETS, "UMA-S-1.2.1": UMA12_DATASETS}
# the energy-head wrappers (fairchem/core/models/uma/escn_moe.py): 1.1 has the single head, 1.2.x the
# per-dataset MoLE head
SINGLE_HEAD = "DatasetSpecificSingleHeadWrapper"
MOE_HEAD = "DatasetSpecificMoEWrapper"
DEFAULT_SPIN = {"omol": 1}  # every other task defaults to spin 0 (fairchem validate_uma_atoms_data)
NORMALIZER_RMSD = 1.423  # UMA-S 1.1 training configs
NORMALIZER_RMSD_1P2 = 1.342  # UMA-S 1.2 training configs (normalizer_rmsd); random 1.2.x models use it
