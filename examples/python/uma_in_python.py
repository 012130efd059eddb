#!/usr/bin/env python3
"""UMA through LAMMPS's own Python module: energy, forces and stress of one structure as numpy arrays.

    python uma_in_python.py --plugin /path/to/umaplugin.so [--model ../../potentials/uma-s-1p2p1-random-k2.uma]
                            [--structure S.json] [--check]

What it shows: `lammps.lammps()`, `plugin load`, `pair_style uma`, a system created from Python arrays (any cell:
it is rotated into LAMMPS's restricted-triclinic frame and the results are rotated back), `run 0`, and the results
read back as numpy arrays (`lmp.numpy.extract_atom`, `lmp.get_thermo`). The same calls drive MD (`lmp.command("run
1000")`) or feed an optimiser in Python.

The structure is a JSON object {numbers, positions [Å], cell [3x3 rows, Å], pbc [3 bools], task, charge, spin}: the
fixture format of unittest/data (default: the triclinic Cu cell of the 1.2.1 fixtures). --check compares the result
with the fixture's fairchem fp64 reference (1e-8 relative; the CI test lammps_python_example runs it).

Needs: numpy, ASE (element symbols and masses), LAMMPS's Python module and shared library (a LAMMPS built with
-DBUILD_SHARED_LIBS=on -DPKG_PLUGIN=on, as tools/build-lammps.sh builds 29Sep2021 and 4Feb2025): put the LAMMPS
source tree's python/ folder on PYTHONPATH and the folder of liblammps.so (<install>/lib) on LD_LIBRARY_PATH).
"""
import argparse
import json
import os
import sys

import numpy as np
from ase.data import atomic_masses, chemical_symbols
from lammps import lammps

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_MODEL = os.path.join(HERE, "../../potentials/uma-s-1p2p1-random-k2.uma")
DEFAULT_STRUCTURE = os.path.join(HERE, "../../unittest/data/fixtures-1p2p1/omat_cu_triclinic.json")
NKTV2P_METAL = 1.6021765e6  # bar per eV/Å^3 (LAMMPS units metal)


def lammps_frame(cell):
    """Rotation R (rows: LAMMPS x, y, z in the structure's frame) and the restricted-triclinic box
    (a along x, b in the xy plane) of `cell` (rows a, b, c). LAMMPS positions = positions @ R.T."""
    a, b, c = np.asarray(cell, float)
    x = a / np.linalg.norm(a)
    z = np.cross(a, b)
    z /= np.linalg.norm(z)
    y = np.cross(z, x)
    R = np.array([x, y, z])
    if np.dot(np.cross(a, b), c) < 0:
        raise SystemExit("the cell is left-handed; reorder its vectors (LAMMPS boxes are right-handed)")
    la, lb, lc = (R @ v for v in (a, b, c))
    return R, (la[0], lb[1], lc[2], lb[0], lc[0], lc[1])  # lx, ly, lz, xy, xz, yz


