"""lammps_finite_difference: forces and pressure are derivatives of pe, through LAMMPS (fp64).

On the triclinic periodic fixture omat_cu_triclinic (12 atoms, every tilt factor non-zero after the
rotation into LAMMPS's frame):
  * forces: F_i,a = -(E(x_i,a + h) - E(x_i,a - h)) / 2h with displace_atoms, h = 1e-4 A, for two
    atoms (a Cu and an Au) and all three directions;
  * stress: each of the six box parameters (lx, ly, lz, xy, xz, yz) is changed by +-delta (2e-5) with
    change_box ... remap (fractional coordinates kept), which is the affine map
    r -> r (I + G), G = H^-1 H' - I (row vectors, H = box rows). To first order
    dE = V sum_ab sigma_ab G_ab with sigma = -P / nktv2p (P from compute pressure NULL virial),
    so (E+ - E-)/2 is compared with V sigma:G.
Central differences have O(h^2) truncation; the tolerances (1e-6 relative to max|F| and to
V max|sigma| |G|) are ~60x above the measured errors and ~1e5x below what a missing term (a
wrong sign, a missing periodic-image contribution) gives.
"""
import numpy as np

import harness as h

H_DISP = 1e-4       # A
DELTA = 2e-5        # relative change of each box parameter (tilts: times the box length)
RTOL_F = 1e-6
RTOL_S = 1e-6
ATOMS = (1, 2)      # ids: Cu, Au


def main():
    args = h.parse_args(lambda p: p.add_argument("--fixture", default="omat_cu_triclinic",
                                                 help="periodic fixture to differentiate"))
    fails = h.Failures()
    fx = h.load_fixture(args, args.fixture)
    print(f"fixture {args.fixture}: task {fx['task']}, charge {fx['charge']}, {len(fx['numbers'])} atoms")
    frame = h.write_data(fx, f"{args.workdir}/fd.data", shift=(0.3, 0.2, -0.4))
    # box rows in the LAMMPS frame, from the data file
    words = [line.split() for line in open(f"{args.workdir}/fd.data")]
    lo = {w[2][0]: float(w[0]) for w in words if len(w) == 4 and w[2].endswith("lo")}
    hi = {w[2][0]: float(w[1]) for w in words if len(w) == 4 and w[2].endswith("lo")}
    tilt = [list(map(float, w[:3])) for w in words if w[3:] == ["xy", "xz", "yz"]][0]
    box = dict(lx=hi["x"] - lo["x"], ly=hi["y"] - lo["y"], lz=hi["z"] - lo["z"],
               xy=tilt[0], xz=tilt[1], yz=tilt[2])

    def rows(b):
        return np.array([[b["lx"], 0, 0], [b["xy"], b["ly"], 0], [b["xz"], b["yz"], b["lz"]]])

    def change_box(b):
        return (f"change_box all x final {lo['x']:.17g} {lo['x'] + b['lx']:.17g} "
                f"y final {lo['y']:.17g} {lo['y'] + b['ly']:.17g} "
                f"z final {lo['z']:.17g} {lo['z'] + b['lz']:.17g} "
                f"xy final {b['xy']:.17g} xz final {b['xz']:.17g} yz final {b['yz']:.17g} "
                "remap units box\n")

    deck = ("units metal\natom_style atomic\nboundary p p p\nbox tilt large\nread_data fd.data\n"
            + h.pair_lines(args, fx, frame) + h.MEASURE + h.dump_lines("fd_base", 1000000)
            + "run 0\nundump fd_base\n")
    # forces: +h, -h, back
    for i in ATOMS:
        deck += f"group a{i} id {i}\n"
        for d in range(3):
            v = [0.0, 0.0, 0.0]
            v[d] = H_DISP
            mv = " ".join(f"{x:.17g}" for x in v)
            mv2 = " ".join(f"{-2 * x:.17g}" for x in v)
            deck += (f"displace_atoms a{i} move {mv} units box\nrun 0\n"
                     f"displace_atoms a{i} move {mv2} units box\nrun 0\n"
                     f"displace_atoms a{i} move {mv} units box\n")
    # strains: +delta, -delta per box parameter, then back
    L = max(box["lx"], box["ly"], box["lz"])
    deforms = []
    for key in ("lx", "ly", "lz", "xy", "xz", "yz"):
        step = DELTA * (box[key] if key.startswith("l") else L)
        for sgn in (1, -1):
            b = dict(box)
            b[key] += sgn * step
            deck += change_box(b) + "run 0\n"
            deforms.append((key, sgn, b))
    deck += change_box(box) + "run 0\n"

    _, out = h.run_lmp(args, deck, "fd")
    ms = h.measures(out)
    base = ms[0]
    f0 = h.dump_forces(f"{args.workdir}/fd_base.dump")
    fscale = np.abs(f0).max()
    k = 1
    worst_f = 0.0
    for i in ATOMS:
        for d in range(3):
            ep, em = ms[k]["PotEng"], ms[k + 1]["PotEng"]
            k += 2
            fd = -(ep - em) / (2 * H_DISP)
            err = abs(fd - f0[i - 1, d])
            worst_f = max(worst_f, err)
            fails.close(err / fscale, RTOL_F, f"force atom {i} {'xyz'[d]}: analytic "
                        f"{f0[i - 1, d]:+.10f}, central difference {fd:+.10f} eV/A, |diff| "
                        f"{err:.2e}", f", relative to max|F| = {fscale:.3g}")
    H0 = rows(box)
    V = abs(np.linalg.det(H0))
    sigma = -h.pressure_tensor(base) / h.NKTV2P_METAL
    worst_s = 0.0
    for key in ("lx", "ly", "lz", "xy", "xz", "yz"):
        ep, em = ms[k]["PotEng"], ms[k + 1]["PotEng"]
        G = np.linalg.solve(H0, rows(deforms[k - 1 - 6 * len(ATOMS)][2])) - np.eye(3)
        k += 2
        fd = (ep - em) / 2
        pred = V * float(np.sum(sigma * G))
        scale = V * np.abs(sigma).max() * np.abs(G).max()
        err = abs(fd - pred)
        worst_s = max(worst_s, err / scale)
        fails.close(err / scale, RTOL_S, f"strain {key}: V sigma:G {pred:+.6e} eV, central "
                    f"difference {fd:+.6e} eV", f", relative to V max|sigma| max|G| = {scale:.3g}")
    e_back = ms[k]["PotEng"]
    fails.close(abs(e_back - base["PotEng"]) / abs(base["PotEng"]), 1e-12,
                "energy after all displacements and box changes are undone")
    print(f"\nworst force error {worst_f:.2e} eV/A ({worst_f / fscale:.2e} of max|F|); "
          f"worst strain error {worst_s:.2e} of V max|sigma| |G|")
    return fails.report()


if __name__ == "__main__":
    h.main_guard(main)
