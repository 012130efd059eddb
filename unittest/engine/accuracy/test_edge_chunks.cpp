// Edge-chunked evaluation with recomputation (engine/core/edge_chunks.h): the same numbers as the one-pass
// evaluation and as fairchem, whatever the chunk size, with and without gradients.
#include <cmath>

#include "test_support.h"

#include "engine/core/memory_budget.h"

namespace {

uma::EngineOptions options(uma::Precision p, int64_t chunk) {
  uma::EngineOptions o;
  o.precision = p;
  o.edge_chunk = chunk;
  return o;
}

uma::StructureResult run(uma::Engine& engine, const uma_test::Fixture& f, bool forces = true) {
  return uma::evaluate_structure(engine, f.file.structure, f.file.task, f.file.charge, f.file.spin, forces);
}

}  // namespace

// Against fairchem's fp64 numbers with chunks of 16 and 37 edges (every fixture has over 100 edges, so
// several chunks and a short last one): the tolerance of test_fairchem_parity (1e-9 relative).
TEST(EdgeChunks, Fp64MatchesFairchemForEveryTask) {
  for (int64_t chunk : {16, 37}) {
    uma::Engine engine(uma_test::bundled_model(), options(uma::Precision::fp64, chunk));
    for (const auto& name : uma_test::task_fixtures()) {
      auto f = uma_test::load_fixture(name);
      auto ref = f.reference("fp64");
      auto r = run(engine, f);
      ASSERT_GT(r.num_edges, static_cast<size_t>(chunk)) << name << ": the test needs several chunks";
      EXPECT_NEAR(r.energy, ref.energy, 1e-9 * std::abs(ref.energy)) << name << " chunk " << chunk;
      auto fe = uma_test::max_abs_diff(r.forces, ref.forces);
      EXPECT_LE(fe.value, 1e-9 * uma_test::max_abs(ref.forces)) << name << " chunk " << chunk;
      for (int k = 0; k < 9 && !ref.stress.empty(); ++k)
        EXPECT_NEAR(r.stress[k], ref.stress[k], 1e-9 * std::abs(ref.stress[k]) + 1e-15) << name << " stress " << k;
    }
  }
}

// Chunked vs one pass in fp64: only the order of the per-node sums differs, so energies, per-atom
// energies, forces and stress agree to a few ulps of their scale (1e-12 relative leaves 4 digits of margin).
TEST(EdgeChunks, SameAsOnePassIncludingAtomEnergies) {
  uma::Engine plain(uma_test::bundled_model(), options(uma::Precision::fp64, -1));
  uma::Engine chunked(uma_test::bundled_model(), options(uma::Precision::fp64, 50));
  for (const auto& name : {"omat_cu_triclinic", "odac_framework_co2"}) {
    auto f = uma_test::load_fixture(name);
    auto a = run(plain, f), b = run(chunked, f);
    EXPECT_NEAR(a.energy, b.energy, 1e-12 * std::abs(a.energy)) << name;
    double escale = 0.0;
    for (double e : a.atom_energy) escale = std::max(escale, std::abs(e));
    EXPECT_LE(uma_test::max_abs_diff(a.atom_energy, b.atom_energy).value, 1e-12 * escale) << name << " per-atom energy";
    EXPECT_LE(uma_test::max_abs_diff(a.forces, b.forces).value, 1e-12 * uma_test::max_abs(a.forces)) << name;
    for (int k = 0; k < 9; ++k) EXPECT_NEAR(a.stress[k], b.stress[k], 1e-12 * std::abs(a.stress[k]) + 1e-16);
    // Energy only (no autograd graph): the chunked forward alone.
    auto c = run(chunked, f, false);
    EXPECT_NEAR(c.energy, a.energy, 1e-12 * std::abs(a.energy)) << name << " energy-only";
  }
}

// fp32 with chunks against fairchem's fp32 numbers, with test_fairchem_parity's fp32 bounds.
TEST(EdgeChunks, Fp32MatchesFairchem) {
  uma::Engine engine(uma_test::bundled_model(), options(uma::Precision::fp32, 101));
  auto f = uma_test::load_fixture("oc20_pt111_co");
  auto ref = f.reference("fp32");
  auto r = run(engine, f);
  EXPECT_NEAR(r.energy, ref.energy, 1e-5 * f.file.structure.numbers.size());
  EXPECT_LE(uma_test::max_abs_diff(r.forces, ref.forces).value, 1e-4);
}

