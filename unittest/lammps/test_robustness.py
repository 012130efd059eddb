"""lammps_robustness: legal inputs that used to crash, abort or pass without a word (issue 15).

  * pair_style hybrid/overlay uma + lj/cut with 'halo exchange' on 1 and 2 ranks (plain uma and
    uma/kk): it crashed in pack_forward_comm (communication buffers sized before the model was
    known); energies and forces must equal uma alone + lj/cut alone.
  * An empty system (delete_atoms of everything, then fix deposit into the empty box): energy 0,
    no error (it ended in MPI_ABORT "the system has no atoms the model can evaluate").
  * A second pair_style uma that changes only the precision keeps the pair coefficients (LAMMPS
    calls only settings() for the style in use) and gives the new precision's numbers.
  * One-time warnings: per-atom charges of atom_style charge; charge/spin for a UMA-S 1.1 task that
    was trained with the defaults only.
  * '-k on -sf kk' with the plugin built without Kokkos runs the plain style and logs one line.
"""
import os
import re

import numpy as np

import harness as h

CU = """units metal
atom_style {atom_style}
boundary p p p
lattice fcc 3.6
region box block 0 2 0 2 0 2
create_box 2 box
create_atoms 1 box
set type 1 type/fraction 2 0.25 4821
mass * 63.5
displace_atoms all random 0.15 0.15 0.15 9177 units box
plugin load {plugin}
"""
OUT = ("thermo_style custom step pe\nthermo_modify format float %20.15g\n"
       "dump d all custom 1 {name}.dump id fx fy fz\ndump_modify d format float %20.15g sort id\n"
       "run 0\n")
LJ = "lj/cut 5.0"
LJ_COEFF = "pair_coeff 1 1 lj/cut 0.01 2.3\npair_coeff 2 2 lj/cut 0.02 2.4\npair_coeff 1 2 lj/cut 0.015 2.35\n"


