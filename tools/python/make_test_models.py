#!/usr/bin/env python3
"""make-test-models: (re)generate the random test models of potentials/ from their recipes and check
every one against the tracked sha256 table potentials/test-models.sha256.

  tools/make-test-models            # build what is absent (or stale), then check all; fast when all are there
  tools/make-test-models --check    # only check (exit 1 naming what is missing or wrong)
  tools/make-test-models --keep-pt  # also leave fairchem's .pt twin next to each rebuilt .uma (git-ignored)

Only the bundled 1.2.1 model is tracked in git (the bundled models together must stay <= 25 MB); the
others are built here from fairchem (tools/uma-convert random ..., a few seconds to a minute each on
two cores) and must come out byte-identical to the recorded sha256 (same fairchem-core / torch pins as
tools/bootstrap-python.sh). A present file with a wrong sha256 is rebuilt and replaced (a file from
an older converter, say); a rebuilt file with a wrong sha256 is an error and is not installed.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)

import uma_convert  # noqa: E402

POTENTIALS = os.path.join(ROOT, "potentials")
TABLE = os.path.join(POTENTIALS, "test-models.sha256")

# file name -> `tools/uma-convert random` arguments (without --pt / -o). The .uma is the product; its
# sha256 is in TABLE. Keep in step with potentials/README.md.
RECIPES = {
    # UMA-S 1.1 shape, 2 experts (the engine's main test model; untracked since the 1.2.1 model came)
    "uma-s-random-k2.uma": [
        "random", "--seed", "42", "--experts", "2", "--tasks", "omol,omat,oc20,odac,omc", "--dtype", "float16",
        "--name", "uma-s-random-seed42-k2", "--created", "2026-11-26T12:36:12Z"],
    # UMA-S 1.2 shape (composition mean with include_self=True), 2 experts; same weights as the 1.2.1 one
    "uma-s-1p2-random-k2.uma": [
        "random", "--seed", "42", "--experts", "2", "--model-id", "UMA-S-1.2", "--dtype", "float16",
        "--name", "uma-s-1p2-random-seed42-k2", "--created", "2026-12-06T12:00:00Z"],
    # UMA-S 1.2.1 shape, 2 experts (tracked in git; rebuilt here only if absent)
    "uma-s-1p2p1-random-k2.uma": [
        "random", "--seed", "42", "--experts", "2", "--model-id", "UMA-S-1.2.1", "--dtype", "float16",
        "--name", "uma-s-1p2p1-random-seed42-k2", "--created", "2026-12-06T12:00:00Z"],
}


def log(msg: str) -> None:
    print(f"make-test-models: {msg}", file=sys.stderr, flush=True)


def read_table(path: str = TABLE) -> dict[str, str]:
    """sha256sum format: '<sha256>  <file name relative to potentials/>'; '#' lines are comments."""
    table = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            sha, name = line.split(None, 1)
            table[name.lstrip("*")] = sha.lower()
    return table


def build(name: str, dest_dir: str, keep_pt: bool) -> str:
    """Build `name` into a temp dir; return the temp .uma path (the .pt is moved next to dest if asked)."""
    tmp = tempfile.mkdtemp(prefix="uma-test-models-")
    out = os.path.join(tmp, name)
    pt = os.path.join(tmp, os.path.splitext(name)[0] + ".pt")
    log(f"building {name}: uma-convert {' '.join(RECIPES[name])}")
    uma_convert.main(RECIPES[name] + ["--pt", pt, "-o", out, "--no-verify"])
    if keep_pt:
        shutil.move(pt, os.path.join(dest_dir, os.path.basename(pt)))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="make-test-models", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="only check, build nothing")
    ap.add_argument("--keep-pt", action="store_true", help="keep the fairchem .pt of every model built")
    ap.add_argument("--dir", default=POTENTIALS, help="where the models live (default: potentials/)")
    ap.add_argument("names", nargs="*", help="only these files (default: every file in the table)")
    args = ap.parse_args(argv)
    table = read_table()
    for n in table:
        if n not in RECIPES:
            log(f"error: {n} is in {TABLE} but has no recipe")
            return 2
    names = args.names or list(table)
    bad = []
    for name in names:
        if name not in table:
            log(f"error: {name} is not in {TABLE}")
            return 2
        want = table[name]
        path = os.path.join(args.dir, name)
        have = uma_convert.sha256_file(path) if os.path.exists(path) else None
        if have == want:
            log(f"ok       {name} ({want[:16]}...)")
            continue
        why = "absent" if have is None else f"sha256 {have[:16]}... != recorded {want[:16]}... (stale)"
        if args.check:
            log(f"FAIL     {name}: {why}")
            bad.append(name)
            continue
        log(f"{name}: {why}; rebuilding")
        out = build(name, args.dir, args.keep_pt)
        got = uma_convert.sha256_file(out)
        if got != want:
            log(f"FAIL     {name}: rebuilt file has sha256 {got}, recorded {want} (other fairchem-core/torch "
                f"than the pins, or a converter change?); left in {out}")
            bad.append(name)
            continue
        os.makedirs(args.dir, exist_ok=True)
        shutil.move(out, path + ".tmp")
        os.replace(path + ".tmp", path)
        shutil.rmtree(os.path.dirname(out), ignore_errors=True)
        log(f"built    {name} ({want[:16]}...)")
    if bad:
        log(f"FAILED: {', '.join(bad)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
