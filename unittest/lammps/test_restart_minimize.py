"""lammps_restart_minimize: state round trips, consecutive runs and minimization.

  * omc_crystal (triclinic, periodic): run 0, write_restart and write_data; a new lmp reads the
    restart (read_restart + plugin load + pair_style + pair_coeff again, as the doc says), another
    reads the data file: pe and forces equal the original to 1e-12 relative (the restart is
    binary; write_data prints %.16e, so both are exact up to summation order).
  * three consecutive `run 3` with fix nve: steps continue (0..9), and the last row of each run
    equals the first row of the next (pe, etotal to 1e-12 relative): the style's state survives
    between runs (setup() recomputes the same forces).
  * minimize (cg) on the omol molecule: pe goes down and the force norm drops below the
    force tolerance (or, if the iteration cap is hit first, by at least 10x).
"""
import re

import numpy as np

import harness as h

RTOL = 1e-12


def main():
    args = h.parse_args()
    fails = h.Failures()
    fx = h.load_fixture(args, "omc_crystal")
    frame = h.write_data(fx, f"{args.workdir}/omc.data", shift=(-1.0, 2.0, 0.5))
    pair = h.pair_lines(args, fx, frame)
    head = "units metal\natom_style atomic\nboundary p p p\n"
    deck = (head + "read_data omc.data\n" + pair + h.MEASURE + h.dump_lines("orig", 1000000)
            + "run 0\nundump orig\nwrite_restart omc.restart\nwrite_data omc_written.data\n"
            + "velocity all create 300.0 777 mom yes rot no\nfix 1 all nve\ntimestep 0.0005\n"
            + "thermo_style custom step pe etotal\nthermo_modify format float %20.15g\n"
            + "thermo 1\nrun 3\nrun 3\nrun 3\n")
    _, out = h.run_lmp(args, deck, "orig")
    tabs = h.thermo_tables(out)
    e0 = h.measures(out)[0]["PotEng"]
    f0 = h.dump_forces(f"{args.workdir}/orig.dump")
    fscale = np.abs(f0).max()

    for tag, read in (("restart", "read_restart omc.restart\n"),
                      ("data", "read_data omc_written.data\n")):
        d = ((head if tag == "data" else "") + read + pair + h.MEASURE + h.dump_lines(tag)
             + "run 0\n")
        _, o = h.run_lmp(args, d, tag)
        e = h.measures(o)[-1]["PotEng"]
        f = h.dump_forces(f"{args.workdir}/{tag}.dump")
        fails.close(abs(e - e0) / abs(e0), RTOL, f"after {tag}: pe {e:.15g} vs {e0:.15g}")
        df, where = h.max_err(f, f0)
        fails.close(df / fscale, RTOL, f"after {tag}: forces, max |dF| {df:.2e} eV/A at atom "
                    f"{where[0] + 1}", f", relative to max|F| = {fscale:.3g}")

    runs = [rows for cols, rows in tabs[1:]]
    fails.check(len(runs) == 3, f"three consecutive runs printed thermo ({len(runs)} found)")
    if len(runs) == 3:
        steps = [int(r[0]) for rows in runs for r in rows]
        fails.check(steps == [0, 1, 2, 3, 3, 4, 5, 6, 6, 7, 8, 9],
                    f"steps continue across runs: {steps}")
        for k in range(2):
            last, first = np.array(runs[k][-1][1:]), np.array(runs[k + 1][0][1:])
            err = float(np.max(np.abs(last - first) / np.abs(last)))
            fails.close(err, RTOL, f"run {k + 2} starts where run {k + 1} ended (pe, etotal)")
        fails.close(abs(runs[0][0][1] - e0) / abs(e0), RTOL, "first MD step pe equals run 0 pe")

    mol = h.load_fixture(args, "omol_cation_radical")
    mframe = h.write_data(mol, f"{args.workdir}/mol.data")
    d = ("units metal\natom_style atomic\nboundary f f f\nread_data mol.data\n"
         + h.pair_lines(args, mol, mframe) + "thermo 10\nmin_style cg\n"
         + "minimize 0 0.05 120 240\n")
    _, o = h.run_lmp(args, d, "minimize")
    m = re.search(r"Stopping criterion = (.*)\n.*\n\s*(\S+)\s+(\S+)\s+(\S+)\n"
                  r"\s*Force two-norm initial, final = (\S+) (\S+)", o)
    if not fails.check(m is not None, "minimize printed its statistics"):
        return fails.report()
    crit = m.group(1).strip()
    e_init, e_final = float(m.group(2)), float(m.group(4))
    fn_init, fn_final = float(m.group(5)), float(m.group(6))
    print(f"minimize: {crit}; pe {e_init:.6f} -> {e_final:.6f} eV; fnorm {fn_init:.4f} -> "
          f"{fn_final:.4f} eV/A")
    fails.check(e_final < e_init - 1e-3, f"minimize lowers pe ({e_init:.6f} -> {e_final:.6f})")
    if crit == "force tolerance":
        fails.check(fn_final < 0.05, f"fnorm {fn_final:.4f} < ftol 0.05 at convergence")
    else:
        fails.check(fn_final < fn_init / 10, f"stopped by '{crit}': fnorm reduced >= 10x "
                    f"({fn_init:.3f} -> {fn_final:.3f})")
    return fails.report()


if __name__ == "__main__":
    h.main_guard(main)
