// Host launchers of the fused gate + conv-2 forward (K2's prologue; gate_conv2_params.h) on Hopper, on two hosts:
// gate_conv2_tf32, three launches of the hand-written TF32 GEMM that rounds in registers
// (kernels/gemm/hopper/tf32_rs_wgmma_kernel.cuh) with the edge gate as its A producer, one per m-group; and
// gate_conv2_tf32_tma (below), CUTLASS's TMA pipeline with the gate's factors as a third operand. fp32 only, TF32
// operands (p.tf32_operands is implied). Enqueue on `stream` without synchronising; no allocation (CUDA-graph
// capturable); deterministic.
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

// K2's forward on the TMA host (kernels/gemm/hopper/tf32_tma_gated_mainloop.cuh): the gate's factors
// (edge_gate_params.h EdgeGateFactorsParams) into `workspace`, then one gated TMA GEMM per m-group, each A element
// multiplied by its factor and rounded to TF32 on its way into registers: the edge gate kernel's output stored rounded,
// without that [E, 9, H] tensor. B is read as stored: the weights must be rounded to TF32 already (the engine rounds its
// GEMM weights once, engine/nn/tf32_weights.h), and then the products are those of the rounded operands, like
// gate_conv2_tf32's. workspace: gate_conv2_tma_workspace_floats(p) floats, 16-byte aligned, owned by the caller for the
// duration of the enqueued work. Enqueues without synchronising; no allocation (CUDA-graph capturable); deterministic.
int64_t gate_conv2_tma_workspace_floats(const GateConv2Params<float>& p);

// Whether gate_conv2_tf32_tma takes these operands: gate_conv2_tf32_supported's rules, and every GEMM's for the TMA
// kernel (hopper/tf32_tma_gemm_launch.h tf32_gemm_tma_supported).
bool gate_conv2_tf32_tma_supported(const GateConv2Params<float>& p);

// Throws std::invalid_argument for operands gate_conv2_tf32_tma_supported refuses (or a misaligned workspace),
// std::runtime_error when a launch fails. n_edges == 0 enqueues nothing.
void gate_conv2_tf32_tma(const GateConv2Params<float>& p, float* workspace, cudaStream_t stream);

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_EDGE_BLOCK_GATE_CONV2_LAUNCH_H
