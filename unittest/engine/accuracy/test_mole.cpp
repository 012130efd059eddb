// Mixture of linear experts: the merged weights give the same energy and forces as applying every
// expert and mixing (fairchem's unmerged path), a composition change re-merges, an unchanged one does
// not, and fairchem's own merged-model energy (fixture key fp64_merged) is reproduced.
#include "test_support.h"

TEST(Mole, MergedEqualsUnmergedMixture) {
  uma::Engine engine(uma_test::bundled_model(), uma_test::fp64_options());
  ASSERT_GT(engine.info().num_experts, 1) << "the bundled model must have several experts for this test";
  for (const std::string name : {"omol_cation_radical", "oc20_pt111_co"}) {
    auto f = uma_test::load_fixture(name);
    auto merged = uma::evaluate_structure(engine, f.file.structure, f.file.task, f.file.charge, f.file.spin);
    engine.set_use_unmerged_mixture(true);
    auto mixed = uma::evaluate_structure(engine, f.file.structure, f.file.task, f.file.charge, f.file.spin);
    engine.set_use_unmerged_mixture(false);
    // Linear algebra identity; only fp64 summation order differs.
    EXPECT_NEAR(merged.energy, mixed.energy, 1e-10 * std::abs(merged.energy)) << name;
    EXPECT_LE(uma_test::max_abs_diff(merged.forces, mixed.forces).value, 1e-9 * uma_test::max_abs(merged.forces));
  }
}

TEST(Mole, FairchemMergedModelEnergy) {
  uma::Engine engine(uma_test::bundled_model(), uma_test::fp64_options());
  for (const auto& name : uma_test::task_fixtures()) {
    auto f = uma_test::load_fixture(name);
    if (!f.json.at("reference").contains("fp64_merged")) continue;
    const double ref = f.json["reference"]["fp64_merged"]["energy"].get<double>();
    auto r = uma::evaluate_structure(engine, f.file.structure, f.file.task, f.file.charge, f.file.spin, false);
    EXPECT_NEAR(r.energy, ref, 1e-9 * std::abs(ref)) << name;
  }
}

TEST(Mole, RemergesOnlyWhenCompositionTaskChargeOrSpinChange) {
  uma::Engine engine(uma_test::bundled_model(), {});
  engine.set_system("omat", 0, 0);
  std::vector<int64_t> counts(100, 0);
  counts[29] = 4;
  counts[79] = 4;
  EXPECT_TRUE(engine.set_composition(counts));
  EXPECT_FALSE(engine.set_composition(counts));
  counts[29] = 8;  // same reduced composition (supercell): no re-merge, as fairchem
  counts[79] = 8;
  EXPECT_FALSE(engine.set_composition(counts));
  counts[29] = 7;  // one atom deleted
  EXPECT_TRUE(engine.set_composition(counts));
  engine.set_system("omat", 1, 0);
  EXPECT_TRUE(engine.set_composition(counts));
  engine.set_system("oc20", 1, 0);
  EXPECT_TRUE(engine.set_composition(counts));
}

TEST(Mole, ChargeAndSpinChangeTheEnergy) {
  // Charge and spin enter through the csd embedding and the expert mixture: they must matter.
  uma::Engine engine(uma_test::bundled_model(), uma_test::fp64_options());
  auto f = uma_test::load_fixture("omol_cation_radical");
  const auto& s = f.file.structure;
  const double e1 = uma::evaluate_structure(engine, s, "omol", 1, 2, false).energy;
  const double e0 = uma::evaluate_structure(engine, s, "omol", 0, 1, false).energy;
  const double e3 = uma::evaluate_structure(engine, s, "omol", 1, 4, false).energy;
  EXPECT_GT(std::abs(e1 - e0), 1e-6);
  EXPECT_GT(std::abs(e1 - e3), 1e-6);
}
