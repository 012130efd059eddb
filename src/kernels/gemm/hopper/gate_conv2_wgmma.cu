// The fused gate + conv-2 forward on Hopper (edge_block/gate_conv2_launch.h): one gated RS TF32 GEMM per m-group.
// Compiled for sm_90a only (CMakeLists.txt here).
#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/edge_block/gate_conv2_launch.h"
#include "kernels/gemm/split_tf32_gemm_launch.h"
#include "tf32_rs_wgmma_launch.h"

namespace uma {
namespace kernels {
namespace {

// The GEMM of m-group g: A = its rows of conv 1's output (m = 0 from column 2H of m0g, after the gate logits).
SplitTf32GemmParams group_gemm(const GateConv2Params<float>& p, int g) {
  const int64_t H = p.channels;
  SplitTf32GemmParams q;
  q.m = p.n_edges;
  q.n = p.n[g];
  q.k = gate_conv2_k(g, H);
  q.a = g == 0 ? p.m0g + 2 * H : g == 1 ? p.m1 : p.m2;
  q.lda = g == 0 ? p.ld : q.k;
  q.b = p.weight[g];
  q.ldb = q.k;
  q.b_layout = GemmBLayout::kWeightRows;
  q.bias = g == 0 ? p.bias0 : nullptr;
  q.d = p.y[g];
  q.ldd = q.n;
  return q;
}

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
  if (p.channels <= 0 || p.channels % 32 != 0 || p.channels > (1 << 20) || p.n_edges < 0 || !p.m0g || !p.m1 ||
      !p.m2 || p.ld < 5 * p.channels || p.ld % 4 != 0 || reinterpret_cast<uintptr_t>(p.m0g) % 16 != 0)
    return false;
  for (int g = 0; g < kMGroups; ++g) {
    if (!p.weight[g] || !p.y[g] || p.n[g] <= 0) return false;
    SplitTf32GemmParams q = group_gemm(p, g);
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
  for (int g = 0; g < kMGroups; ++g) hopper::tf32_gemm_rs_gated(group_gemm(p, g), group_gate(p, g), stream);
}

}  // namespace kernels
}  // namespace uma
