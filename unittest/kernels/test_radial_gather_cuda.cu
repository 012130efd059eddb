// radial_gather (src/kernels/radial_gather/: the radial MLP's last Linear and conv 1's gather + rotate in one kernel)
// on a GPU against its CPU reference with TF32-rounded operands: the engine's sizes (C = 128, hidden 128, edges not a
// multiple of the kernel's 64-edge tile), a narrower hidden width (32), rounded and unrounded stores, every m-group and
// radial group; zero edges; and what it refuses, which needs no GPU (the launcher refuses before any CUDA call).
// The kernel runs on any compute-capability >= 8.0 GPU; skipped without one.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <vector>

#include "gemm_test_gpu.h"
#include "kernels/gemm/tf32_round.h"
#include "kernels/radial_gather/radial_gather_launch.h"
#include "kernels/radial_gather/radial_gather_reference.h"

namespace k = uma::kernels;
using split_tf32_test::to_device;

namespace {

bool have_sm80() {
  int n = 0, major = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess && n > 0 &&
         cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, 0) == cudaSuccess && major >= 8;
}

int degree(int i) { return i == 0 ? 0 : i < 4 ? 1 : 2; }

struct Problem {
  int64_t N, E, K, C = 128, Q = k::kRadialGroups * 2 * 128;
  std::vector<float> x, wigner, hidden, weight, bias;
  std::vector<int64_t> src, dst;
  Problem(int64_t N_, int64_t E_, int64_t K_, unsigned seed) : N(N_), E(E_), K(K_) {
    std::mt19937 gen(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::uniform_int_distribution<int64_t> atom(0, N - 1);
    x.resize(N * 9 * C);
    for (auto& v : x) v = normal(gen);
    wigner.assign(std::max<int64_t>(E * 81, 1), 0.0f);
    for (int64_t e = 0; e < E; ++e)
      for (int i = 0; i < 9; ++i)
        for (int j = 0; j < 9; ++j)
          if (degree(i) == degree(j)) wigner[e * 81 + i * 9 + j] = normal(gen);
    hidden.resize(std::max<int64_t>(E * K, 1));
    for (auto& v : hidden) v = normal(gen);
    weight.resize(Q * K);
    for (auto& v : weight) v = normal(gen) / std::sqrt(float(K));
    bias.resize(Q);
    for (auto& v : bias) v = normal(gen);
    src.resize(E);
    dst.resize(E);
    for (int64_t e = 0; e < E; ++e) {
      src[e] = atom(gen);
      dst[e] = atom(gen);
    }
  }
  k::RadialGatherParams params(const float* px, const int64_t* ps, const int64_t* pd, const float* pw,
                               const float* ph, const float* pW, const float* pb, float* out, bool round) const {
    k::RadialGatherParams p;
    p.gather.x = px; p.gather.src = ps; p.gather.dst = pd; p.gather.wigner = pw; p.gather.out = out;
    p.gather.n_atoms = N; p.gather.n_edges = E; p.gather.channels = C; p.gather.round_tf32 = round;
    p.hidden = ph; p.hidden_dim = K; p.weight = pW; p.bias = pb;
    return p;
  }
};

// What an output element's error is measured against: sum_j |D_ij| |x_j| x (sum_k |h_k| |W_qk| + |b_q|), with the
// TF32-rounded operands. Products of TF32 values are exact in fp32; what differs from the reference is the fp32 sum
// of the scale (the tensor cores' adds; ~K 2^-24 of its scale), the rotation's sum (the GPU's fma against the host's
// separate multiply and add, 2^-24 of its scale) and, where either moves a value across a TF32 rounding boundary,
// that element by 2^-10 of itself (round_tf32). 2^-9 bounds all three with room; a wrong edge, row, column, half,
// radial group or a missing bias is O(1) of the scale.
std::vector<double> scales(const Problem& p) {
  std::vector<double> rscale(p.E * p.Q), out(p.E * 9 * 2 * p.C);
  for (int64_t e = 0; e < p.E; ++e)
    for (int64_t q = 0; q < p.Q; ++q) {
      double s = std::abs(p.bias[q]);
      for (int64_t kk = 0; kk < p.K; ++kk)
        s += std::abs(double(k::tf32_round(p.hidden[e * p.K + kk])) * double(k::tf32_round(p.weight[q * p.K + kk])));
      rscale[e * p.Q + q] = s;
    }
  for (int64_t e = 0; e < p.E; ++e)
    for (int h = 0; h < 2; ++h) {
      const int64_t node = h ? p.dst[e] : p.src[e];
      for (int m = 0; m < 9; ++m) {
        const int i = k::kLtoM[m];
        for (int64_t c = 0; c < p.C; ++c) {
          double rot = 0;
          for (int j = 0; j < 9; ++j)
            if (degree(i) == degree(j)) rot += std::abs(double(p.wigner[e * 81 + i * 9 + j]) * p.x[(node * 9 + j) * p.C + c]);
          out[(e * 9 + m) * 2 * p.C + h * p.C + c] =
              rot * rscale[e * p.Q + k::kRadialGroupOfM[m] * 2 * p.C + h * p.C + c];
        }
      }
    }
  return out;
}

constexpr double kBound = 1.0 / (1 << 9);

}  // namespace

