"""The fixture structures for the C++ parity tests (deterministic; built with ASE + numpy).

Every builder returns (ase.Atoms, task, charge, spin). SETS names which structures each model
generation gets: UMA-1.1 the six original ones, UMA-S-1.2 / 1.2.1 those six plus three that only a
1.2.x model can take (tasks oc22 / oc25, and an isolated atom, which 1.2.x runs through the network). Positions are wrapped into the cell along the
periodic directions exactly as fairchem's AtomicData.from_ase does (ase wrap_positions, eps=0), so
the stored positions are the ones fairchem actually used.
"""
from __future__ import annotations

import numpy as np


def _wrapped(atoms):
    from ase.geometry import wrap_positions

    if atoms.pbc.any():
        pos = wrap_positions(atoms.get_positions(), atoms.get_cell(complete=True), pbc=atoms.pbc, eps=0)
        atoms.set_positions(pos)
    return atoms


def _min_dist(atoms) -> float:
    d = atoms.get_all_distances(mic=bool(atoms.pbc.any()))
    np.fill_diagonal(d, np.inf)
    return float(d.min())


def omol_cation_radical():
    """Pyridine radical cation C5H5N(+1), doublet (spin multiplicity 2), isolated, no cell."""
    from ase.build import molecule

    atoms = molecule("C5H5N")
    rng = np.random.default_rng(101)
    atoms.positions += rng.normal(scale=0.05, size=atoms.positions.shape)
    atoms.positions += np.array([0.3, -0.2, 0.1])
    atoms.set_cell(np.zeros((3, 3)))
    atoms.pbc = False
    return atoms, "omol", 1, 2


def omat_cu_triclinic():
    """Cu9Au3 bulk: fcc primitive (rhombohedral) 2x2x3 supercell, general triclinic strain, rattled."""
    from ase.build import bulk

    prim = bulk("Cu", "fcc", a=3.70)
    atoms = prim.repeat((2, 2, 3))
    rng = np.random.default_rng(202)
    strain = np.eye(3) + rng.uniform(-0.04, 0.04, size=(3, 3))
    atoms.set_cell(atoms.get_cell() @ strain, scale_atoms=True)
    syms = atoms.get_chemical_symbols()
    for i in (1, 6, 10):
        syms[i] = "Au"
    atoms.set_chemical_symbols(syms)
    atoms.positions += rng.normal(scale=0.08, size=atoms.positions.shape)
    atoms.pbc = True
    return _wrapped(atoms), "omat", 0, 0


def oc20_pt111_co():
    """Pt(111) 2x2x3 slab with CO on top, pbc (T,T,F), 8 A vacuum each side; mixed PBC."""
    from ase.build import add_adsorbate, fcc111, molecule

    slab = fcc111("Pt", size=(2, 2, 3), vacuum=8.0, a=3.92)
    co = molecule("CO")
    co.rotate(180, "x")  # C down
    add_adsorbate(slab, co, height=1.85, position="ontop")
    rng = np.random.default_rng(303)
    slab.positions += rng.normal(scale=0.04, size=slab.positions.shape)
    slab.pbc = [True, True, False]
    return _wrapped(slab), "oc20", 0, 0


def odac_framework_co2():
    """Prussian-blue-like Fe/Co cyanide framework (2x1x1 cubic cells, slightly sheared) + CO2 guest."""
    from ase import Atoms

    a = 5.10
    sym, pos = [], []
    for ix, metal in ((0, "Fe"), (1, "Co")):
        o = np.array([ix * a, 0.0, 0.0])
        sym.append(metal)
        pos.append(o)
        for ax in range(3):  # M-C#N-M' linker along each axis
            e = np.zeros(3)
            e[ax] = 1.0
            sym += ["C", "N"]
            pos += [o + 1.92 * e, o + 3.07 * e]
    # CO2 in the pore of the first cube, tilted
    c = np.array([2.55, 2.55, 2.55])
    u = np.array([1.0, 0.35, -0.2])
    u /= np.linalg.norm(u)
    sym += ["C", "O", "O"]
    pos += [c, c + 1.16 * u, c - 1.16 * u]
    cell = np.array([[2 * a, 0.0, 0.0], [0.15, a, 0.0], [-0.1, 0.2, a]])
    atoms = Atoms(sym, positions=np.array(pos), cell=cell, pbc=True)
    rng = np.random.default_rng(404)
    atoms.positions += rng.normal(scale=0.04, size=atoms.positions.shape)
    return _wrapped(atoms), "odac", 0, 0


def omc_crystal():
    """Two methanol molecules related by inversion in a monoclinic cell (beta = 104 deg)."""
    from ase import Atoms
    from ase.build import molecule

    a, b, c, beta = 5.6, 5.2, 6.4, np.radians(104.0)
    cell = np.array([[a, 0, 0], [0, b, 0], [c * np.cos(beta), 0, c * np.sin(beta)]])
    m = molecule("CH3OH")
    m.positions -= m.get_center_of_mass()
    m.rotate(35, "z")
    m.rotate(20, "x")
    frac1 = np.array([0.25, 0.25, 0.25])
    frac2 = np.array([0.75, 0.75, 0.75])
    p1 = frac1 @ cell + m.positions
    p2 = frac2 @ cell - m.positions  # inversion image
    sym = m.get_chemical_symbols() * 2
    atoms = Atoms(sym, positions=np.vstack([p1, p2]), cell=cell, pbc=True)
    rng = np.random.default_rng(505)
    atoms.positions += rng.normal(scale=0.03, size=atoms.positions.shape)
    return _wrapped(atoms), "omc", 0, 0


