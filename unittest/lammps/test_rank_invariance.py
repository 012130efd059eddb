"""lammps_rank_invariance: the domain decomposition does not change the result.

The omol molecule in a box split over 1, 2 (processors 1 2 1) and 4 (processors 1 2 2) MPI ranks
(halo auto: fold on 1 rank, halo exchange on 2 and 4), on 1 rank with halo shell and halo exchange,
on 2 ranks with halo shell, and on 2 ranks with edge chunks of 40 edges (recomputed in the backward
pass): energy,
forces and global virial agree to 1e-10 relative in fp64. For every run, and for a periodic
fixture (omc_crystal, folded images on 1 rank), the per-atom energies (compute pe/atom) sum to pe
and the per-atom virials (compute stress/atom NULL) sum to -P V (LAMMPS convention:
sum_i s_i = -(pressure tensor) * volume, both in bar*A^3).
A small periodic cell (omc_crystal) is split over 2 ranks with the halo exchange only: the 30 A ghost
shell would make thousands of ghost atoms (graph nodes) and take minutes on a 2-core machine.
In fp32 (where the exchange packs two floats per double) the molecule on 2 and 4 ranks agrees with
1 rank to 1e-5 relative (fp32 round-off in a different summation order).
The owner-direct exchange (halo_comm mpi, src/halo/) passes the same checks on the molecule (2 and 4
ranks, fp64 and fp32) and on the periodic cells (1, 2 and 4 ranks: own periodic images as ghosts of
the same rank, and corner images that LAMMPS brings in two hops), and, with UMA_HALO_VERIFY=1, every
one of its exchanges equals LAMMPS's own communication (halo_comm lammps) bitwise: the forward copies
on the node features, the reverse sums on integer rows (exact in any order).
"""
import re

import numpy as np

import harness as h

RTOL = 1e-10


def run(args, fx, tag, np_=1, procs=None, halo="auto", extra="", vacuum=12.0, env=None):
    frame = h.write_data(fx, f"{args.workdir}/{tag}.data", shift=(0.5, -0.25, 1.0), vacuum=vacuum)
    deck = (f"units metal\natom_style atomic\nboundary {h.boundary(fx)}\nbox tilt large\n"
            + (f"processors {procs}\n" if procs else "")
            + f"read_data {tag}.data\n" + h.pair_lines(args, fx, frame, f"halo {halo} {extra}")
            + h.MEASURE + h.dump_lines(tag) + "run 0\n")
    _, out = h.run_lmp(args, deck, tag, np_=np_, extra_env=env)
    m = h.measures(out)[-1]
    return dict(m=m, e=m["PotEng"], f=h.dump_forces(f"{args.workdir}/{tag}.dump"),
                pv=h.pressure_tensor(m) * m["vol"], s=h.stress_atom_sum_tensor(m), out=out)


# Every exchange of halo_comm mpi repeated by LAMMPS's communication and compared (pair_uma_exchange.cpp);
# a difference stops the run with an ERROR. The plan of each rank is logged.
VERIFY = {"UMA_HALO_VERIFY": "1"}


def verified(fails, tag, r):
    fails.check("UMA: halo verify: owner-direct exchanges equal LAMMPS communication" in r["out"],
                f"{tag}: every exchange equals LAMMPS's communication (UMA_HALO_VERIFY)")


def plans(out):
    """{rank: {peer: ghost rows received from it}} from the UMA_HALO_VERIFY plan lines."""
    plan = {}
    for rank, rest in re.findall(r"UMA: halo plan rank (\d+): (.*)", out):
        plan[int(rank)] = {int(p): int(n) for n, p in re.findall(r"(\d+) from rank (\d+)", rest)}
    return plan


