#!/usr/bin/env python3
"""The init_* numbers of manybody-pair-uma.yaml against fairchem's own, on the same structure.

LAMMPS's harness regenerates a YAML from the style itself (test_pair_style -g); this script is what makes
its numbers an outside truth: the harness's system (the data file of its input_file, here data.manybody of
the LAMMPS source: 64 atoms in a periodic 10.862 Å cube, elements from the YAML's pair_coeff, task from
its pair_style) evaluated by fairchem's `general` backend in fp64 with the checkpoint the bundled model
was converted from (tools/make-fixtures' Runner), compared with init_vdwl, init_forces and init_stress
(LAMMPS's pair virial, W = -stress * volume).

  check_vs_fairchem.py --yaml manybody-pair-uma.yaml --data <lammps>/unittest/force-styles/tests/data.manybody
                       [--model potentials/uma-s-1p2p1-random-k2.uma]

Tolerance 1e-8 relative (energy: of |E|; forces and virial: of their largest component), the bound
unittest/lammps/test_vs_fairchem.py argues for fp64 LAMMPS-vs-fairchem (different summation orders
of the same fp64 arithmetic, ~1e-12, amplified by ill-conditioned edge rotations).
"""
import argparse
import os
import sys
import tempfile

import numpy as np
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "python"))

RTOL = 1e-8


def read_data(path):
    """Box lengths, origin and (id-sorted) types and positions of a LAMMPS data file (orthogonal box,
    atom style atomic or full)."""
    lines = open(path).read().splitlines()
    lo_hi = {}
    for line in lines:
        f = line.split()
        if len(f) == 4 and f[2].endswith("lo") and f[3].endswith("hi"):
            lo_hi[f[2][0]] = (float(f[0]), float(f[1]))
    start = next(i for i, l in enumerate(lines) if l.startswith("Atoms"))
    first_xyz = 4 if lines[start].split()[-1] == "full" else 2  # id mol type q x y z | id type x y z
    atoms = []
    for line in lines[start + 1:]:
        f = line.split()
        if not f:
            if atoms:
                break
            continue
        atoms.append((int(f[0]), int(f[first_xyz - 1]), [float(x) for x in f[first_xyz:first_xyz + 3]]))
    atoms.sort()
    lengths = [lo_hi[a][1] - lo_hi[a][0] for a in "xyz"]
    origin = [lo_hi[a][0] for a in "xyz"]
    return lengths, origin, [a[1] for a in atoms], np.array([a[2] for a in atoms])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--yaml", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", default=os.path.join(ROOT, "potentials", "uma-s-1p2p1-random-k2.uma"))
    args = ap.parse_args()

    import torch
    from ase import Atoms
    import make_fixtures

    cfg = yaml.safe_load(open(args.yaml))
    elements = cfg["pair_coeff"].split()[3:]  # * * ${uma_model} El1 El2 ...: one element per type
    style = cfg["pair_style"].split()
    task = style[style.index("task") + 1]
    lengths, origin, types, pos = read_data(args.data)
    atoms = Atoms(symbols=[elements[t - 1] for t in types], positions=pos - np.array(origin),
                  cell=np.diag(lengths), pbc=True)
    # pair_style uma's defaults (doc/pair_uma.rst): charge 0, spin 1 for omol and 0 otherwise
    atoms.info["charge"] = 0
    atoms.info["spin"] = 1 if task == "omol" else 0
    pt = make_fixtures.ensure_model(make_fixtures.default_pt(args.model), args.model, tempfile.mkdtemp())
    res, _, _ = make_fixtures.Runner(pt).predict(atoms, task, torch.float64)

    e_ref = res["energy"]
    f_ref = np.array(res["forces"])
    # fairchem's stress (Voigt xx yy zz yz xz xy) -> LAMMPS's pair virial (xx yy zz xy xz yz), eV
    s = np.array(res["stress"]).reshape(3, 3)
    w_ref = -s * atoms.get_volume()
    w_ref = np.array([w_ref[0, 0], w_ref[1, 1], w_ref[2, 2], w_ref[0, 1], w_ref[0, 2], w_ref[1, 2]])

    f_yaml = np.array([[float(x) for x in l.split()[1:]] for l in cfg["init_forces"].splitlines() if l.strip()])
    w_yaml = np.array([float(x) for x in cfg["init_stress"].split()])
    e_yaml = float(cfg["init_vdwl"]) + float(cfg["init_coul"])

    ok = True
    for what, got, ref in (("energy", np.array([e_yaml]), np.array([e_ref])), ("forces", f_yaml, f_ref),
                           ("virial", w_yaml, w_ref)):
        scale = float(np.abs(ref).max())
        err = np.abs(got - ref)
        where = np.unravel_index(int(err.argmax()), err.shape)
        rel = float(err.max()) / scale
        status = "PASS" if rel <= RTOL else "FAIL"
        ok &= rel <= RTOL
        print(f"{status} {what}: max |yaml - fairchem| = {err.max():.3e} at {tuple(int(i) for i in where)}, "
              f"scale {scale:.3e}, relative {rel:.2e} (tolerance {RTOL:.0e})")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