def evaluate(plugin, model, s, precision="fp64"):
    numbers = list(s["numbers"])
    pos = np.asarray(s["positions"], float)
    elements = sorted(set(numbers), key=numbers.index)  # one LAMMPS type per element, in order of appearance
    types = [elements.index(z) + 1 for z in numbers]
    periodic = any(s["pbc"])
    # LAMMPS's screen output stays on: its ERROR lines are how a bad input explains itself.
    lmp = lammps(cmdargs=["-log", "none", "-nocite"])
    cmds = ["units metal", "atom_style atomic", "atom_modify map array",
            "boundary " + " ".join("p" if p else "f" for p in s["pbc"])]
    if periodic:
        if not all(s["pbc"]):
            raise SystemExit("mixed periodicity: give the vacuum direction a large cell vector and pbc true")
        R, (lx, ly, lz, xy, xz, yz) = lammps_frame(s["cell"])
        cmds += ["box tilt large",
                 "region box prism 0 {!r} 0 {!r} 0 {!r} {!r} {!r} {!r}".format(*map(float, (lx, ly, lz, xy, xz, yz)))]
    else:  # a molecule: an orthogonal box with 12 Å of vacuum (more than the cutoff) around it
        R = np.eye(3)
        lo, hi = pos.min(0) - 12.0, pos.max(0) + 12.0
        cmds += ["region box block " + " ".join(f"{float(l)!r} {float(h)!r}" for l, h in zip(lo, hi))]
    cmds += [f"create_box {len(elements)} box"]
    cmds += [f"mass {t + 1} {float(atomic_masses[z])!r}" for t, z in enumerate(elements)]
    cmds += [f"plugin load {plugin}",
             f"pair_style uma task {s['task']} charge {s.get('charge', 0)} spin {s.get('spin', 0)} "
             f"precision {precision}",
             f"pair_coeff * * {model} " + " ".join(chemical_symbols[z] for z in elements)]
    lmp.commands_list(cmds)
    x = pos @ R.T  # into the LAMMPS frame; periodic positions may lie outside the box: LAMMPS wraps them
    ids = list(range(1, len(numbers) + 1))
    lmp.create_atoms(len(numbers), ids, types, x.ravel().tolist(), shrinkexceed=False)
    if lmp.get_natoms() != len(numbers):
        raise SystemExit(f"LAMMPS created {lmp.get_natoms()} of {len(numbers)} atoms (outside a non-periodic box?)")
    lmp.commands_list(["compute uma_press all pressure NULL virial", "thermo_style custom step pe vol",
                       "run 0"])
    energy = lmp.get_thermo("pe")
    order = np.argsort(lmp.numpy.extract_atom("id")[: len(numbers)])  # LAMMPS sorts atoms in memory
    forces = np.array(lmp.numpy.extract_atom("f")[: len(numbers)])[order] @ R  # back to the structure's frame
    stress = None
    if periodic:  # compute pressure (bar) -> stress (eV/Å^3, tension positive, fairchem's sign)
        p = lmp.numpy.extract_compute("uma_press", 0, 1)  # xx yy zz xy xz yz
        P = np.array([[p[0], p[3], p[4]], [p[3], p[1], p[5]], [p[4], p[5], p[2]]])
        stress = -(R.T @ P @ R) / NKTV2P_METAL
    lmp.close()
    return energy, forces, stress


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--plugin", required=True, help="umaplugin.so of this project")
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--structure", default=DEFAULT_STRUCTURE)
    ap.add_argument("--check", action="store_true", help="compare with the structure's fairchem fp64 reference")
    a = ap.parse_args()
    with open(a.structure) as f:
        s = json.load(f)
    energy, forces, stress = evaluate(a.plugin, a.model, s)
    print(f"{s.get('name', a.structure)}: {len(forces)} atoms, task {s['task']}")
    print(f"energy {energy:.10f} eV")
    print("forces (eV/Å):\n" + np.array2string(forces, precision=6, suppress_small=True))
    if stress is not None:
        print("stress (eV/Å^3):\n" + np.array2string(stress, precision=8))
    if not a.check:
        return 0
    ref = s["reference"]["fp64"]
    errs = {"energy": abs(energy - ref["energy"]) / abs(ref["energy"]),
            "forces": np.abs(forces - np.array(ref["forces"])).max() / max(np.abs(ref["forces"]).max(), 1e-30)}
    if stress is not None and "stress" in ref:
        s_ref = np.array(ref["stress"]).reshape(3, 3)
        errs["stress"] = np.abs(stress - s_ref).max() / np.abs(s_ref).max()
    # 1e-8: the tolerance of the LAMMPS-level parity test (fp64 agrees to ~1e-14; the rest is the text round trip
    # of nothing here, so this is generous)
    bad = {k: v for k, v in errs.items() if not v <= 1e-8}
    print("check vs fairchem fp64 (relative): " + ", ".join(f"{k} {v:.2e}" for k, v in errs.items()) +
          (" FAILED" if bad else " OK"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
