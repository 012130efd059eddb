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
# This docstring is the --help text (argparse description): keep it the usage of tools/uma-convert.
from __future__ import annotations

import argparse
import json
import os
import warnings

from .checkpoint_reading import extract_state, load_checkpoint
from .console import die, log
from .fairchem_verification import verify_pt
from .generations import MODEL_DATASETS, MODEL_IDS
from .model_recognition import energy_head_meta, identify_model
from .provenance import CONVERTER_VERSION, created_stamp, software_versions
from .random_model import build_random_checkpoint
from .uma_builder import build_uma
from .uma_file import read_uma_header, sha256_file


def cmd_convert(args) -> None:
    src = args.checkpoint
    log(f"reading {src}")
    ckpt, model_config, tasks_config = load_checkpoint(src)
    state = extract_state(ckpt)
    log(f"{len(state)} EMA tensors (Jd_* and n_averaged dropped)")
    fc, tv = software_versions()
    prov = {
        "source": os.path.basename(src),
        "source_sha256": sha256_file(src),
        "seed": None,
        "fairchem_core_version": fc,
        "torch_version": tv,
        "converter": CONVERTER_VERSION,
        "created": created_stamp(args.created),
    }
    name = args.name or os.path.splitext(os.path.basename(src))[0]
    summary = build_uma(state, model_config, tasks_config, name, args.dtype, prov, args.output)
    print_summary(args.output, summary)


def print_summary(path, s) -> None:
    print(f"wrote {path}")
    print(f"  parameters : {s['parameters']:,}")
    print(f"  experts    : {s['experts']}")
    print(f"  elements   : {s['elements']}")
    print(f"  datasets   : {', '.join(s['datasets'])}")
    print(f"  tasks      : {', '.join(s['tasks'])}")
    print(f"  storage    : {s['f16_tensors']} F16 / {s['f32_tensors']} F32 tensors, {s['bytes']:,} bytes")
    print(f"  sha256     : {s['sha256']}")


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
        _, head_meta = energy_head_meta(ckpt.model_config, state, identify_model(ckpt.model_config, state))
        verify_pt(args.pt, datasets, model_id, head_meta.get("experts"))
    fc, tv = software_versions()
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
        "created": created_stamp(args.created),
        "command": command,
    }
    tag = {"UMA-1.1": "uma-s", "UMA-S-1.2": "uma-s-1p2", "UMA-S-1.2.1": "uma-s-1p2p1"}[model_id]
    name = args.name or f"{tag}-random-seed{args.seed}-k{args.experts}"
    summary = build_uma(state, ckpt.model_config, ckpt.tasks_config, name, args.dtype, prov, args.output)
    print_summary(args.output, summary)


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