def per_atom_sums(fails, tag, r):
    m = r["m"]
    fails.close(abs(m["pe_sum"] - r["e"]) / abs(r["e"]), RTOL,
                f"{tag}: sum pe/atom {m['pe_sum']:.15g} vs pe {r['e']:.15g}", ", relative to |pe|")
    scale = np.abs(r["pv"]).max()
    err, where = h.max_err(r["s"], -r["pv"])
    fails.close(err / scale, RTOL, f"{tag}: sum stress/atom vs -P*V, max diff {err:.3e} bar*A^3 "
                f"at {where}", f", relative to max|P V| = {scale:.3g} bar*A^3")


def compare(fails, tag, r, base, base_tag, rtol):
    """Energy, forces and global virial of run r against run base, relative to |E|, max|F|, max|PV|."""
    fscale, wscale = np.abs(base["f"]).max(), np.abs(base["pv"]).max()
    de = abs(r["e"] - base["e"])
    df, fw = h.max_err(r["f"], base["f"])
    dw, ww = h.max_err(r["pv"], base["pv"])
    fails.close(de / abs(base["e"]), rtol, f"{tag} vs {base_tag} energy", ", relative to |E|")
    fails.close(df / fscale, rtol, f"{tag} vs {base_tag} forces, max at atom {fw[0] + 1} {'xyz'[fw[1]]}",
                f", relative to max|F| = {fscale:.3g} eV/A")
    fails.close(dw / wscale, rtol, f"{tag} vs {base_tag} virial (P*V), max at {ww}",
                f", relative to max|PV| = {wscale:.3g} bar*A^3")
    print(f"| {tag} vs {base_tag} | {de:.2e} | {df:.2e} | {dw:.2e} |")


def md(args, fx, tag, comm, env=None):
    """Two runs of 5 NVE steps on 4 ranks (1 2 2) with a neighbour-list build every step: the plan of
    halo_comm mpi is made again after each build (and after each run's setup, where LAMMPS restarts its
    count of builds). Returns the potential energies of steps 0..10 (both runs' step 5)."""
    frame = h.write_data(fx, f"{args.workdir}/{tag}.data", shift=(0.5, -0.25, 1.0))
    deck = (f"units metal\natom_style atomic\nboundary {h.boundary(fx)}\nprocessors 1 2 2\n"
            f"read_data {tag}.data\n" + h.pair_lines(args, fx, frame, f"halo exchange halo_comm {comm}")
            + "velocity all create 3000 4928459 mom yes rot yes dist gaussian\n"
            "neigh_modify every 1 delay 0 check no\nfix 1 all nve\ntimestep 0.0005\n"
            "thermo 1\nthermo_style custom step pe\nthermo_modify format float %20.15g\nrun 5\nrun 5\n")
    _, out = h.run_lmp(args, deck, tag, np_=4, extra_env=env)
    return np.array([r[1] for _, tab in h.thermo_tables(out) for r in tab]), out


