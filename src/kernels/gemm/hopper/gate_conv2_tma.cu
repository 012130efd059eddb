// K2's forward on the TMA host (edge_block/gate_conv2_launch.h gate_conv2_tf32_tma): the gate factors kernel, then one
// gated TMA GEMM per m-group (tf32_tma_gated_mainloop.cuh). Compiled for sm_90a only (CMakeLists.txt here).
//
// One instantiation (the bias form) for all three groups: each CUTLASS instantiation costs ~1.5-3 min of nvcc in
// every build, and groups 1 and 2 take a bias of zeros from the workspace instead. That changes no bit: the epilogue
// forms 1 * acc + 0, exact in fp32 (only a -0 sum becomes +0, the same number).
#include <cuda_runtime_api.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/edge_block/gate_conv2_groups.h"
#include "kernels/edge_block/gate_conv2_launch.h"
#include "kernels/edge_gate/edge_gate_launch.h"
#include "kernels/gemm/split_tf32_gemm_launch.h"
#include "tf32_tma_gated_mainloop.cuh"
#include "tf32_tma_gemm_launch.h"

namespace uma {
namespace kernels {
namespace {

// The factor rows' degrees per m-group (edge_gate_params.h): group 0 rows are degrees 0, 1, 2; group 1's are
// kGateDegreeOfM1Row; group 2's are 2, 2.
hopper::GateTileMap tile_map(int g, int64_t H) {
  hopper::GateTileMap m;
  m.tiles_per_row = static_cast<int>(H / 32);
  const int degrees[3][4] = {{0, 1, 2, 0},
                             {kGateDegreeOfM1Row[0], kGateDegreeOfM1Row[1], kGateDegreeOfM1Row[2], kGateDegreeOfM1Row[3]},
                             {2, 2, 0, 0}};
  for (int r = 0; r < 4; ++r) m.degree_of_row[r] = degrees[g][r];
  return m;
}

// The bias of m-group g: bias0 for g = 0 where there is one, the workspace's zeros otherwise.
const float* group_bias(const GateConv2Params<float>& p, int g, const float* zeros) {
  return g == 0 && p.bias0 ? p.bias0 : zeros;
}

int64_t factor_floats(const GateConv2Params<float>& p) { return p.n_edges * 3 * p.channels; }

int64_t zero_floats(const GateConv2Params<float>& p) {
  int64_t n = 0;
  for (int g = 0; g < kMGroups; ++g) n = n > p.n[g] ? n : p.n[g];
  return (n + 3) / 4 * 4;
}

}  // namespace

int64_t gate_conv2_tma_workspace_floats(const GateConv2Params<float>& p) { return factor_floats(p) + zero_floats(p); }

bool gate_conv2_tf32_tma_supported(const GateConv2Params<float>& p) {
  if (!gate_conv2_operands_valid(p)) return false;
  alignas(16) static const float kAligned[4] = {0, 0, 0, 0};  // stands for the workspace in the rules' check
  for (int g = 0; g < kMGroups; ++g) {
    SplitTf32GemmParams q = gate_conv2_group_gemm(p, g, group_bias(p, g, kAligned));
    if (q.m == 0) q.m = 1;  // the alignment and size rules, also for an empty batch
    if (!hopper::tf32_gemm_tma_supported(q)) return false;
  }
  return true;
}

void gate_conv2_tf32_tma(const GateConv2Params<float>& p, float* workspace, cudaStream_t stream) {
  if (!gate_conv2_tf32_tma_supported(p) || !workspace || reinterpret_cast<uintptr_t>(workspace) % 16 != 0)
    throw std::invalid_argument("gate_conv2_tf32_tma: operands not supported (edges=" + std::to_string(p.n_edges) +
                                " H=" + std::to_string(p.channels) + " ld=" + std::to_string(p.ld) +
                                "; needs a compute-capability 9.0 GPU, H a multiple of 32, 16-byte aligned pointers "
                                "and workspace, ld, n_g multiples of 4)");
  if (p.n_edges == 0) return;
  float* factors = workspace;
  float* zeros = workspace + factor_floats(p);
  if (cudaMemsetAsync(zeros, 0, sizeof(float) * zero_floats(p), stream) != cudaSuccess)
    throw std::runtime_error("gate_conv2_tf32_tma: cudaMemsetAsync of the zero bias failed");
  EdgeGateFactorsParams<float> f;
  f.m0g = p.m0g;
  f.ld = p.ld;
  f.factors = factors;
  f.n_edges = p.n_edges;
  f.channels = p.channels;
  edge_gate_factors(f, stream);
  const int sms = hopper::current_device_sms("gate_conv2_tf32_tma");
  for (int g = 0; g < kMGroups; ++g) {
    hopper::GateFactors gf;
    gf.s = factors;
    gf.ldg = 3 * p.channels;
    gf.g_columns = 3 * p.channels;
    gf.map = tile_map(g, p.channels);
    hopper::run_gated_tf32_tma_gemm<hopper::GatedTf32TmaGemm<true>>(
        gate_conv2_group_gemm(p, g, group_bias(p, g, zeros)), gf, sms, stream);
  }
}

}  // namespace kernels
}  // namespace uma
