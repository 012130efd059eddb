"""lammps_errors: each bad input stops LAMMPS with the expected ERROR line, cleanly.

The equivalent of LAMMPS's TEST_FAILURE death tests: every case runs its own lmp on a two-atom
box (types C and H) and must (1) exit with a non-zero status, (2) print a line starting with
"ERROR:" (or "ERROR on proc N:") that contains the expected fragment, and (3) show no sign of a
crash (signal, segmentation fault, abort, std::terminate). A case that cannot apply on this
machine (device cuda where a GPU is present) is reported as skipped.
"""
import os
import re
import shutil
import subprocess

import harness as h

# (mpirun's normal "the job has been aborted" after an ERROR is not a crash marker)
CRASH = re.compile(r"Segmentation fault|[Ss]ignal \d+|Signal: |SIGSEGV|SIGABRT|Aborted \(core|"
                   r"terminate called|core dumped|munmap_chunk|double free")


def gpu_present():
    if not shutil.which("nvidia-smi"):
        return False
    try:
        p = subprocess.run(["nvidia-smi", "-L"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True, timeout=30)
        return p.returncode == 0 and "GPU" in p.stdout
    except Exception:
        return False


def write_edited_model(model, path, tensor, value):
    """A copy of model (safetensors layout: 8-byte header length, JSON header with data_offsets) with
    every value of one tensor set to `value` (float, e.g. nan or 1e308), re-signed: tensor_data_sha256 in
    the metadata is recomputed, so the file passes the integrity check and reaches the later checks."""
    import hashlib
    import json
    import struct
    with open(model, "rb") as f:
        blob = f.read()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    data = bytearray(blob[8 + n:])
    t = header[tensor]
    fmt = {"F16": "<e", "F32": "<f", "F64": "<d"}[t["dtype"]]
    one = struct.pack(fmt, value)
    begin, end = t["data_offsets"]
    data[begin:end] = one * ((end - begin) // len(one))
    meta = json.loads(header["__metadata__"]["uma"])
    meta["tensor_data_sha256"] = hashlib.sha256(bytes(data)).hexdigest()
    header["__metadata__"]["uma"] = json.dumps(meta, sort_keys=True, separators=(",", ":"))
    h = json.dumps(header, separators=(",", ":")).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + bytes(data))


def main():
    args = h.parse_args(lambda p: p.add_argument("--plugin-plain", default=None))
    fails = h.Failures()
    m = args.model
    trunc = os.path.join(args.workdir, "truncated.uma")
    with open(m, "rb") as src, open(trunc, "wb") as dst:
        dst.write(src.read(4096))

    def deck(style="pair_style uma task omol", coeff=f"pair_coeff * * {m} C H", units="metal",
             pre="", run="run 0"):
        return (f"units {units}\natom_style atomic\nboundary f f f\n{pre}"
                "region box block -5 5 -5 5 -5 5\ncreate_box 2 box\n"
                "create_atoms 1 single 0 0 0\ncreate_atoms 2 single 1.1 0 0\nmass * 1.0\n"
                f"plugin load {args.plugin}\n{style}\n{coeff}\n{run}\n")

    cases = [
        ("element_not_in_model", deck(coeff=f"pair_coeff * * {m} C Og"), None,
         "pair_coeff for uma: element 'Og' (LAMMPS type 2) is not in model"),
        ("not_an_element", deck(coeff=f"pair_coeff * * {m} C Xx"), None,
         "pair_coeff for uma: 'Xx' (LAMMPS type 2) is not an element symbol"),
        ("missing_model_file", deck(coeff="pair_coeff * * /nonexistent/model.uma C H"), None,
         "pair_coeff for uma: cannot load model '/nonexistent/model.uma'"),
        ("truncated_model_file", deck(coeff=f"pair_coeff * * {trunc} C H"), None,
         f"pair_coeff for uma: cannot load model '{trunc}'"),
        ("bad_keyword", deck(style="pair_style uma task omol colour blue"), None,
         "pair_style uma: unknown keyword 'colour'"),
        ("keyword_without_value", deck(style="pair_style uma task omol charge"), None,
         "pair_style uma: keyword 'charge' needs a value"),
        ("bad_precision", deck(style="pair_style uma task omol precision fp16"), None,
         "pair_style uma: expected fp32 or fp64 after 'precision', got 'fp16'"),
        ("bad_halo", deck(style="pair_style uma task omol halo wide"), None,
         "pair_style uma: expected auto, shell, fold or exchange after 'halo', got 'wide'"),
        ("bad_halo_comm", deck(style="pair_style uma task omol halo_comm nvlink"), None,
         "pair_style uma: expected auto, lammps, mpi or nccl after 'halo_comm', got 'nvlink'"),
        ("halo_comm_with_shell", deck(style="pair_style uma task omol halo shell halo_comm mpi"), None,
         "pair_style uma: 'halo_comm mpi' chooses how 'halo exchange' moves rows, and halo is 'shell'"),
        # this CPU build has no NCCL (and no GPU): the first check that applies names the fix
        ("halo_comm_nccl_cpu", deck(style="pair_style uma task omol halo exchange halo_comm nccl"), None,
         ("pair_style uma: 'halo_comm nccl' needs a plugin built with NCCL",
          "pair_style uma: 'halo_comm nccl' moves node features between GPUs")),
        ("bad_chunk", deck(style="pair_style uma task omol chunk -5"), None,
         "pair_style uma: expected auto, off or a positive number of edges after 'chunk', got '-5'"),
        ("bad_recompute", deck(style="pair_style uma task omol recompute always"), None,
         "pair_style uma: expected auto, yes, radial or no after 'recompute', got 'always'"),
        ("bad_graphs", deck(style="pair_style uma task omol graphs maybe"), None,
         "pair_style uma: expected auto, yes or no after 'graphs', got 'maybe'"),
        ("bad_tf32", deck(style="pair_style uma task omol tf32 on"), None,
         "pair_style uma: expected no, split or yes after 'tf32', got 'on'"),
        ("tf32_with_fp64", deck(style="pair_style uma task omol precision fp64 tf32 yes"), None,
         "pair_style uma: 'tf32 yes' applies to precision fp32 only"),
        ("split_tf32_with_fp64", deck(style="pair_style uma task omol precision fp64 tf32 split"), None,
         "pair_style uma: 'tf32 split' applies to precision fp32 only"),
        ("deterministic_on_cpu", deck(style="pair_style uma task omol deterministic yes"), None,
         "pair_style uma: 'deterministic yes' applies to a network on a GPU"),
        ("non_integer_charge", deck(style="pair_style uma task omol charge 0.5"), None,
         "pair_style uma: expected an integer after 'charge', got '0.5'"),
        ("units_real", deck(units="real"), None, "pair_style uma requires 'units metal'"),
        ("missing_task", deck(style="pair_style uma"), None,
         "has several tasks"),
        ("unknown_task", deck(style="pair_style uma task omg"), None,
         "pair_style uma: task 'omg' is not in model"),
        ("charge_out_of_range", deck(style="pair_style uma task omol charge 1000"), None,
         "pair_style uma: charge 1000 is outside the range"),
        ("spin_out_of_range", deck(style="pair_style uma task omol spin 1000"), None,
         "pair_style uma: spin 1000 is outside the range"),
        ("wrong_number_of_elements", deck(coeff=f"pair_coeff * * {m} C H O"), None,
         "pair_coeff for uma: expected 2 element symbols or NULL (one per atom type) after the "
         "model file, got 3"),
        # one_coeff style: LAMMPS's input.cpp rejects anything but "* *" before the style sees it
        # (its wording: 29Sep2021 "Incorrect args ...", 4Feb2025 "Pair_coeff must start with * * ...")
        ("pair_coeff_not_star", deck(coeff=f"pair_coeff 1 1 {m} C H"), None,
         ("Incorrect args for pair coefficients", "Pair_coeff must start with * * for pair style uma")),
        ("newton_pair_off", deck(pre="newton off\n"), None,
         "pair_style uma requires newton pair on"),
        ("null_type_alone", deck(coeff=f"pair_coeff * * {m} C NULL"), None,
         "pair_coeff for uma: type 2 is NULL, but pair_style uma is used alone"),
        ("all_types_null", deck(style="pair_style hybrid/overlay uma task omol zero 3.0",
                                coeff=f"pair_coeff * * uma {m} NULL NULL\npair_coeff * * zero"),
         None, "pair_coeff for uma: every type is NULL"),
        ("no_pair_coeff", deck(coeff=""), None, "All pair coeffs are not set"),
        ("halo_fold_two_ranks", deck(style="pair_style uma task omol halo fold"), 2,
         "pair_style uma: 'halo fold' works on one MPI rank only, found 2 ranks"),
    ]
    # Issue 15: bad inputs and non-finite numbers end in one ERROR naming the atom(s) and the step.
    def cu_deck(body, pre="", plugin=None, model=None):
        return ("units metal\natom_style atomic\nboundary p p p\n" + pre +
                "lattice fcc 3.6\nregion box block 0 2 0 2 0 2\ncreate_box 1 box\n"
                "create_atoms 1 box\nmass * 63.5\n"
                f"plugin load {plugin or args.plugin}\npair_style uma task omat precision fp64\n"
                f"pair_coeff * * {model or m} Cu\n" + body)
    # NaN weights are refused when the file is loaded (its scan names the tensor); an element reference of
    # 1e308 eV is finite and loads, but 32 atoms of it sum to an infinite energy: the output guard's case.
    nan_model = os.path.join(args.workdir, "nan-weights.uma")
    write_edited_model(m, nan_model, "backbone.blocks.0.norm_1.affine_weight", float("nan"))
    inf_model = os.path.join(args.workdir, "huge-reference.uma")
    write_edited_model(m, inf_model, "tasks.omat.element_references", 1e308)
    cases += [
        # a NaN velocity makes NaN positions after the first step
        ("nan_velocity", cu_deck("variable bad atom (1e308*10)-(1e308*10)\nset atom 5 vx v_bad\n"
                                 "fix 1 all nve\nrun 3\n"), None,
         "pair_style uma: atom ID 5 has a non-finite position"),
        ("nan_weights", cu_deck("run 0\n", model=nan_model), None,
         "tensor 'backbone.blocks.0.norm_1.affine_weight' holds a NaN or Inf"),
        ("infinite_energy", cu_deck("run 0\n", model=inf_model), None,
         "pair_style uma: the model gave a non-finite energy (inf) at step 0"),
        ("coincident_atoms", deck(pre="", coeff=f"pair_coeff * * {m} C H\ncreate_atoms 2 single 0 0 0"),
         None, "pair_style uma: atoms ID 1 and ID 3 are at the same position"),
        ("dimension_2", "units metal\ndimension 2\natom_style atomic\nboundary p p p\n"
         "region box block -5 5 -5 5 -0.5 0.5\ncreate_box 2 box\ncreate_atoms 1 single 0 0 0\n"
         "create_atoms 2 single 1.1 0 0\nmass * 1.0\n"
         f"plugin load {args.plugin}\npair_style uma task omol\npair_coeff * * {m} C H\nrun 0\n",
         None, "pair_style uma requires 'dimension 3'"),
    ]
    # The plugin as built without Kokkos (umaplugin_plain.so of a Kokkos build): the Kokkos style
    # names say what is missing.
    if args.plugin_plain and os.path.exists(args.plugin_plain):
        for style in ("uma/kk", "uma/kk/host", "uma/gpu"):
            cases.append((f"{style.replace('/', '_')}_without_kokkos",
                          deck(style=f"pair_style {style} task omol").replace(
                              f"plugin load {args.plugin}", f"plugin load {args.plugin_plain}"),
                          None, f"pair_style {style}: this umaplugin.so was built without Kokkos; "
                          "rebuild it with -DUMA_ENABLE_KOKKOS=ON"))
    else:
        print("SKIP  uma/kk without Kokkos: no --plugin-plain (umaplugin_plain.so)")

    gpu = gpu_present()
    if not gpu:
        cases.append(("device_cuda_without_gpu", deck(style="pair_style uma task omol device cuda"),
                      None, "pair_style uma: 'device cuda' requested, but this LibTorch has no "
                      "usable CUDA device"))
    else:
        print("SKIP  device_cuda_without_gpu: a GPU is present on this machine")

    for name, text, np_, fragment in cases:
        rc, out = h.run_lmp(args, text, name, np_=np_ or 1, check=False, timeout=300)
        errs = [ln for ln in out.splitlines() if re.match(r"ERROR( on proc \d+)?:", ln)]
        crash = CRASH.search(out)
        # A tuple: LAMMPS's own message, worded differently by the LAMMPS versions tested.
        fragments = fragment if isinstance(fragment, tuple) else (fragment,)
        ok = rc != 0 and any(f in ln for ln in errs for f in fragments) and not crash
        detail = f"exit {rc}; " + (f"ERROR line: {errs[0]!r}" if errs else "no ERROR line")
        if crash:
            detail += f"; crash marker {crash.group(0)!r}"
        if not ok:
            detail += f"; expected fragment {fragment!r}; output tail:\n" + out[-1500:]
        fails.check(ok, f"{name}: {detail}")
    return fails.report()


if __name__ == "__main__":
    h.main_guard(main)