TEST(RadialGatherCuda, MatchesTheTf32ReferenceOnEngineAndNarrowSizes) {
  if (!have_sm80()) GTEST_SKIP() << "no compute-capability >= 8.0 GPU";
  const Problem problems[] = {Problem(60, 1000, 128, 5), Problem(7, 3, 32, 6), Problem(40, 300, 128, 7)};
  for (const auto& p : problems) {
    for (const bool round : {true, false}) {
      float *x = to_device(p.x), *w = to_device(p.wigner), *h = to_device(p.hidden), *W = to_device(p.weight);
      float* b = to_device(p.bias);
      int64_t *s = to_device(p.src), *d = to_device(p.dst);
      std::vector<float> got(p.E * 9 * 2 * p.C, -1.0f), want(got.size(), 0.0f);
      float* out = to_device(got);
      k::radial_gather(p.params(x, s, d, w, h, W, b, out, round), nullptr);
      ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
      cudaMemcpy(got.data(), out, sizeof(float) * got.size(), cudaMemcpyDeviceToHost);
      cudaFree(x); cudaFree(w); cudaFree(h); cudaFree(W); cudaFree(b); cudaFree(s); cudaFree(d); cudaFree(out);
      k::radial_gather_reference(p.params(p.x.data(), p.src.data(), p.dst.data(), p.wigner.data(), p.hidden.data(),
                                          p.weight.data(), p.bias.data(), want.data(), round),
                                 /*tf32_operands=*/true);
      const auto sc = scales(p);
      double worst = 0;
      int64_t unrounded = 0;
      for (size_t i = 0; i < got.size(); ++i) {
        worst = std::max(worst, std::abs(double(got[i]) - double(want[i])) / std::max(sc[i], 1e-30));
        if (round && k::tf32_round(got[i]) != got[i]) ++unrounded;
      }
      std::printf("[radial-gather cuda] E=%lld K=%lld round=%d: vs the TF32 reference %.2e (bound %.2e)\n",
                  (long long)p.E, (long long)p.K, int(round), worst, kBound);
      EXPECT_LE(worst, kBound) << "E=" << p.E << " K=" << p.K << " round=" << round;
      EXPECT_EQ(unrounded, 0) << "values stored without the TF32 rounding";
    }
  }
}

TEST(RadialGatherCuda, ZeroEdgesLaunchNothing) {
  if (!have_sm80()) GTEST_SKIP() << "no compute-capability >= 8.0 GPU";
  const Problem p(4, 0, 128, 8);
  EXPECT_NO_THROW(k::radial_gather(p.params(nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                                            nullptr, true),
                                   nullptr));
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
}

// The launcher checks before any CUDA call, so this runs without a GPU too.
TEST(RadialGatherCuda, RefusesWhatItCannotTake) {
  const Problem p(4, 10, 128, 9);
  std::vector<float> out(p.E * 9 * 2 * p.C);
  const auto good = p.params(p.x.data(), p.src.data(), p.dst.data(), p.wigner.data(), p.hidden.data(),
                             p.weight.data(), p.bias.data(), out.data(), true);
  auto refused = [](k::RadialGatherParams q, const char* what) {
    EXPECT_THROW(k::radial_gather(q, nullptr), std::invalid_argument) << what;
    EXPECT_THROW(k::radial_gather_reference(q, true), std::invalid_argument) << what;
  };
  auto q = good;
  q.gather.channels = 64;
  refused(q, "C != 128");
  q = good;
  q.hidden_dim = 12;
  refused(q, "hidden width not a multiple of 8");
  q = good;
  q.hidden_dim = 136;
  refused(q, "hidden width above 128");
  q = good;
  q.gather.radial = p.hidden.data();
  refused(q, "a radial scale given");
  q = good;
  q.weight = nullptr;
  refused(q, "no weight");
}
