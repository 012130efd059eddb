// The half-operand kernels (kernels/half_operands/) on the GPU: gather_rotate's fp16 output holds exactly the TF32
// message its fp32 output holds (bit for bit, through the host's conversion), and raises the overflow flag when a
// value leaves fp16's range; half_gemm against its CPU reference. The refusals run without a GPU too; the rest skips
// (GTEST_SKIP) where there is none, or no compute-capability 9.0 one for the GEMM, as on CI.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "gemm_test_gpu.h"
#include "kernels/half_operands/half_bits.h"
#include "kernels/half_operands/half_gemm_launch.h"
#include "kernels/half_operands/half_gemm_reference.h"
#include "kernels/wigner/wigner_launch.h"
#include "wigner_test_data.h"

namespace k = uma::kernels;
using split_tf32_test::to_device;

namespace {

bool cuda_device_present() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  return n > 0;
}

template <typename T>
std::vector<T> to_host(const T* d, size_t n) {
  std::vector<T> h(n);
  if (n) EXPECT_EQ(cudaMemcpy(h.data(), d, sizeof(T) * n, cudaMemcpyDeviceToHost), cudaSuccess);
  return h;
}

struct GatherRun {
  std::vector<float> dense;      // the fp32 path's [E, 9, 2C] message (rounded to TF32)
  std::vector<uint16_t> halves;  // the fp16 path's, as a dense [E, 9, 2C] array of bits
  bool padding_intact = true;    // the fp16 groups' spare elements untouched
  unsigned overflow = 0;         // the fp16 launch's flag
};

// gather_rotate_fwd twice on one problem: into a dense fp32 output with round_tf32, and into fp16 m-groups whose
// edges are `pad` elements longer than their rows (pad % 4 != 0 takes the one-value stores).
GatherRun run_gather(const k::testing::WignerProblem<float>& p, int64_t pad, float x_scale, bool with_radial) {
  const int64_t N = p.n_atoms, E = p.n_edges, C = p.channels;
  std::vector<float> x = p.x;
  for (auto& v : x) v *= x_scale;
  std::vector<float> radial;
  if (with_radial) {
    std::mt19937 gen(5);
    std::uniform_real_distribution<float> u(-2.0f, 2.0f);
    radial.resize(static_cast<size_t>(E * k::kRadialGroups * 2 * C));
    for (auto& v : radial) v = u(gen);
  }
  float *dx = to_device(x), *dw = to_device(p.wigner), *dr = with_radial ? to_device(radial) : nullptr;
  int64_t *ds = to_device(p.src), *dd = to_device(p.dst);
  float* out = to_device(std::vector<float>(static_cast<size_t>(E * 9 * 2 * C), NAN));
  unsigned* flag = to_device(std::vector<unsigned>(1, 0u));
  constexpr uint16_t kPoison = 0x7e00, kFill = 0x1234;  // a NaN for the rows, a plain number for the padding
  auto groups = k::testing::to_m_groups(std::vector<uint16_t>(static_cast<size_t>(E * 9 * 2 * C), kPoison), E,
                                        2 * C, pad, kFill);
  uint16_t* dg[3];
  for (int g = 0; g < 3; ++g) dg[g] = to_device(groups.group[g]);

  k::GatherRotateFwdParams<float> f;
  f.x = dx; f.src = ds; f.dst = dd; f.wigner = dw; f.radial = dr;
  f.n_atoms = N; f.n_edges = E; f.channels = C;
  f.round_tf32 = true;
  f.out = out;
  k::gather_rotate_fwd(f, nullptr);
  k::GatherRotateFwdParams<float> h = f;
  h.out = nullptr;
  for (int g = 0; g < 3; ++g) {
    h.out_half_groups.base[g] = dg[g];
    h.out_half_groups.edge_stride[g] = groups.stride[g];
  }
  h.half_overflow = flag;
  k::gather_rotate_fwd(h, nullptr);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);

  GatherRun r;
  r.dense = to_host(out, static_cast<size_t>(E * 9 * 2 * C));
  for (int g = 0; g < 3; ++g) groups.group[g] = to_host(dg[g], groups.group[g].size());
  r.halves = k::testing::from_m_groups(groups, E, 2 * C);
  r.padding_intact = k::testing::padding_holds(groups, E, 2 * C, kFill);
  r.overflow = to_host(flag, 1)[0];
  cudaFree(dx); cudaFree(dw); cudaFree(dr); cudaFree(ds); cudaFree(dd); cudaFree(out); cudaFree(flag);
  for (auto* q : dg) cudaFree(q);
  return r;
}

}  // namespace

