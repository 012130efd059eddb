#include "engine/nn/fp32_gemm.h"

#include <cstdlib>
#include <cstring>
#include <string>

#include "model/errors.h"

#ifdef UMA_HAVE_CUDA_KERNELS
#include "engine/nn/tensor_core_linear.h"
#endif

namespace uma {

const char* fp32_gemm_name(Fp32Gemm mode) {
  switch (mode) {
    case Fp32Gemm::strict: return "strict";
    case Fp32Gemm::split_tf32: return "split-tf32";
    case Fp32Gemm::tf32: return "tf32";
  }
  return "?";
}

// An unknown value is refused rather than ignored: a benchmark that meant another kernel must not silently measure
// cuBLAS.
Tf32GemmKernel tf32_gemm_kernel_requested() {
  static const Tf32GemmKernel kernel = [] {
    const char* v = std::getenv("UMA_TF32_GEMM");
    if (!v || !*v || std::strcmp(v, "hopper-rna") == 0) return Tf32GemmKernel::hopper_tma_rna;
    if (std::strcmp(v, "cublas") == 0) return Tf32GemmKernel::cublas;
    if (std::strcmp(v, "hopper") == 0) return Tf32GemmKernel::hopper_tma;
    if (std::strcmp(v, "rs") == 0) return Tf32GemmKernel::hopper_rs;
    throw Error(std::string("UMA_TF32_GEMM=") + v +
                " is not a TF32 GEMM kernel: use hopper-rna (the default), cublas, hopper or rs");
  }();
  return kernel;
}

const char* tf32_gemm_kernel_name(Tf32GemmKernel kernel) {
  switch (kernel) {
    case Tf32GemmKernel::cublas: return "cublas";
    case Tf32GemmKernel::hopper_tma: return "hopper";
    case Tf32GemmKernel::hopper_rs: return "rs";
    case Tf32GemmKernel::hopper_tma_rna: return "hopper-rna";
  }
  return "?";
}

torch::Tensor linear_in_mode(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, Fp32Gemm mode,
                             Tf32Operands rounded) {
#ifdef UMA_HAVE_CUDA_KERNELS
  if (mode == Fp32Gemm::split_tf32 && x.is_cuda() && x.scalar_type() == torch::kFloat32)
    return fused::split_tf32_linear(x, w, b);
  // tf32 on an H100/H200 on one of the Hopper kernels (UMA_TF32_GEMM; cuBLAS elsewhere or with =cublas):
  //  - hopper-rna, the default: the TMA GEMM's pipeline with A rounded on its way into registers (CUTLASS's RS
  //    mainloop) and the weights rounded once at load (tf32_weights.h): the products of cuBLAS's rounded operands,
  //    as accurate as cuBLAS on the fairchem fixtures (1.6e-3 eV/atom against fp64, cuBLAS 1.5e-3) and faster: one
  //    layer's 18 GEMMs 3.23 ms against 3.50, end to end 1.02-1.03x at carbon 2000 (H100,
  //    benchmarks/results/2026-12-07-h100-tma-rna.md);
  //  - hopper: the CUTLASS TMA GEMM (kernels/gemm/hopper/tf32_tma_gemm_kernel.cuh). 1.07x cuBLAS's speed end to end
  //    at carbon 2000 (1.14x on one layer's 18 GEMMs), but its tensor cores read the fp32 operands truncated to TF32
  //    where cuBLAS rounds them, and truncation errs the same way in every product: 2-7e-3 eV/atom against fp64
  //    where cuBLAS gives 1.5e-3 (benchmarks/results/2026-12-06-h100-tf32-tma-gemm.md, 2026-12-07-h100-rs-gemm-k2.md);
  //  - rs: the wgmma GEMM that rounds both operands in registers (tf32_rs_wgmma_kernel.cuh), cuBLAS's accuracy, and
  //    K2's fused gate + conv 2 on it; the host of the fused edge-block kernels, whose A operand is computed in
  //    registers. As it stands 2x slower than cuBLAS (2026-12-07-h100-tma-rna.md): for tests and its own work.
  if (mode == Fp32Gemm::tf32 && x.is_cuda() && x.scalar_type() == torch::kFloat32 && fused::tf32_linear_available()) {
    switch (tf32_gemm_kernel_requested()) {
      case Tf32GemmKernel::hopper_tma: return fused::tf32_linear(x, w, b);
      case Tf32GemmKernel::hopper_rs: return fused::tf32_rs_linear(x, w, b);
      case Tf32GemmKernel::hopper_tma_rna:
        return fused::tf32_rna_linear(x, w, b, rounded.input_rounded, rounded.grad_rounded);
      case Tf32GemmKernel::cublas: break;
    }
  }
#endif
  (void)rounded;  // exact fp32 or cuBLAS: its operands go in as they are
  return torch::nn::functional::linear(x, w, b);
}

}  // namespace uma