def main():
    args = h.parse_args()
    fails = h.Failures()
    fx = h.load_fixture(args, "omol_cation_radical")
    runs = {
        "np1_fold": run(args, fx, "np1_fold"),
        "np1_shell": run(args, fx, "np1_shell", halo="shell"),
        "np1_exchange": run(args, fx, "np1_exchange", halo="exchange"),
        "np2": run(args, fx, "np2", np_=2, procs="1 2 1"),          # auto = exchange
        "np4": run(args, fx, "np4", np_=4, procs="1 2 2"),
        "np2_shell": run(args, fx, "np2_shell", np_=2, procs="1 2 1", halo="shell"),
        # 4 slabs along x in a wide box: the outer ranks own no atom and see no ghost, and still
        # take part in every (collective) exchange
        "np4_slabs": run(args, fx, "np4_slabs", np_=4, procs="4 1 1", vacuum=30.0),
        # edge chunks with recomputation (pair_style keyword chunk) on a decomposed system
        "np2_chunk40": run(args, fx, "np2_chunk40", np_=2, procs="1 2 1", extra="chunk 40"),
        # the owner-direct plan over MPI; on 4 ranks (1 2 2) every exchange checked against LAMMPS's
        "np2_mpi": run(args, fx, "np2_mpi", np_=2, procs="1 2 1", extra="halo_comm mpi"),
        "np4_mpi": run(args, fx, "np4_mpi", np_=4, procs="1 2 2", extra="halo_comm mpi", env=VERIFY),
        "np4_slabs_mpi": run(args, fx, "np4_slabs_mpi", np_=4, procs="4 1 1", vacuum=30.0,
                             extra="halo_comm mpi"),
    }
    fails.check("evaluating in chunks of 40 edges" in runs["np2_chunk40"]["out"],
                "np2_chunk40 log reports the edge chunks")
    fails.check("ghost shell set to" in runs["np2_shell"]["out"], "np2_shell log reports the ghost shell")
    for tag in ("np1_exchange", "np2", "np4"):
        fails.check("halo exchange:" in runs[tag]["out"], f"{tag} log reports the halo exchange")
    for tag in ("np2_mpi", "np4_mpi", "np4_slabs_mpi"):
        fails.check("halo_comm mpi)" in runs[tag]["out"], f"{tag} log reports halo_comm mpi")
    verified(fails, "np4_mpi", runs["np4_mpi"])
    # processors 1 2 2: ranks 0 and 3 (and 1 and 2) touch at an edge only; their ghosts reach each
    # other through two LAMMPS swaps (y, then z), and the plan must name the owner, not the rank between
    plan = plans(runs["np4_mpi"]["out"])
    fails.check(plan.get(0, {}).get(3, 0) > 0 and plan.get(3, {}).get(0, 0) > 0,
                f"np4_mpi: ranks 0 and 3 exchange corner images directly (plan {plan})")
    mm = re.search(r"Nlocal:\s+\S+ ave\s+(\d+) max\s+(\d+) min", runs["np4_slabs"]["out"])
    fails.check(mm is not None and int(mm.group(2)) == 0,
                "np4_slabs: some rank owns no atom (Nlocal min " + (mm.group(2) if mm else "not found") + ")")
    mg = re.search(r"Nghost:\s+\S+ ave\s+(\d+) max\s+(\d+) min", runs["np4_slabs"]["out"])
    fails.check(mg is not None and int(mg.group(2)) == 0,
                "np4_slabs: some rank has no ghost either (Nghost min " + (mg.group(2) if mg else "not found") + ")")
    for tag in ("np2", "np4"):  # the molecule is really split: every rank owns atoms and ghosts
        mm = re.search(r"Nlocal:\s+\S+ ave\s+(\d+) max\s+(\d+) min", runs[tag]["out"])
        fails.check(mm is not None and int(mm.group(2)) > 0,
                    f"{tag}: every rank owns atoms (Nlocal max/min " +
                    (f"{mm.group(1)}/{mm.group(2)})" if mm else "not found)"))
    print("\n| run | abs dE (eV) | max abs dF (eV/A) | max abs d(PV) (bar*A^3) |")
    print("|---|---|---|---|")
    for tag, r in runs.items():
        per_atom_sums(fails, tag, r)
        if tag != "np1_fold":
            compare(fails, tag, r, runs["np1_fold"], "np1_fold", RTOL)
    # Dynamics: plans made again at every neighbour-list build, checked against LAMMPS's communication
    # at every exchange (UMA_HALO_VERIFY) and equal to the halo_comm lammps trajectory. Both runs sum
    # the same forces in different orders (1e-15 relative per step), which 10 steps of a 6-atom
    # molecule cannot amplify anywhere near RTOL.
    pe_lammps, _ = md(args, fx, "md_lammps", "lammps")
    pe_mpi, out_mpi = md(args, fx, "md_mpi", "mpi", env=VERIFY)
    verified(fails, "md_mpi", dict(out=out_mpi))
    nplans = out_mpi.count("UMA: halo plan rank 0:")
    fails.check(nplans >= 12, f"md_mpi: a plan for every neighbour-list build (rank 0 logged {nplans}, "
                "expected 2 runs x (setup + 5 steps))")
    fails.check(len(pe_mpi) == 12 and len(pe_lammps) == 12, f"md: 12 thermo rows each ({len(pe_mpi)}, "
                f"{len(pe_lammps)})")
    if len(pe_mpi) == len(pe_lammps) and len(pe_mpi):
        err = float(np.abs(pe_mpi - pe_lammps).max() / np.abs(pe_lammps).max())
        fails.close(err, RTOL, "md_mpi vs md_lammps potential energy over 10 steps", ", relative to |pe|")
    # fp32: the exchange sends the engine's float values packed two per double (PairUMAState::halo_fp32);
    # a wrong packing would scramble the ghosts' features (errors of order 1). Runs on different
    # decompositions sum the same fp32 terms in different orders: fp32 round-off (6e-8 per operation) over
    # four layers of ~50-term edge sums stays well below RTOL32 (fairchem fp32 vs fp64 differs by ~1e-6
    # relative on these fixtures, test_fairchem_parity).
    RTOL32 = 1e-5
    b32 = run(args, fx, "np1_fold_fp32", extra="precision fp32")
    per_atom_sums(fails, "np1_fold_fp32", b32)
    for tag, np_, procs, comm in (("np2_fp32", 2, "1 2 1", ""), ("np4_fp32", 4, "1 2 2", ""),
                                  ("np2_fp32_mpi", 2, "1 2 1", "halo_comm mpi")):
        r = run(args, fx, tag, np_=np_, procs=procs, extra="precision fp32 " + comm)
        fails.check("halo exchange:" in r["out"], f"{tag} log reports the halo exchange")
        per_atom_sums(fails, tag, r)
        compare(fails, tag, r, b32, "np1_fold_fp32", RTOL32)
    # a small periodic cell: images folded onto their owners (1 rank) vs the halo exchange on 1 and 2
    # ranks, where ghosts are periodic images and images of images (the shell would be thousands of
    # ghosts here)
    fxp = h.load_fixture(args, "omc_crystal")
    pbase = run(args, fxp, "omc_np1")
    per_atom_sums(fails, "omc_crystal np1_fold", pbase)
    for tag, np_, procs, comm in (("omc_np1_exchange", 1, None, ""), ("omc_np2_exchange", 2, "2 1 1", ""),
                                  ("omc_np1_mpi", 1, None, "halo_comm mpi"),
                                  ("omc_np2_mpi", 2, "2 1 1", "halo_comm mpi"),
                                  ("omc_np4_mpi", 4, "2 2 1", "halo_comm mpi")):
        r = run(args, fxp, tag, np_=np_, procs=procs, halo="exchange", extra=comm, env=VERIFY if comm else None)
        per_atom_sums(fails, tag, r)
        compare(fails, tag, r, pbase, "omc_np1", RTOL)
        if comm:
            verified(fails, tag, r)
            # the cell is smaller than the cutoff: every rank holds images of its own atoms as ghosts
            own = re.findall(r"UMA: halo plan rank \d+: \d+ ghost rows, (\d+) own images", r["out"])
            fails.check(len(own) == np_ and all(int(n) > 0 for n in own),
                        f"{tag}: every rank has own periodic images among its ghosts ({own})")
    # UMA-S 1.2.x: a charged periodic cell (total charge = the per-layer balance target, summed over
    # all ranks at every layer) on 1, 2 and 4 ranks
    if h.has_fixture(args, "oc22_charged_periodic"):
        fxc = h.load_fixture(args, "oc22_charged_periodic")
        cbase = run(args, fxc, "oc22_np1")
        per_atom_sums(fails, "oc22_charged_periodic np1_fold", cbase)
        for tag, np_, procs, comm in (("oc22_np2_exchange", 2, "2 1 1", ""), ("oc22_np4_exchange", 4, "2 2 1", ""),
                                      ("oc22_np2_mpi", 2, "2 1 1", "halo_comm mpi")):
            r = run(args, fxc, tag, np_=np_, procs=procs, halo="exchange", extra=comm)
            per_atom_sums(fails, tag, r)
            compare(fails, tag, r, cbase, "oc22_np1", RTOL)
    return fails.report()


if __name__ == "__main__":
    h.main_guard(main)
