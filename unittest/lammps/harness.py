"""Shared helpers for the LAMMPS-level tests of pair_style uma (unittest/lammps/test_*.py).

Each test script is run by ctest as
    python test_x.py --lmp LMP --plugin umaplugin.so --model model.uma --fixtures DIR --workdir DIR
and exits 0 on success, 1 on a failed check (printing the largest error, where, and its scale).

Conventions used throughout:
  * fixtures: unittest/data/fixtures/<name>.json (fairchem reference, see unittest/data/README.md);
    cell rows are the lattice vectors; stress is fairchem's sigma = (1/V) dE/d(eps), row-major 3x3.
  * LAMMPS restricted triclinic frame: rows a=(ax,0,0), b=(bx,by,0), c=(cx,cy,cz). With the cell
    H (rows) and H^T = Q R (QR, diag R > 0), H Q = R^T is lower triangular, so a position row
    vector r maps to r Q (+ boxlo shift), a force row to f Q, and a tensor T to Q^T T Q; back:
    r = (r' - shift) Q^T, T = Q T' Q^T.
  * LAMMPS pressure P (bar, compute pressure NULL virial) = W / V * nktv2p with W = sum r (x) F;
    fairchem stress sigma = -W / V, so sigma = -P / nktv2p (metal: nktv2p = 1.6021765e6).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np

NKTV2P_METAL = 1.6021765e6  # LAMMPS update.cpp, units metal: bar per eV/A^3

SYMBOLS = ("X H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga "
           "Ge As Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd "
           "Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi").split()
# Standard atomic masses (only dynamics uses them; run 0 results do not depend on them).
MASSES = {1: 1.008, 6: 12.011, 7: 14.007, 8: 15.999, 9: 18.998, 11: 22.990, 22: 47.867, 26: 55.845,
          27: 58.933, 28: 58.693, 29: 63.546, 78: 195.084, 79: 196.967}


def parse_args(extra=None):
    p = argparse.ArgumentParser()
    p.add_argument("--lmp", required=True)
    p.add_argument("--plugin", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--fixtures", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--mpirun", default="mpirun")
    if extra:
        extra(p)
    a = p.parse_args()
    a.plugin = os.path.abspath(a.plugin)
    a.model = os.path.abspath(a.model)
    if os.path.isdir(a.workdir):
        shutil.rmtree(a.workdir)
    os.makedirs(a.workdir)
    return a


def has_fixture(args, name):
    return os.path.exists(os.path.join(args.fixtures, name + ".json"))


def load_fixture(args, name):
    with open(os.path.join(args.fixtures, name + ".json")) as f:
        return json.load(f)


class Failures:
    """Collects check results; report() prints a summary and returns the exit status."""

    def __init__(self):
        self.failed = []
        self.n = 0

    def check(self, ok, what):
        self.n += 1
        print(("PASS  " if ok else "FAIL  ") + what, flush=True)
        if not ok:
            self.failed.append(what)
        return ok

    def close(self, err, tol, what, scale_note=""):
        return self.check(err <= tol, f"{what}: error {err:.3e} (tolerance {tol:.1e}{scale_note})")

    def report(self):
        print(f"\n{self.n - len(self.failed)} of {self.n} checks passed")
        for f in self.failed:
            print("  failed: " + f)
        return 1 if self.failed else 0


# ----------------------------------------------------------------------------------------------
# geometry: fixture -> LAMMPS data file


class Frame:
    """The map between the fixture frame and the LAMMPS frame of one data file."""

    def __init__(self, Q, shift, volume, types, elements):
        self.Q, self.shift, self.volume = Q, np.asarray(shift, float), volume
        self.types, self.elements = types, elements

    def forces_back(self, f_lmp):
        return np.asarray(f_lmp) @ self.Q.T

    def positions_back(self, x_lmp):
        return (np.asarray(x_lmp) - self.shift) @ self.Q.T

    def tensor_back(self, t_lmp):
        return self.Q @ np.asarray(t_lmp) @ self.Q.T


def lower_triangular(H):
    """Q with H Q lower triangular, positive diagonal, det Q = +1 (needs det H > 0)."""
    q, r = np.linalg.qr(H.T)
    d = np.sign(np.diag(r))
    d[d == 0] = 1.0
    q = q * d
    L = H @ q
    L[np.abs(L) < 1e-14 * np.abs(L).max()] = 0.0
    L[0, 1] = L[0, 2] = L[1, 2] = 0.0
    return q, L


def reduce_tilts(L):
    """Same lattice, tilt factors |xy|, |xz| <= lx/2 and |yz| <= ly/2 (LAMMPS's limits)."""
    a, b, c = L[0].copy(), L[1].copy(), L[2].copy()
    c = c - np.round(c[1] / b[1]) * b
    c = c - np.round(c[0] / a[0]) * a
    b = b - np.round(b[0] / a[0]) * a
    return np.array([a, b, c])


def write_data(fx, path, shift=(0.0, 0.0, 0.0), vacuum=12.0):
    """Data file for fixture fx; returns its Frame. Periodic fixtures: restricted triclinic with
    boxlo = shift; molecules (no pbc): orthogonal box around the molecule with `vacuum`."""
    Z = list(fx["numbers"])
    pos = np.array(fx["positions"], float)
    elements = []
    for z in Z:
        if z not in elements:
            elements.append(z)
    types = [elements.index(z) + 1 for z in Z]
    lines = [f"fixture {fx['name']} (pbc {fx['pbc']}), written by unittest/lammps/harness.py", "",
             f"{len(Z)} atoms", f"{len(elements)} atom types", ""]
    if any(fx["pbc"]):
        H = np.array(fx["cell"], float)
        Q, L = lower_triangular(H)
        L = reduce_tilts(L)
        shift = np.asarray(shift, float)
        x = pos @ Q + shift
        lo, hi = shift, shift + np.diag(L)
        lines += [f"{lo[0]:.17g} {hi[0]:.17g} xlo xhi", f"{lo[1]:.17g} {hi[1]:.17g} ylo yhi",
                  f"{lo[2]:.17g} {hi[2]:.17g} zlo zhi",
                  f"{L[1, 0]:.17g} {L[2, 0]:.17g} {L[2, 1]:.17g} xy xz yz"]
        volume = abs(np.linalg.det(H))
    else:
        Q = np.eye(3)
        shift = np.zeros(3)
        x = pos
        lo, hi = pos.min(0) - vacuum, pos.max(0) + vacuum
        lines += [f"{lo[k]:.17g} {hi[k]:.17g} {d}lo {d}hi" for k, d in enumerate("xyz")]
        volume = float(np.prod(hi - lo))
    lines += ["", "Masses", ""]
    lines += [f"{t + 1} {MASSES[z]}  # {SYMBOLS[z]}" for t, z in enumerate(elements)]
    lines += ["", "Atoms # atomic", ""]
    lines += [f"{i + 1} {types[i]} {x[i, 0]:.17g} {x[i, 1]:.17g} {x[i, 2]:.17g}"
              for i in range(len(Z))]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return Frame(Q, shift, volume, types, [SYMBOLS[z] for z in elements])


def boundary(fx):
    return " ".join("p" if p else "f" for p in fx["pbc"])


def pair_lines(args, fx, frame, extra=""):
    style = (f"pair_style uma task {fx['task']} charge {fx['charge']} spin {fx['spin']} "
             f"precision fp64 {extra}").rstrip()
    return f"plugin load {args.plugin}\n{style}\npair_coeff * * {args.model} " + \
        " ".join(frame.elements) + "\n"


# Per-run outputs: global energy, virial pressure tensor, per-atom sums, forces dump.
MEASURE = """
compute pv all pressure NULL virial
compute pea all pe/atom
compute sa all stress/atom NULL
compute pes all reduce sum c_pea
compute sas all reduce sum c_sa[1] c_sa[2] c_sa[3] c_sa[4] c_sa[5] c_sa[6]
variable vol equal vol
thermo_style custom step pe c_pv[1] c_pv[2] c_pv[3] c_pv[4] c_pv[5] c_pv[6] c_pes &
  c_sas[1] c_sas[2] c_sas[3] c_sas[4] c_sas[5] c_sas[6] v_vol
thermo_modify format float %20.15g
"""
MEASURE_COLS = ["Step", "PotEng", "pxx", "pyy", "pzz", "pxy", "pxz", "pyz", "pe_sum",
                "sxx", "syy", "szz", "sxy", "sxz", "syz", "vol"]


def dump_lines(name, every=1):
    return (f"dump {name} all custom {every} {name}.dump id type x y z fx fy fz\n"
            f"dump_modify {name} format float %20.15g sort id\n")


# ----------------------------------------------------------------------------------------------
# running LAMMPS and reading its output


def run_lmp(args, deck, name, np_=1, check=True, timeout=600, extra_env=None):
    """Writes deck to workdir/name.in and runs lmp there; returns (rc, combined output)."""
    inp = os.path.join(args.workdir, name + ".in")
    with open(inp, "w") as f:
        f.write(deck)
    cmd = [args.lmp, "-in", name + ".in", "-log", name + ".log", "-echo", "screen"]
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    if extra_env:
        env.update(extra_env)
    if np_ > 1:
        pre = [args.mpirun, "-np", str(np_), "--oversubscribe"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            pre.append("--allow-run-as-root")
        cmd = pre + cmd
    p = subprocess.run(cmd, cwd=args.workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, errors="replace", timeout=timeout, env=env)
    if check and p.returncode != 0:
        print(p.stdout[-4000:])
        raise RuntimeError(f"lmp run '{name}' (np {np_}) failed with exit status {p.returncode}; "
                           f"deck {inp}")
    return p.returncode, p.stdout


def lmp_has_package(args, package):
    """Whether lmp was built with the LAMMPS package `package` (from 'lmp -h': "Installed packages:").

    The LAMMPS 4Feb2025 build of tools/build-lammps.sh has no KOKKOS (the plain style only), so the
    checks that need '-k on' skip there."""
    cache = getattr(args, "_lmp_packages", None)
    if cache is None:
        p = subprocess.run([args.lmp, "-h"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, errors="replace", timeout=120)
        text = p.stdout.split("Installed packages:", 1)[-1].split("List of individual style", 1)[0]
        cache = args._lmp_packages = set(text.split())
    return package in cache


def thermo_tables(text):
    """List of (columns, rows) for each thermo table in a log/screen text."""
    out, cur, cols = [], None, None
    for line in text.splitlines():
        w = line.split()
        if w and w[0] == "Step":
            cols, cur = w, []
            out.append((cols, cur))
        elif cur is not None:
            if line.startswith("Loop time") or not w:
                cur = None
                continue
            try:
                vals = [float(v) for v in w]
            except ValueError:
                continue
            if len(vals) == len(cols):
                cur.append(vals)
    return out


def measures(text):
    """Rows of the MEASURE thermo tables, as dicts (one per printed step, in order)."""
    rows = []
    for cols, tab in thermo_tables(text):
        for r in tab:
            rows.append(dict(zip(MEASURE_COLS, r)) if len(r) == len(MEASURE_COLS) else
                        dict(zip(cols, r)))
    return rows


def pressure_tensor(m):
    return np.array([[m["pxx"], m["pxy"], m["pxz"]], [m["pxy"], m["pyy"], m["pyz"]],
                     [m["pxz"], m["pyz"], m["pzz"]]])


def stress_atom_sum_tensor(m):
    return np.array([[m["sxx"], m["sxy"], m["sxz"]], [m["sxy"], m["syy"], m["syz"]],
                     [m["sxz"], m["syz"], m["szz"]]])


def read_dump(path):
    """List of (timestep, array [N, ncols] sorted by id, column names)."""
    snaps = []
    with open(path) as f:
        lines = f.read().splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("ITEM: TIMESTEP"):
            step = int(lines[i + 1])
            n = int(lines[i + 3])
            j = i + 4
            while not lines[j].startswith("ITEM: ATOMS"):
                j += 1
            cols = lines[j].split()[2:]
            data = np.array([[float(v) for v in lines[j + 1 + k].split()] for k in range(n)])
            data = data[np.argsort(data[:, 0])]
            snaps.append((step, data, cols))
            i = j + 1 + n
        else:
            i += 1
    return snaps


def dump_forces(path, index=-1):
    step, data, cols = read_dump(path)[index]
    k = cols.index("fx")
    return data[:, k:k + 3]


def dump_positions(path, index=-1):
    step, data, cols = read_dump(path)[index]
    k = cols.index("x")
    return data[:, k:k + 3]


def max_err(a, b):
    """(max |a-b|, flat index of it as (row, col) or None)."""
    d = np.abs(np.asarray(a, float) - np.asarray(b, float))
    if d.size == 0:
        return 0.0, None
    idx = np.unravel_index(np.argmax(d), d.shape)
    return float(d[idx]), tuple(int(i) for i in idx)


def main_guard(fn):
    try:
        sys.exit(fn())
    except Exception as e:  # a crashed lmp or a parse failure is a test failure with a reason
        print(f"FAIL  {type(e).__name__}: {e}")
        sys.exit(1)
