// Plain C++ CPU reference of radial_gather (radial_gather_params.h), host pointers: the truth the GPU kernel is tested
// against. The scale from the formula, summed in double (with tf32_operands, hidden and W rounded to TF32 first, as
// the kernel's tensor cores take them) and stored in fp32; then gather_rotate_fwd_reference with that scale; then,
// where p.gather.round_tf32, every output rounded to TF32 (kernels/gemm/tf32_round.h). Throws std::invalid_argument
// for what the kernel refuses (radial_gather_refusal) and for gather_rotate_fwd_reference's bad inputs.
#ifndef UMA_KERNELS_RADIAL_GATHER_REFERENCE_H
#define UMA_KERNELS_RADIAL_GATHER_REFERENCE_H

#include "radial_gather_params.h"

namespace uma {
namespace kernels {

void radial_gather_reference(const RadialGatherParams& p, bool tf32_operands);

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_RADIAL_GATHER_REFERENCE_H
