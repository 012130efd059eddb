"""lammps_nve_conservation: velocity-Verlet NVE on the omol molecule (11 atoms, fp64) conserves
energy the way a smooth, conservative potential must.

The fixture geometry is first relaxed briefly (minimize, 40 iterations: the random test model's
minimum is far from it, and unrelaxed the molecule heats to ~6000 K), then the same initial state
(velocity create 300 K, fixed seed, zero momentum and angular momentum) is run for 0.05 ps at
dt = 0.5 fs (100 steps) and at dt = 0.25 fs (200 steps), sampling etotal at the same 50 times.
For velocity Verlet the total-energy error is O(dt^2), and a conservative force field has no
systematic drift beyond that bounded fluctuation:
  * fluctuation (RMS about the linear trend) ratio rms(dt) / rms(dt/2) in [3, 5.5] (dt^2 -> 4);
  * drift (linear trend over the run) ratio in [2.5, 6.5] (also dt^2: it is integration error,
    not heating);
  * |drift| <= rms at both time steps (a non-conservative force, e.g. a missing ghost or virial
    term, heats by far more);
  * rms(dt) < 1e-3 of the mean kinetic energy.
Measured (2-core CPU): rms 1.0e-4 / 2.5e-5 eV (ratio 4.01), drift -4.6e-5 / -1.1e-5 eV, <KE> 0.27
eV. Scaled down from the 2000 x 0.5 fs of the brief: 11 atoms cost ~0.15 s per step here, so
2000 steps would take ~5 min; the 300 steps + 40 minimizer steps take ~1.5 min.
"""
import numpy as np

import harness as h

T_PS = 0.05
DT_FS = 0.5


def trajectory(args, fx, frame, dt_fs, first, nsample=50):
    nsteps = int(round(T_PS * 1000 / dt_fs))
    every = nsteps // nsample
    tag = f"nve_dt{dt_fs:g}"
    # the random test model's minimum is far from the fixture geometry: relax a little first (the
    # first run only; it writes the start for both), so that the molecule does not heat to ~6000 K
    prep = ("minimize 0 1e-3 40 80\nreset_timestep 0\nwrite_data nve0.data\n" if first else "")
    deck = ("units metal\natom_style atomic\nboundary f f f\n"
            + ("read_data nve.data\n" if first else "read_data nve0.data\n")
            + h.pair_lines(args, fx, frame) + prep
            + "velocity all create 300.0 20251 mom yes rot yes dist gaussian\n"
            + f"fix 1 all nve\ntimestep {dt_fs / 1000:.17g}\n"
            + "thermo_style custom step pe ke etotal\nthermo_modify format float %20.15g\n"
            + f"thermo {every}\nrun {nsteps}\n")
    _, out = h.run_lmp(args, deck, tag)
    cols, rows = h.thermo_tables(out)[-1]
    a = np.array(rows)
    t = a[:, 0] * dt_fs / 1000
    e = a[:, cols.index("TotEng")]
    slope, icpt = np.polyfit(t, e, 1)
    rms = float(np.sqrt(np.mean((e - (slope * t + icpt)) ** 2)))
    return dict(t=t, e=e, drift=slope * T_PS, rms=rms, nsteps=nsteps,
                ke_mean=float(a[:, cols.index("KinEng")].mean()))


def main():
    args = h.parse_args()
    fails = h.Failures()
    fx = h.load_fixture(args, "omol_cation_radical")
    frame = h.write_data(fx, f"{args.workdir}/nve.data")
    r1 = trajectory(args, fx, frame, DT_FS, True)
    r2 = trajectory(args, fx, frame, DT_FS / 2, False)
    escale = r1["ke_mean"]
    print(f"\n| dt (fs) | steps | drift over {T_PS} ps (eV) | rms fluctuation (eV) | <KE> (eV) |")
    print("|---|---|---|---|---|")
    for dt, r in ((DT_FS, r1), (DT_FS / 2, r2)):
        print(f"| {dt} | {r['nsteps']} | {r['drift']:+.3e} | {r['rms']:.3e} | {r['ke_mean']:.4f} |")
    ratio = r1["rms"] / r2["rms"]
    fails.check(3.0 <= ratio <= 5.5, f"fluctuation ratio rms(dt)/rms(dt/2) = {ratio:.2f} "
                "(velocity Verlet: dt^2 -> 4; accepted [3, 5.5])")
    dratio = r1["drift"] / r2["drift"] if r2["drift"] else float("inf")
    fails.check(2.5 <= dratio <= 6.5, f"drift ratio drift(dt)/drift(dt/2) = {dratio:.2f} "
                "(dt^2 -> 4; accepted [2.5, 6.5])")
    for dt, r in ((DT_FS, r1), (DT_FS / 2, r2)):
        fails.check(abs(r["drift"]) <= r["rms"], f"dt {dt} fs: |drift| {abs(r['drift']):.2e} eV "
                    f"<= rms fluctuation {r['rms']:.2e} eV")
    fails.check(r1["rms"] < 1e-3 * escale, f"dt {DT_FS} fs: rms {r1['rms']:.2e} eV < 1e-3 of "
                f"<KE> = {escale:.3f} eV")
    de = abs(r1["e"][0] - r2["e"][0])
    fails.check(de < 1e-10, f"both runs start from the same state (|dE0| = {de:.1e} eV)")
    return fails.report()


if __name__ == "__main__":
    h.main_guard(main)
