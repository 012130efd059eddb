// The fused gate + conv-2 forward on Hopper (edge_block/gate_conv2_launch.h): one gated RS TF32 GEMM per m-group.
// Compiled for sm_90a only (CMakeLists.txt here).
#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/edge_block/gate_conv2_groups.h"
#include "kernels/edge_block/gate_conv2_launch.h"
#include "kernels/gemm/split_tf32_gemm_launch.h"
#include "tf32_rs_wgmma_launch.h"

namespace uma {
namespace kernels {
namespace {

hopper::GateOperand group_gate(const GateConv2Params<float>& p, int g) {
  hopper::GateOperand gate;
  gate.logits = p.m0g;
  gate.ld = p.ld;
  gate.channels = static_cast<int>(p.channels);
  gate.group = g;
  return gate;
}

}  // namespace

bool gate_conv2_tf32_supported(const GateConv2Params<float>& p) {
  if (!gate_conv2_operands_valid(p)) return false;
  for (int g = 0; g < kMGroups; ++g) {
    SplitTf32GemmParams q = gate_conv2_group_gemm(p, g, g == 0 ? p.bias0 : nullptr);
    if (q.m == 0) q.m = 1;  // the alignment and size rules, also for an empty batch
    if (!hopper::tf32_gemm_rs_supported(q)) return false;
  }
  return true;
}

void gate_conv2_tf32(const GateConv2Params<float>& p, cudaStream_t stream) {
  if (!gate_conv2_tf32_supported(p))
    throw std::invalid_argument("gate_conv2_tf32: operands not supported (edges=" + std::to_string(p.n_edges) +
                                " H=" + std::to_string(p.channels) + " ld=" + std::to_string(p.ld) +
                                "; needs a compute-capability 9.0 GPU, H a multiple of 32, 16-byte aligned pointers "
                                "and ld, n_g multiples of 4)");
  if (p.n_edges == 0) return;
  for (int g = 0; g < kMGroups; ++g)
    hopper::tf32_gemm_rs_gated(gate_conv2_group_gemm(p, g, g == 0 ? p.bias0 : nullptr), group_gate(p, g), stream);
}

}  // namespace kernels
}  // namespace uma
