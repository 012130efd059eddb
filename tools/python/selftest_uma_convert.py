#!/usr/bin/env python3
"""Self-test of uma-convert's checkpoint reader (by hand: .venv/bin/python tools/python/selftest_uma_convert.py PT).

PT is a random UMA-S-1.2.1-shaped fairchem checkpoint (e.g. potentials/uma-s-1p2p1-random-k2.pt, or the
.pt that `uma-convert random --model-id UMA-S-1.2.1` writes). Checks, in a temp dir:
  * `convert` of it writes the same tensors and feature metadata as `random` did;
  * the energy-head expert map equals fairchem's DatasetSpecificMoEWrapper._build_expert_mapping, also
    for a mapping with an alias (the 1.2.1 surgery's stage 1: omat_rattle -> omat, 8 keys, 7 targets);
  * it is refused with a message naming what was found for: model_id UMA-S-1.3, an untagged
    checkpoint, UMA-M (lmax 4, 10 layers), spin_balanced_channels, non-contiguous
    charge_balanced_channels, an unknown head wrapper, a single head on a 1.2.1 model.
"""
from __future__ import annotations

import copy
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import uma_convert as U  # noqa: E402


def main() -> int:
    import torch
    from fairchem.core.models.uma.escn_moe import DatasetSpecificMoEWrapper

    pt = sys.argv[1]
    ckpt = torch.load(pt, map_location="cpu", weights_only=False)
    fails = 0

    def convert(ck, tmp, tag):
        p = os.path.join(tmp, f"{tag}.pt")
        torch.save(ck, p)
        r = subprocess.run([sys.executable, os.path.join(HERE, "uma_convert.py"), "convert", p, "-o",
                            os.path.join(tmp, f"{tag}.uma"), "--dtype", "float16", "--created", "2000-01-01T00:00:00Z"],
                           capture_output=True, text=True)
        return r.returncode, (r.stderr.strip().splitlines() or [""])[-1]

    with tempfile.TemporaryDirectory(prefix="uma-selftest-") as tmp:
        rc, msg = convert(ckpt, tmp, "as_is")
        _, meta = U.read_uma_header(os.path.join(tmp, "as_is.uma"))
        ok = rc == 0 and meta["model_id"] == ckpt.model_config["model_id"] and meta["energy_head"]["type"] == "dataset_moe"
        want = DatasetSpecificMoEWrapper._build_expert_mapping(
            None, ckpt.model_config["heads"]["energyandforcehead"]["dataset_mapping"])[1]
        ok = ok and meta["energy_head"]["experts"] == want
        ok = ok and all(meta["tasks"][t]["head_expert"] == want[t] for t in meta["tasks"])
        print(f"{'ok  ' if ok else 'FAIL'} convert as is: {meta.get('model_id')}, experts {meta['energy_head']['experts']}")
        fails += not ok

        # alias mapping (stage 1 of fairchem's 1.2.1 surgery): 8 keys, omat_rattle -> omat
        mapping = dict(ckpt.model_config["heads"]["energyandforcehead"]["dataset_mapping"], omat_rattle="omat")
        names, experts = U._expert_mapping(None, mapping)
        ok = (names, experts) == DatasetSpecificMoEWrapper._build_expert_mapping(None, mapping)
        print(f"{'ok  ' if ok else 'FAIL'} alias mapping: {experts}")
        fails += not ok

        def mutated(fn):
            ck = copy.deepcopy(ckpt)
            fn(ck.model_config)
            return ck

        cases = {
            "model_id UMA-S-1.3": lambda m: m.update(model_id="UMA-S-1.3"),
            "untagged": lambda m: m.pop("model_id"),
            "UMA-M": lambda m: m.update(model_id=None) or m["backbone"].update(model_version=1.1, lmax=4, num_layers=10),
            "spin balanced": lambda m: m["backbone"].update(spin_balanced_channels=[3]),
            "non-contiguous charge": lambda m: m["backbone"].update(charge_balanced_channels=[0, 2]),
            "unknown head": lambda m: m["heads"]["energyandforcehead"].update(module="my.heads.FancyWrapper"),
            "single head on 1.2.1": lambda m: m["heads"]["energyandforcehead"].update(
                module="fairchem.core.models.uma.escn_moe.DatasetSpecificSingleHeadWrapper"),
        }
        for label, fn in cases.items():
            rc, msg = convert(mutated(fn), tmp, "bad")
            ok = rc != 0 and "error" in msg
            print(f"{'ok  ' if ok else 'FAIL'} refuses {label}: {msg[:220]}")
            fails += not ok
    print("selftest:", "FAILED" if fails else "all ok")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
