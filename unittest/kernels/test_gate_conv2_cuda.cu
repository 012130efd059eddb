// The fused gate + conv-2 forward on Hopper (src/kernels/edge_block/gate_conv2_launch.h, K2's prologue), on both of
// its hosts, on a GPU against its CPU reference with TF32-rounded operands (gate_conv2_reference.h): the engine's
// sizes (H = C = 128, edges not a multiple of the 128-row tile, a padded m0g row as conv 1's GEMM leaves it) and a
// small H = 32 case; zero edges; refusal of what it cannot take. Skipped without a compute-capability 9.0 GPU.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <vector>

#include "gemm_test_gpu.h"
#include "kernels/edge_block/gate_conv2_launch.h"
#include "kernels/edge_block/gate_conv2_reference.h"
#include "kernels/edge_gate/edge_gate_reference.h"
#include "kernels/gemm/split_tf32_gemm_launch.h"
#include "kernels/gemm/tf32_round.h"

namespace k = uma::kernels;
using split_tf32_test::have_hopper;
using split_tf32_test::to_device;

namespace {

struct Problem {
  int64_t E, H, C, ld;
  std::vector<float> m0g, m1, m2, w[3], bias0;
  int64_t n[3];
  Problem(int64_t E_, int64_t H_, int64_t C_, unsigned seed) : E(E_), H(H_), C(C_), ld(5 * H_ + 4) {
    std::mt19937 gen(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    auto fill = [&](std::vector<float>& v, size_t size, float scale) {
      v.resize(std::max<size_t>(size, 1));
      for (auto& x : v) x = normal(gen) * scale;
    };
    fill(m0g, E * ld, 1.5f);  // logits and m = 0 rows (and the padding, which must not matter)
    fill(m1, E * 4 * H, 1.0f);
    fill(m2, E * 2 * H, 1.0f);
    n[0] = 3 * C; n[1] = 4 * C; n[2] = 2 * C;
    for (int g = 0; g < 3; ++g) fill(w[g], n[g] * k::gate_conv2_k(g, H), 0.1f);
    fill(bias0, n[0], 1.0f);
  }
  k::GateConv2Params<float> params(const float* pm0g, const float* pm1, const float* pm2, const float* const pw[3],
                                   const float* pb, float* const py[3]) const {
    k::GateConv2Params<float> p;
    p.m0g = pm0g; p.ld = ld; p.m1 = pm1; p.m2 = pm2;
    p.n_edges = E; p.channels = H;
    for (int g = 0; g < 3; ++g) { p.weight[g] = pw[g]; p.n[g] = n[g]; p.y[g] = py[g]; }
    p.bias0 = pb;
    return p;
  }
};

// sum_k |round(a)| |round(w)| (+ |bias|) per output: the scale fp32 summation errors are relative to.
std::vector<double> scales(const Problem& p, int g) {
  std::vector<float> gated[3];
  k::EdgeGateFwdParams<float> gate;
  gate.m0g = p.m0g.data(); gate.ld = p.ld; gate.m1 = p.m1.data(); gate.m2 = p.m2.data();
  gate.n_edges = p.E; gate.channels = p.H;
  for (int i = 0; i < 3; ++i) gated[i].resize(std::max<int64_t>(p.E * k::gate_conv2_k(i, p.H), 1));
  gate.out0 = gated[0].data(); gate.out1 = gated[1].data(); gate.out2 = gated[2].data();
  k::edge_gate_fwd_reference(gate);
  const int64_t K = k::gate_conv2_k(g, p.H);
  std::vector<double> s(p.E * p.n[g]);
  for (int64_t e = 0; e < p.E; ++e)
    for (int64_t j = 0; j < p.n[g]; ++j) {
      double sum = g == 0 ? std::abs(p.bias0[j]) : 0.0;
      for (int64_t kk = 0; kk < K; ++kk)
        sum += std::abs(double(k::tf32_round(gated[g][e * K + kk])) * double(k::tf32_round(p.w[g][j * K + kk])));
      s[e * p.n[g] + j] = sum;
    }
  return s;
}

// The two hosts of K2: the hand-written RS GEMM and the TMA pipeline with the gate factors (gate_conv2_launch.h).
enum class Host { kRs, kTma };
const char* name_of(Host h) { return h == Host::kRs ? "rs" : "tma"; }

// The outputs of the three GEMMs on the GPU (they start at -1, so an output never written shows). The TMA host reads
// the weights as stored, so it gets them rounded to TF32, as the engine keeps them (the reference rounds them too).
std::vector<std::vector<float>> run_on_gpu(const Problem& p, Host host) {
  float *m0g = to_device(p.m0g), *m1 = to_device(p.m1), *m2 = to_device(p.m2), *b = to_device(p.bias0);
  float* w[3];
  float* y[3];
  std::vector<std::vector<float>> out(3);
  for (int g = 0; g < 3; ++g) {
    std::vector<float> wg = p.w[g];
    if (host == Host::kTma)
      for (auto& x : wg) x = k::tf32_round(x);
    w[g] = to_device(wg);
    out[g].assign(p.E * p.n[g], -1.0f);
    y[g] = to_device(out[g]);
  }
  const auto params = p.params(m0g, m1, m2, w, b, y);
  if (host == Host::kTma) {
    float* workspace = to_device(std::vector<float>(std::max<int64_t>(k::gate_conv2_tma_workspace_floats(params), 1)));
    k::gate_conv2_tf32_tma(params, workspace, nullptr);
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    cudaFree(workspace);
  } else {
    k::gate_conv2_tf32(params, nullptr);
  }
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  for (int g = 0; g < 3; ++g) {
    if (!out[g].empty()) cudaMemcpy(out[g].data(), y[g], sizeof(float) * out[g].size(), cudaMemcpyDeviceToHost);
    cudaFree(w[g]);
    cudaFree(y[g]);
  }
  cudaFree(m0g); cudaFree(m1); cudaFree(m2); cudaFree(b);
  return out;
}

// Against the reference with TF32-rounded operands: products of TF32 values are exact in fp32, so the fp32
// summation differs (wgmma's truncating adds; ~7e-7 of sum |a||w| for the plain kernel, Tf32RsWgmmaCuda), and so
// does the gated value itself: the GPU's expf and the host's differ by an ulp or two, and where that puts a gated
// value on the other side of a TF32 rounding boundary, that element moves by 2^-10 of itself. One such flip on an
// element of ~10x the average |a w| in K = 384 is ~2.5e-5 of the scale: measured worst 1.8-3.8e-5 at E = 1000,
// H = 128 (H100, 2026-12-07), 1e-7 at H = 32. 2^-12 (2.4e-4) bounds that with room; a wrong row, degree, logit
// column or m-group is O(1). (Whether operands are rounded at all is Tf32RsWgmmaCuda's test: same code.)
constexpr double kBound = 1.0 / (1 << 12);

}  // namespace

// Both hosts: the same reference and bound (the TMA host forms the same rounded products, tf32_round(x * sigma)).
TEST(GateConv2Cuda, MatchesTheTf32ReferenceOnEngineAndSmallSizes) {
  if (!have_hopper()) GTEST_SKIP() << "no compute-capability 9.0 GPU";
  const Problem problems[] = {Problem(1000, 128, 128, 3), Problem(3, 32, 8, 4)};
  for (const Host host : {Host::kRs, Host::kTma}) {
    for (const auto& p : problems) {
      const auto got = run_on_gpu(p, host);
      std::vector<std::vector<float>> want(3);
      const float* w[3] = {p.w[0].data(), p.w[1].data(), p.w[2].data()};
      float* y[3];
      for (int g = 0; g < 3; ++g) {
        want[g].assign(p.E * p.n[g], 0.0f);
        y[g] = want[g].data();
      }
      auto q = p.params(p.m0g.data(), p.m1.data(), p.m2.data(), w, p.bias0.data(), y);
      q.tf32_operands = true;
      k::gate_conv2_reference(q);
      for (int g = 0; g < 3; ++g) {
        const auto s = scales(p, g);
        double worst = 0;
        for (size_t i = 0; i < want[g].size(); ++i)
          worst = std::max(worst, std::abs(double(got[g][i]) - double(want[g][i])) / s[i]);
        std::printf("[gate-conv2 cuda] %s host, E=%lld H=%lld m = %d: vs the TF32 reference %.2e (bound %.2e)\n",
                    name_of(host), (long long)p.E, (long long)p.H, g, worst, kBound);
        EXPECT_LE(worst, kBound) << name_of(host) << " host, m = " << g;
      }
    }
  }
}

TEST(GateConv2Cuda, ZeroEdgesAndRefusals) {
  if (!have_hopper()) GTEST_SKIP() << "no compute-capability 9.0 GPU";
  Problem empty(0, 32, 8, 1);
  for (const Host host : {Host::kRs, Host::kTma})
    for (const auto& y : run_on_gpu(empty, host)) EXPECT_TRUE(y.empty());
  alignas(16) static float buf[4096];
  const float* w[3] = {buf, buf, buf};
  float* y[3] = {buf, buf, buf};
  Problem p(2, 32, 8, 2);
  auto q = p.params(buf, buf, buf, w, nullptr, y);
  EXPECT_TRUE(k::gate_conv2_tf32_supported(q));
  EXPECT_TRUE(k::gate_conv2_tf32_tma_supported(q));
  EXPECT_THROW(k::gate_conv2_tf32_tma(q, buf + 1, nullptr), std::invalid_argument);  // a misaligned workspace
  q.channels = 16;  // not a multiple of the K step: a step would straddle two rows of different degree
  q.ld = 5 * 16;
  EXPECT_FALSE(k::gate_conv2_tf32_supported(q));
  EXPECT_FALSE(k::gate_conv2_tf32_tma_supported(q));
  EXPECT_THROW(k::gate_conv2_tf32(q, nullptr), std::invalid_argument);
  EXPECT_THROW(k::gate_conv2_tf32_tma(q, buf, nullptr), std::invalid_argument);
}
