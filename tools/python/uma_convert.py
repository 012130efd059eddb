#!/usr/bin/env python3
"""uma-convert's command-line entry (tools/uma-convert runs it): a fairchem UMA checkpoint -> `.uma`
(docs/uma-file-format.md), a random UMA-S-shaped checkpoint and its `.uma` for tests, or a `.uma`'s
metadata. Usage: `tools/uma-convert --help`. The converter itself is the uma_converter package beside
this file, one module per concern (uma_converter/__init__.py lists them).

Other tools import the converter as `uma_convert` (make_test_models, make_fixtures, check_fixture,
selftest_uma_convert, tools/gpu/nitro_checkpoint.py), so the names they use are re-exported here.
"""
from __future__ import annotations

from uma_converter.checkpoint_reading import extract_state, parse_tasks
from uma_converter.cli import cmd_convert, cmd_info, cmd_random, main
from uma_converter.console import die, log
from uma_converter.fairchem_verification import verify_pt
from uma_converter.generations import (DEFAULT_SPIN, MODEL_DATASETS, MODEL_IDS, MOE_HEAD, NORMALIZER_RMSD,
                                       NORMALIZER_RMSD_1P2, SINGLE_HEAD, UMA12_DATASETS, UMA_DATASETS)
from uma_converter.model_recognition import describe_model, expert_mapping, identify_model
from uma_converter.provenance import CONVERTER_VERSION, software_versions
from uma_converter.random_model import (HEAD_SCALE, ROUTING_GAIN, WEIGHT_GAIN, build_random_checkpoint,
                                        model_config_for, perturb_, random_element_refs, random_recipe,
                                        uma_s_model_config, uma_tasks_config)
from uma_converter.uma_builder import build_uma
from uma_converter.uma_file import FORMAT_VERSION, read_uma_header, sha256_file

# The names these had when they were private to this file: make_fixtures calls _versions,
# selftest_uma_convert _expert_mapping, and potentials/README.md cites _perturb_.
_versions = software_versions
_expert_mapping = expert_mapping
_perturb_ = perturb_

# what `import uma_convert` offers: the public names of the single-file converter this package replaced
__all__ = [
    "CONVERTER_VERSION", "DEFAULT_SPIN", "FORMAT_VERSION", "HEAD_SCALE", "MODEL_DATASETS", "MODEL_IDS", "MOE_HEAD",
    "NORMALIZER_RMSD", "NORMALIZER_RMSD_1P2", "ROUTING_GAIN", "SINGLE_HEAD", "UMA12_DATASETS", "UMA_DATASETS",
    "WEIGHT_GAIN", "build_random_checkpoint", "build_uma", "cmd_convert", "cmd_info", "cmd_random", "describe_model",
    "die", "extract_state", "identify_model", "log", "main", "model_config_for", "parse_tasks", "random_element_refs",
    "random_recipe", "read_uma_header", "sha256_file", "uma_s_model_config", "uma_tasks_config", "verify_pt",
    "_expert_mapping", "_perturb_", "_versions",
]

if __name__ == "__main__":
    main()