def omat_dense_over300():
    """Strongly compressed bcc Fe 3x3x3 (54 atoms, a = 1.75 A, lightly rattled): every atom has
    ~340 candidate neighbours within 6 A, so the max_neighbors=300 rule (with its 0.01 A^2
    degeneracy tolerance on squared distances) decides the edge set."""
    from ase.build import bulk

    atoms = bulk("Fe", "bcc", a=1.75, cubic=True).repeat((3, 3, 3))
    rng = np.random.default_rng(606)
    atoms.positions += rng.normal(scale=0.01, size=atoms.positions.shape)
    atoms.pbc = True
    return _wrapped(atoms), "omat", 0, 0


def oc22_charged_periodic():
    """Rutile TiO2 2x1x1 supercell (12 atoms, tetragonal a = 4.59, c = 2.96 A, sheared slightly)
    with one O replaced by F and total charge -1 (a charged periodic oxide; oc22 task). Under
    periodic boundaries the total charge is only seen through the charge embedding and, in 1.2.x,
    the per-layer charge balance (sum over atoms of 3 scalar channels = -1)."""
    from ase import Atoms

    a, c, u = 4.594, 2.959, 0.305
    frac = [
        ("Ti", (0.0, 0.0, 0.0)), ("Ti", (0.5, 0.5, 0.5)),
        ("O", (u, u, 0.0)), ("O", (1 - u, 1 - u, 0.0)),
        ("O", (0.5 + u, 0.5 - u, 0.5)), ("O", (0.5 - u, 0.5 + u, 0.5)),
    ]
    sym, pos = [], []
    for rep in range(2):
        for el, f in frac:
            sym.append(el)
            pos.append([(f[0] + rep) * a, f[1] * a, f[2] * c])
    sym[9] = "F"  # O -> F in the second cell
    cell = np.array([[2 * a, 0.0, 0.0], [0.12, a, 0.0], [0.08, -0.1, c]])
    atoms = Atoms(sym, positions=np.array(pos), cell=np.diag([2 * a, a, c]), pbc=True)
    atoms.set_cell(cell, scale_atoms=True)
    rng = np.random.default_rng(707)
    atoms.positions += rng.normal(scale=0.05, size=atoms.positions.shape)
    return _wrapped(atoms), "oc22", -1, 0


def oc25_charged_periodic():
    """Ni(111) 2x2x2 slab with an OH adsorbate and a Na adatom, total charge +2, pbc (T,T,T) with
    a 7 A vacuum gap along z (periodic in all three directions; oc25 task)."""
    from ase.build import add_adsorbate, fcc111, molecule

    slab = fcc111("Ni", size=(2, 2, 2), vacuum=3.5, a=3.52)
    oh = molecule("OH")
    oh.rotate(180, "x")  # O down
    add_adsorbate(slab, oh, height=1.4, position="fcc")
    add_adsorbate(slab, "Na", height=2.3, position="ontop", offset=(1, 1))
    slab.center(vacuum=3.5, axis=2)
    rng = np.random.default_rng(808)
    slab.positions += rng.normal(scale=0.04, size=slab.positions.shape)
    slab.pbc = [True, True, True]
    return _wrapped(slab), "oc25", 2, 0


def omol_isolated_atom():
    """One O atom (triplet, spin multiplicity 3), no cell, no PBC: UMA-S 1.2.x runs the network on
    it (supports_single_atoms; fairchem pads the empty graph with one fake self-loop whose envelope
    is 0); 1.1 would return a lookup-table energy instead."""
    from ase import Atoms

    atoms = Atoms("O", positions=[[0.1, -0.2, 0.3]], cell=np.zeros((3, 3)), pbc=False)
    return atoms, "omol", 0, 3


BUILDERS = {
    "omol_cation_radical": omol_cation_radical,
    "omat_cu_triclinic": omat_cu_triclinic,
    "oc20_pt111_co": oc20_pt111_co,
    "odac_framework_co2": odac_framework_co2,
    "omc_crystal": omc_crystal,
    "omat_dense_over300": omat_dense_over300,
    "oc22_charged_periodic": oc22_charged_periodic,
    "oc25_charged_periodic": oc25_charged_periodic,
    "omol_isolated_atom": omol_isolated_atom,
}

ORIGINAL = ["omol_cation_radical", "omat_cu_triclinic", "oc20_pt111_co", "odac_framework_co2", "omc_crystal",
            "omat_dense_over300"]
# structures per model id (what make-fixtures --all / check-fixture --all run for a model)
SETS = {
    "UMA-1.1": list(ORIGINAL),
    "UMA-S-1.2": ORIGINAL + ["oc22_charged_periodic", "oc25_charged_periodic", "omol_isolated_atom"],
    "UMA-S-1.2.1": ORIGINAL + ["oc22_charged_periodic", "oc25_charged_periodic", "omol_isolated_atom"],
}


if __name__ == "__main__":
    for name, fn in BUILDERS.items():
        at, task, q, s = fn()
        print(f"{name:22s} {task:5s} N={len(at):3d} {at.get_chemical_formula():12s} pbc={at.pbc.tolist()} "
              f"min_dist={_min_dist(at) if len(at) > 1 else 0:.3f} vol={abs(np.linalg.det(at.cell[:])) if at.pbc.any() else 0:.2f}")