def main():
    args = h.parse_args(lambda p: p.add_argument("--plugin-plain", default=None))
    fails = h.Failures()
    m = args.model
    uma = "uma task omat precision fp64"

    def run(name, body, np_=1, kokkos=False, atom_style="atomic", plugin=None, check=True):
        text = CU.format(atom_style=atom_style, plugin=plugin or args.plugin) + body
        if kokkos:
            text = text.replace("units metal\n", "package kokkos newton on neigh full\nunits metal\n", 1)
        text += OUT.format(name=name)
        if kokkos:
            return run_kokkos(args, text, name, np_)
        return h.run_lmp(args, text, name, np_=np_, check=check, timeout=300)

    def result(name, out):
        pe = [r["PotEng"] for r in h.measures(out) if "PotEng" in r][-1]
        return pe, h.dump_forces(os.path.join(args.workdir, name + ".dump"))

    # references: uma alone and lj/cut alone, one rank
    _, out = run("ref_uma", f"pair_style {uma}\npair_coeff * * {m} Cu Au\n")
    e_uma, f_uma = result("ref_uma", out)
    _, out = run("ref_lj", f"pair_style {LJ}\n" + LJ_COEFF.replace(" lj/cut", ""))
    e_lj, f_lj = result("ref_lj", out)
    e_ref, f_ref = e_uma + e_lj, f_uma + f_lj
    hyb = (f"pair_style hybrid/overlay {uma} halo exchange {LJ}\npair_coeff * * uma {m} Cu Au\n" + LJ_COEFF)
    lmp_kokkos = h.lmp_has_package(args, "KOKKOS")
    if not lmp_kokkos:
        print("SKIP  hybrid/overlay under '-k on -sf kk' and '-sf kk' with the plain plugin: this lmp "
              "has no KOKKOS package")
    for np_, kokkos in ((1, False), (2, False), (1, True), (2, True)):
        if kokkos and not lmp_kokkos:
            continue
        name = f"hybrid_exchange_np{np_}{'_kk' if kokkos else ''}"
        rc, out = run(name, hyb, np_=np_, kokkos=kokkos, check=False)
        if not fails.check(rc == 0, f"{name}: runs (exit {rc})" + ("" if rc == 0 else "\n" + out[-1500:])):
            continue
        e, f = result(name, out)
        fails.close(abs(e - e_ref), 1e-8 * 32, f"{name}: energy vs uma + lj/cut ({e_ref:.10f} eV)",
                    " ; fp64, 32 atoms, summation order only")
        err, at = h.max_err(f, f_ref)
        fails.close(err, 1e-8, f"{name}: forces vs uma + lj/cut (largest at atom {at})")

    # empty systems: delete everything, then deposit into the empty box
    for np_ in (1, 2):
        name = f"empty_np{np_}"
        body = (f"pair_style {uma}\npair_coeff * * {m} Cu Au\ndelete_atoms group all\nrun 0\n"
                "region slab block 0 2 0 2 0 2\n"
                "fix dep all deposit 2 1 5 2917 region slab near 2.0 attempt 50\nfix nve all nve\n"
                "thermo 1\nrun 12\nunfix dep\n")
        rc, out = run(name, body, np_=np_, check=False)
        ok = rc == 0 and "ERROR" not in out
        fails.check(ok, f"{name}: delete_atoms all + fix deposit runs (exit {rc})" +
                    ("" if ok else "\n" + out[-1500:]))
        if ok:
            cols, rows = h.thermo_tables(out)[0]
            pe = rows[0][cols.index("E_pair")]
            fails.check(pe == 0.0, f"{name}: empty box energy {pe} is 0")
            natoms = re.findall(r"Loop time of .* with (\d+) atoms", out)
            fails.check(natoms and int(natoms[0]) == 0 and int(natoms[-1]) >= 1,
                        f"{name}: from 0 atoms to deposited ones (atoms per run: {natoms})")

    # precision changed by a second pair_style: coefficients kept, fp32 numbers
    name = "precision_change"
    rc, out = run(name, f"pair_style uma task omat precision fp32\npair_coeff * * {m} Cu Au\nrun 0\n"
                  f"pair_style {uma}\n", check=False)
    ok = rc == 0 and "All pair coeffs are not set" not in out
    if fails.check(ok, f"{name}: pair_style uma precision fp64 after fp32 keeps the coefficients (exit {rc})"
                   + ("" if ok else "\n" + out[-1500:])):
        fails.check("model" in out and "reloaded with the pair coefficients kept" in out,
                    f"{name}: the reload is logged")
        e, f = result(name, out)
        fails.close(abs(e - e_uma), 1e-8 * 32, f"{name}: fp64 energy after the change equals uma fp64")

    # one-time warnings
    name = "atom_charges"
    rc, out = run(name, f"set type 1 charge 0.5\npair_style {uma}\npair_coeff * * {m} Cu Au\nrun 0\n",
                  atom_style="charge", check=False)
    warns = [ln for ln in out.splitlines() if ln.startswith("WARNING: pair_style uma: the per-atom charges")]
    fails.check(rc == 0 and len(warns) == 1, f"{name}: one WARNING about per-atom charges ({len(warns)})")
    name = "charge_for_omat_11"
    rc, out = run(name, f"pair_style {uma} charge 1\npair_coeff * * {m} Cu Au\nrun 0\n", check=False)
    warns = [ln for ln in out.splitlines() if "uses charge and spin for task omol only" in ln]
    is_11 = "UMA-1.1" in out
    fails.check(rc == 0 and len(warns) == (1 if is_11 else 0),
                f"{name}: {'one WARNING' if is_11 else 'no WARNING (charge-balanced model)'} about charge "
                f"for task omat ({len(warns)})")

    # recompute yes on the CPU: a GPU memory setting; one WARNING, and the numbers of uma alone
    name = "recompute_on_cpu"
    rc, out = run(name, f"pair_style {uma} recompute yes\npair_coeff * * {m} Cu Au\n", check=False)
    warns = [ln for ln in out.splitlines() if ln.startswith("WARNING: pair_style uma: 'recompute yes' has no effect")]
    if fails.check(rc == 0 and len(warns) == 1, f"{name}: runs with one WARNING ({len(warns)})"
                   + ("" if rc == 0 else "\n" + out[-1500:])):
        e, f = result(name, out)
        fails.close(abs(e - e_uma), 1e-12 * 32, f"{name}: energy equals uma without it", " ; the same CPU evaluation")

    # -sf kk with the plugin built without Kokkos
    if not lmp_kokkos:
        pass
    elif args.plugin_plain and os.path.exists(args.plugin_plain):
        name = "sf_kk_plain_plugin"
        rc, out = run_kokkos(args, CU.format(atom_style="atomic", plugin=args.plugin_plain).replace(
            "units metal\n", "package kokkos newton on neigh full\nunits metal\n", 1) +
            f"pair_style {uma}\npair_coeff * * {m} Cu Au\n" + OUT.format(name=name), name, 1)
        lines = [ln for ln in out.splitlines() if "built without Kokkos: running the plain pair_style uma" in ln]
        if fails.check(rc == 0 and len(lines) == 1, f"{name}: runs and logs the fallback once ({len(lines)})"
                       + ("" if rc == 0 else "\n" + out[-1500:])):
            e, f = result(name, out)
            fails.close(abs(e - e_uma), 1e-8 * 32, f"{name}: energy equals plain uma")
    else:
        print("SKIP  -sf kk with the plugin built without Kokkos: no --plugin-plain")
    return fails.report()


def run_kokkos(args, text, name, np_):
    """run_lmp with '-k on t 1 -sf kk' on the lmp command line."""
    lmp = args.lmp
    wrapper = os.path.join(args.workdir, "lmp-kk.sh")
    if not os.path.exists(wrapper):
        with open(wrapper, "w") as f:
            f.write(f'#!/bin/sh\nexec "{lmp}" -k on t 1 -sf kk "$@"\n')
        os.chmod(wrapper, 0o755)
    args.lmp = wrapper
    try:
        return h.run_lmp(args, text, name, np_=np_, check=False, timeout=300)
    finally:
        args.lmp = lmp


if __name__ == "__main__":
    h.main_guard(main)
