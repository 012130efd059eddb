// Bad system inputs give a uma::Error naming the problem and the fix.
#include "engine/core/engine.h"
#include "test_support.h"


TEST(EngineErrors, UnknownTask) {
  uma::Engine engine(uma_test::bundled_model(), {});
  uma_test::expect_error([&] { engine.set_system("omatt", 0, 0); }, "unknown task 'omatt'");
}

TEST(EngineErrors, ChargeOutOfRange) {
  uma::Engine engine(uma_test::bundled_model(), {});
  uma_test::expect_error([&] { engine.set_system("omol", 101, 1); }, "charge 101 is outside");
  uma_test::expect_error([&] { engine.set_system("omol", -101, 1); }, "charge -101 is outside");
}

TEST(EngineErrors, SpinOutOfRange) {
  uma::Engine engine(uma_test::bundled_model(), {});
  uma_test::expect_error([&] { engine.set_system("omol", 0, -1); }, "spin multiplicity -1 is outside");
  uma_test::expect_error([&] { engine.set_system("omol", 0, 101); }, "spin multiplicity 101 is outside");
}

TEST(EngineErrors, ElementNotInModel) {
  uma::Engine engine(uma_test::bundled_model(), {});
  engine.set_system("omat", 0, 0);
  std::vector<int64_t> counts(120, 0);
  counts[29] = 3;
  counts[110] = 1;
  uma_test::expect_error([&] { engine.set_composition(counts); }, "atomic number 110");
}

TEST(EngineErrors, EvaluateBeforeComposition) {
  uma::Engine engine(uma_test::bundled_model(), {});
  uma::EvalInput in;
  in.atomic_numbers = torch::ones({1}, torch::kInt64);
  in.edge_src = torch::zeros({0}, torch::kInt64);
  in.edge_dst = torch::zeros({0}, torch::kInt64);
  in.edge_vec = torch::zeros({0, 3}, torch::kFloat64);
  uma_test::expect_error([&] { engine.evaluate(in); }, "set_system and set_composition");
}

TEST(EngineErrors, CudaWithoutDevice) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "a CUDA device is present";
  uma::EngineOptions o;
  o.device = torch::Device(torch::kCUDA);
  uma_test::expect_error([&] { uma::Engine e(uma_test::bundled_model(), o); }, "no CUDA device");
}

TEST(EngineEdgeCases, IsolatedAtomHasOnlyItsReferenceEnergy) {
  // No edges: every message is zero, the energy is the head on the embedding alone plus the
  // reference, and there is no gradient to return (fairchem adds a fake zero-envelope edge instead).
  uma::Engine engine(uma_test::bundled_model(), {});
  engine.set_system("omat", 0, 0);
  std::vector<int64_t> counts(engine.info().max_num_elements, 0);
  counts[29] = 1;
  engine.set_composition(counts);
  uma::EvalInput in;
  in.atomic_numbers = torch::full({1}, 29, torch::kInt64);
  in.edge_src = torch::zeros({0}, torch::kInt64);
  in.edge_dst = torch::zeros({0}, torch::kInt64);
  in.edge_vec = torch::zeros({0, 3}, torch::kFloat64);
  auto out = engine.evaluate(in);
  EXPECT_TRUE(std::isfinite(out.energy));
  EXPECT_EQ(out.edge_grad.size(0), 0);
}
