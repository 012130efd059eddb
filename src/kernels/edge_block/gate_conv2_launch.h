// Host launcher of the fused gate + conv-2 forward (K2's prologue; gate_conv2_params.h) on Hopper: three launches
// of the TF32 GEMM that rounds in registers (kernels/gemm/hopper/tf32_rs_wgmma_kernel.cuh) with the edge gate as its
// A producer, one per m-group. fp32 only, TF32 operands (p.tf32_operands is implied). Enqueues on `stream` without
// synchronising; no allocation (CUDA-graph capturable); deterministic.
#ifndef UMA_KERNELS_EDGE_BLOCK_GATE_CONV2_LAUNCH_H
#define UMA_KERNELS_EDGE_BLOCK_GATE_CONV2_LAUNCH_H

#include <cuda_runtime_api.h>

#include "gate_conv2_params.h"

namespace uma {
namespace kernels {

// Whether the kernel takes these operands: a compute-capability 9.0 device, H a multiple of 32, every pointer
// 16-byte aligned, ld, n_g multiples of 4, the weights dense ([n_g][m_group_rows(g) * H]).
bool gate_conv2_tf32_supported(const GateConv2Params<float>& p);

// Throws std::invalid_argument for operands gate_conv2_tf32_supported refuses, std::runtime_error when a launch
// fails. n_edges == 0 enqueues nothing.
void gate_conv2_tf32(const GateConv2Params<float>& p, cudaStream_t stream);

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_EDGE_BLOCK_GATE_CONV2_LAUNCH_H
