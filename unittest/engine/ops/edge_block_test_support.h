// Shared by the CPU tests of the fused edge-block references (test_gather_conv1, test_gate_conv2): the one-GEMM
// block weight of an m > 0 SO(2) convolution and the relative difference both tests report.
#ifndef UMA_TEST_EDGE_BLOCK_TEST_SUPPORT_H
#define UMA_TEST_EDGE_BLOCK_TEST_SUPPORT_H

#include <torch/torch.h>

namespace edge_block_test {

// [W1; W2] (rows: out_real from x_+m, out_imag from x_+m) -> [[W1, -W2], [W2, W1]] on [x_+m | x_-m]
// (layers.h MixedLinear::block_weight), built here independently of the engine's loader.
inline torch::Tensor block_weight(const torch::Tensor& w) {
  auto halves = w.chunk(2, 0);
  return torch::cat({torch::cat({halves[0], -halves[1]}, 1), torch::cat({halves[1], halves[0]}, 1)}, 0).contiguous();
}

// max |got - want| / max |want|, in fp64.
inline double rel_diff(const torch::Tensor& got, const torch::Tensor& want) {
  return ((got.to(torch::kFloat64) - want.to(torch::kFloat64)).abs().max() / want.to(torch::kFloat64).abs().max())
      .item<double>();
}

}  // namespace edge_block_test

#endif  // UMA_TEST_EDGE_BLOCK_TEST_SUPPORT_H