TEST(EdgeChunks, PlanFollowsTheRequestAndTheMemoryLeft) {
  const torch::Device cpu(torch::kCPU);
  EXPECT_EQ(uma::plan_edge_chunks(-1, 1000000, 4, 128, 4, cpu), 0);      // never
  EXPECT_EQ(uma::plan_edge_chunks(500, 1000000, 4, 128, 4, cpu), 500);   // fixed
  EXPECT_EQ(uma::plan_edge_chunks(5000, 1000, 4, 128, 4, cpu), 0);       // all fit in one chunk
  EXPECT_EQ(uma::plan_edge_chunks(0, 0, 4, 128, 4, cpu), 0);             // no edges
  const int64_t avail = uma::available_memory_bytes(cpu);
  ASSERT_GT(avail, 0) << "MemAvailable missing from /proc/meminfo";
  EXPECT_EQ(uma::plan_edge_chunks(0, 100, 4, 128, 4, cpu), 0);  // a small graph: one pass
  // A graph whose one-pass activations need ~10x the available memory must be chunked, with chunks
  // that need about a quarter of it (and never fewer than 4096 edges).
  const int64_t per_edge_plain = 4 * 128 * 70 * 4;
  const int64_t edges = avail / per_edge_plain * 10;
  const int64_t chunk = uma::plan_edge_chunks(0, edges, 4, 128, 4, cpu);
  EXPECT_GT(chunk, 4095);
  EXPECT_LT(chunk, edges);
  EXPECT_LE(chunk * 2 * 70 * 128 * 4, avail / 4 + 4096 * 2 * 70 * 128 * 4);
}

// The tiers before chunks, on the fused kernels: a one-pass evaluation there peaks at 48 values per edge, layer and
// channel, 40 when it recomputes conv 1's radial scale, 35 when it recomputes conv 2's outputs as well (measured on an
// H100, memory_budget.cpp); the Torch path keeps its 70. Automatic mode takes the cheapest tier whose pass fits where
// keeping everything would not; plan_edge_chunks, told that tier's values, then keeps the one pass. Asked for, a tier
// is always on (never for no edges); refused, never.
TEST(EdgeChunks, RecomputeTiersComeBeforeChunks) {
  using uma::Recompute;
  const torch::Device cpu(torch::kCPU);
  EXPECT_EQ(uma::one_pass_values(false, Recompute::none), 70);
  EXPECT_EQ(uma::one_pass_values(false, Recompute::radial_and_conv2), 70);  // the Torch path has no recipes
  const int64_t keep = uma::one_pass_values(true, Recompute::none);
  const int64_t radial = uma::one_pass_values(true, Recompute::radial);
  const int64_t both = uma::one_pass_values(true, Recompute::radial_and_conv2);
  EXPECT_EQ(keep, 48);
  EXPECT_EQ(radial, 40);
  EXPECT_EQ(both, 35);
  EXPECT_EQ(uma::plan_recompute(1, 100, 4, 128, 4, cpu), Recompute::radial);
  EXPECT_EQ(uma::plan_recompute(2, 100, 4, 128, 4, cpu), Recompute::radial_and_conv2);
  EXPECT_EQ(uma::plan_recompute(7, 100, 4, 128, 4, cpu), Recompute::radial_and_conv2);
  EXPECT_EQ(uma::plan_recompute(2, 0, 4, 128, 4, cpu), Recompute::none);
  EXPECT_EQ(uma::plan_recompute(-1, 100, 4, 128, 4, cpu), Recompute::none);
  EXPECT_EQ(uma::plan_recompute(0, 100, 4, 128, 4, cpu), Recompute::none);  // small: keep everything (faster)
  const int64_t avail = uma::available_memory_bytes(cpu);
  ASSERT_GT(avail, 0) << "MemAvailable missing from /proc/meminfo";
  // One pass may use 60 % of the available memory. Graphs sized for the geometric middle of two tiers' values (43.8
  // between 40 and 48, 37.4 between 35 and 40) leave 9.5 % and 6.9 % of margin either way for MemAvailable moving
  // between the calls.
  const double per_value = 4 * 128 * 4;  // layers x channels x bytes
  const int64_t band_radial = static_cast<int64_t>(0.6 * double(avail) / (per_value * std::sqrt(40.0 * 48.0)));
  const int64_t band_both = static_cast<int64_t>(0.6 * double(avail) / (per_value * std::sqrt(35.0 * 40.0)));
  EXPECT_EQ(uma::plan_recompute(0, band_radial, 4, 128, 4, cpu), Recompute::radial);
  EXPECT_GT(uma::plan_edge_chunks(0, band_radial, 4, 128, 4, cpu, 1.0, keep), 0);   // keeping it: chunks
  EXPECT_EQ(uma::plan_edge_chunks(0, band_radial, 4, 128, 4, cpu, 1.0, radial), 0);  // recomputing it: one pass
  EXPECT_GT(uma::plan_edge_chunks(0, band_radial, 4, 128, 4, cpu), 0);  // the Torch path's 70: chunks
  EXPECT_EQ(uma::plan_recompute(0, band_both, 4, 128, 4, cpu), Recompute::radial_and_conv2);
  EXPECT_GT(uma::plan_edge_chunks(0, band_both, 4, 128, 4, cpu, 1.0, radial), 0);
  EXPECT_EQ(uma::plan_edge_chunks(0, band_both, 4, 128, 4, cpu, 1.0, both), 0);
  // Too big for one pass either way: no recompute (chunks recompute everything anyway), chunks.
  const int64_t big = band_both * 3 / 2;
  EXPECT_EQ(uma::plan_recompute(0, big, 4, 128, 4, cpu), Recompute::none);
  EXPECT_GT(uma::plan_edge_chunks(0, big, 4, 128, 4, cpu, 1.0, both), 0);
  // The share of one of four processes moves the bands down by four.
  EXPECT_EQ(uma::plan_recompute(0, band_radial / 4, 4, 128, 4, cpu, uma::memory_share_of(4)), Recompute::radial);
  EXPECT_EQ(uma::plan_recompute(0, band_radial / 4, 4, 128, 4, cpu, 1.0), Recompute::none);
}