TEST(HalfOperandsCuda, GatherRotateHoldsTheTf32MessageInFp16) {
  if (!cuda_device_present()) GTEST_SKIP() << "no CUDA device present";
  struct Case {
    int64_t atoms, edges, channels, pad;
    bool radial;
  };
  // C = 128 with pad 4: four values per 8-byte store; pad 2 and C = 6: one value per store.
  for (const Case c : {Case{40, 700, 128, 4, true}, Case{40, 700, 128, 4, false}, Case{40, 300, 128, 2, true},
                       Case{12, 50, 6, 4, true}}) {
    const auto p = k::testing::make_problem<float>(c.atoms, c.edges, c.channels, 11);
    const GatherRun r = run_gather(p, c.pad, 1.0f, c.radial);
    int64_t differ = 0, subnormal = 0;
    for (size_t i = 0; i < r.dense.size(); ++i) {
      const float v = r.dense[i];
      if (r.halves[i] != k::tf32_half_bits(v)) ++differ;
      if (std::fabs(v) < k::kHalfMinNormal) ++subnormal;
      // Exactness in the normal range: the fp16 value is the fp32 path's TF32 value itself.
      if (std::fabs(v) >= k::kHalfMinNormal) ASSERT_EQ(k::float_of_half_bits(r.halves[i]), v) << i;
    }
    std::printf("[half-operands cuda] gather E=%lld C=%lld pad=%lld radial=%d: %lld of %zu values differ from the "
                "fp32 message's fp16 bits, %lld below fp16's normal range\n",
                (long long)c.edges, (long long)c.channels, (long long)c.pad, int(c.radial), (long long)differ,
                r.dense.size(), (long long)subnormal);
    EXPECT_EQ(differ, 0);
    EXPECT_TRUE(r.padding_intact);
    EXPECT_EQ(r.overflow, 0u);
  }
}

TEST(HalfOperandsCuda, GatherRotateFlagsAnOverflow) {
  if (!cuda_device_present()) GTEST_SKIP() << "no CUDA device present";
  const auto p = k::testing::make_problem<float>(20, 100, 128, 3);
  // Node features of size up to 1e5: rotated and scaled by up to 2, many messages pass 65504.
  const GatherRun r = run_gather(p, 4, 1e5f, true);
  int64_t over = 0;
  for (float v : r.dense) over += k::half_overflows(v);
  ASSERT_GT(over, 0) << "the test's own check: the problem must overflow fp16";
  EXPECT_EQ(r.overflow, 1u);
}

TEST(HalfOperandsCuda, GatherRotateRefusesWhatIsNotATf32Message) {
  // Runs without a GPU: the checks come before any launch.
  k::GatherRotateFwdParams<float> f;
  f.n_atoms = 2; f.n_edges = 3; f.channels = 8;
  uint16_t dummy[8];
  for (int g = 0; g < 3; ++g) {
    f.out_half_groups.base[g] = dummy;
    f.out_half_groups.edge_stride[g] = 2 * 8 * 4;
  }
  f.round_tf32 = false;
  try {
    k::gather_rotate_fwd(f, nullptr);
    FAIL() << "accepted an fp16 output without round_tf32";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("round_tf32"), std::string::npos) << e.what();
  }
  k::GatherRotateFwdParams<double> d;
  d.n_atoms = 2; d.n_edges = 3; d.channels = 8; d.round_tf32 = true;
  d.out_half_groups = f.out_half_groups;
  EXPECT_THROW(k::gather_rotate_fwd(d, nullptr), std::invalid_argument);
}

namespace {

// Random TF32 values held in fp16: activations ~N(0, 1), weights ~N(0, 0.05) scaled by 2^8 (the engine's weight
// scale brings the largest to 2^14..2^15; any power of two is exact).
std::vector<uint16_t> half_operand(int64_t rows, int64_t cols, int64_t ld, float sigma, float scale, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal(0.0f, sigma);
  std::vector<uint16_t> v(static_cast<size_t>(rows * ld), 0x7e00);  // NaN in the unused columns
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) v[i * ld + j] = k::tf32_half_bits(normal(gen) * scale);
  return v;
}

}  // namespace

TEST(HalfOperandsCuda, HalfGemmMatchesTheReference) {
  if (!split_tf32_test::have_hopper()) GTEST_SKIP() << "no compute-capability 9.0 GPU";
  // The products of fp16 values are exact in fp32; what remains is the fp32 summation over K inside the wgmma
  // accumulator (~2e-6 of sum |a||b| at K = 640 for the TF32 kernel, test_tf32_tma_gemm_cuda.cu). 2^-16 (1.5e-5)
  // holds that with room and fails any wrong tile, stride, scale or bias (O(1)).
  constexpr double kBound = 1.0 / (1 << 16);
  struct Case {
    int64_t m, n, k, lda;
    bool bias;
  };
  for (const Case c : {Case{1000, 640, 768, 768, true}, Case{1000, 768, 640, 640, false}, Case{333, 1536, 128, 136, true},
                       Case{7, 128, 32, 32, true}, Case{129, 256, 512, 520, false}}) {
    const float alpha = 1.0f / 256.0f;
    const auto a = half_operand(c.m, c.k, c.lda, 1.0f, 1.0f, 1);
    const auto b = half_operand(c.n, c.k, c.k, 0.05f, 256.0f, 2);
    std::vector<float> bias(static_cast<size_t>(c.n));
    std::mt19937 gen(3);
    std::normal_distribution<float> normal(0.0f, 0.1f);
    for (auto& v : bias) v = normal(gen);
    k::HalfGemmParams p;
    p.m = c.m; p.n = c.n; p.k = c.k; p.lda = c.lda; p.ldb = c.k; p.ldd = c.n; p.alpha = alpha;
    uint16_t *da = to_device(a), *db = to_device(b);
    float* dbias = c.bias ? to_device(bias) : nullptr;
    float* dd = to_device(std::vector<float>(static_cast<size_t>(c.m * c.n), -1.0f));
    p.a = da; p.b = db; p.bias = dbias; p.d = dd;
    k::half_gemm(p, nullptr);
    ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    const auto got = to_host(dd, static_cast<size_t>(c.m * c.n));
    cudaFree(da); cudaFree(db); cudaFree(dbias); cudaFree(dd);

    std::vector<float> want(got.size());
    std::vector<double> scale(got.size());
    k::HalfGemmParams h = p;
    h.a = a.data(); h.b = b.data(); h.bias = c.bias ? bias.data() : nullptr; h.d = want.data();
    k::half_gemm_reference(h, scale.data());
    double worst = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_TRUE(std::isfinite(got[i])) << i;
      worst = std::max(worst, std::fabs(double(got[i]) - double(want[i])) / scale[i]);
    }
    std::printf("[half-operands cuda] half_gemm m=%lld n=%lld k=%lld lda=%lld bias=%d: error %.2e of sum |a||b| "
                "(bound %.2e)\n", (long long)c.m, (long long)c.n, (long long)c.k, (long long)c.lda, int(c.bias),
                worst, kBound);
    EXPECT_LE(worst, kBound);
  }
}

TEST(HalfOperandsCuda, HalfGemmRefusesWhatItCannotTake) {
  // Runs without a GPU: every size and alignment rule is checked before the device.
  alignas(16) static uint16_t a[64], b[64];
  alignas(16) static float d[64];
  auto refusal = [&](auto&& edit) {
    k::HalfGemmParams p;
    p.m = 4; p.n = 8; p.k = 8; p.a = a; p.lda = 8; p.b = b; p.ldb = 8; p.d = d; p.ldd = 8;
    edit(p);
    EXPECT_FALSE(k::half_gemm_supported(p));
    try {
      k::half_gemm(p, nullptr);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(refusal([](k::HalfGemmParams& p) { p.k = 12; p.lda = 12; p.ldb = 12; }).find("multiples of 8"),
            std::string::npos);
  EXPECT_NE(refusal([](k::HalfGemmParams& p) { p.n = 6; p.ldd = 6; }).find("multiples of 4"), std::string::npos);
  EXPECT_NE(refusal([](k::HalfGemmParams& p) { p.a = a + 1; }).find("16-byte"), std::string::npos);
  EXPECT_NE(refusal([](k::HalfGemmParams& p) { p.ldd = 4; }).find("shorter"), std::string::npos);
  EXPECT_NE(refusal([](k::HalfGemmParams& p) { p.alpha = INFINITY; }).find("alpha"), std::string::npos);
  EXPECT_NE(refusal([](k::HalfGemmParams& p) { p.b = nullptr; }).find("null"), std::string::npos);
}