// Issue 15, item 10: several MPI ranks on one node each saw the whole machine's MemAvailable and
// together planned for several times the memory there is. With memory_share = 1/ranks each plans for
// its part; a graph that cannot fit even in chunks is an error naming memory, not a kill by the kernel.
TEST(EdgeChunks, ProcessesOnOneDeviceShareTheMemory) {
  const torch::Device cpu(torch::kCPU);
  const int64_t avail = uma::available_memory_bytes(cpu);
  ASSERT_GT(avail, 0) << "MemAvailable missing from /proc/meminfo";
  EXPECT_DOUBLE_EQ(uma::memory_share_of(1), 1.0);
  EXPECT_DOUBLE_EQ(uma::memory_share_of(4), 0.25);
  // One-pass activations of ~30 % of the available memory: one pass alone (limit 60 %), chunks
  // for one of four ranks (its limit: 60 % of a quarter).
  const int64_t per_edge_plain = 4 * 128 * 70 * 4;
  const int64_t edges = avail / per_edge_plain * 3 / 10;
  EXPECT_EQ(uma::plan_edge_chunks(0, edges, 4, 128, 4, cpu, 1.0), 0);
  const int64_t chunk = uma::plan_edge_chunks(0, edges, 4, 128, 4, cpu, uma::memory_share_of(4));
  EXPECT_GT(chunk, 4095);
  EXPECT_LT(chunk, edges);
  // Per-edge tensors kept for the whole evaluation (1000 values of 4 bytes per edge) of half the
  // available memory: chunks for one process, an "out of memory" error for one of four.
  const int64_t big = avail / 2 / 4000;
  EXPECT_GT(uma::plan_edge_chunks(0, big, 4, 128, 4, cpu, 1.0), 0);
  try {
    uma::plan_edge_chunks(0, big, 4, 128, 4, cpu, uma::memory_share_of(4));
    ADD_FAILURE() << "expected uma::Error for " << big << " edges on a quarter of " << avail << " bytes";
  } catch (const uma::Error &e) {
    EXPECT_NE(std::string(e.what()).find("out of memory"), std::string::npos) << e.what();
  }
}
