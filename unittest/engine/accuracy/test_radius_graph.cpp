// The neighbour-list builder reproduces fairchem's internal graph (radius_graph_pbc v2 and the
// max-neighbours rule) edge for edge on the fixture structures, including mixed PBC, a triclinic
// cell and a dense cell with more than 300 candidates per atom.
#include <set>
#include <tuple>

#include "test_support.h"

namespace {

using EdgeKey = std::tuple<int64_t, int64_t, int, int, int>;

std::multiset<EdgeKey> fairchem_edges(const nlohmann::json& g) {
  std::multiset<EdgeKey> out;
  const auto& src = g.at("src");
  const auto& dst = g.at("dst");
  const auto& off = g.at("offsets");
  for (size_t e = 0; e < src.size(); ++e)
    out.insert({src[e].get<int64_t>(), dst[e].get<int64_t>(), off[e][0].get<int>(), off[e][1].get<int>(),
                off[e][2].get<int>()});
  return out;
}

void expect_same_graph(const std::string& name) {
  auto f = uma_test::load_fixture(name);
  uma::Engine engine(uma_test::bundled_model(), {});
  auto g = uma::build_radius_graph(f.file.structure, engine.info().cutoff, engine.info().max_neighbors);
  std::multiset<EdgeKey> ours;
  for (size_t e = 0; e < g.src.size(); ++e)
    ours.insert({g.src[e], g.dst[e], g.offsets[e][0], g.offsets[e][1], g.offsets[e][2]});
  auto theirs = fairchem_edges(f.json.at("graph"));
  EXPECT_EQ(ours.size(), theirs.size()) << name << ": edge count";
  std::vector<EdgeKey> only_ours, only_theirs;
  std::set_difference(ours.begin(), ours.end(), theirs.begin(), theirs.end(), std::back_inserter(only_ours));
  std::set_difference(theirs.begin(), theirs.end(), ours.begin(), ours.end(), std::back_inserter(only_theirs));
  EXPECT_TRUE(only_ours.empty()) << name << ": " << only_ours.size() << " edges fairchem does not have";
  EXPECT_TRUE(only_theirs.empty()) << name << ": " << only_theirs.size() << " fairchem edges missing";
}

}  // namespace

TEST(RadiusGraph, MatchesFairchemOnEveryTaskFixture) {
  for (const auto& name : uma_test::task_fixtures()) expect_same_graph(name);
}

TEST(RadiusGraph, MatchesFairchemMaxNeighborRuleOnDenseCell) { expect_same_graph("omat_dense_over300"); }

TEST(RadiusGraph, EdgeVectorsPointFromCentreToNeighbourImage) {
  auto f = uma_test::load_fixture("omat_cu_triclinic");
  const auto& s = f.file.structure;
  auto g = uma::build_radius_graph(s, 6.0, 0);
  ASSERT_FALSE(g.src.empty());
  for (size_t e = 0; e < g.src.size(); ++e)
    for (int k = 0; k < 3; ++k) {
      double expect = s.positions[g.src[e]][k] - s.positions[g.dst[e]][k];
      for (int a = 0; a < 3; ++a) expect += g.offsets[e][a] * s.cell[a][k];
      EXPECT_NEAR(g.vectors[e][k], expect, 1e-12);
    }
}

namespace {
// Energy, forces and edge count of `s` (omat, neutral) with the bundled model in fp64.
uma::StructureResult evaluate(const uma::Structure& s) {
  static uma::Engine engine(uma_test::bundled_model(), uma_test::fp64_options());
  return uma::evaluate_structure(engine, s, "omat", 0, 0);
}
}  // namespace

TEST(RadiusGraph, AtomsOutsideThePeriodicCellAreWrappedIn) {
  // As fairchem (AtomicData.from_ase wraps positions first): moving atoms by lattice vectors does not
  // change the crystal, so neither the graph nor the energy and forces may change. Before the fix an
  // atom one lattice vector outside lost the edges of the images the builder did not generate.
  auto f = uma_test::load_fixture("omat_cu_triclinic");
  const auto& s = f.file.structure;
  auto moved = s;
  for (int k = 0; k < 3; ++k) {
    moved.positions[0][k] += s.cell[0][k];
    moved.positions[1][k] -= s.cell[1][k] + 2.0 * s.cell[2][k];
    moved.positions[2][k] += 3.0 * s.cell[2][k];
  }
  const auto ref = evaluate(s), got = evaluate(moved);
  EXPECT_EQ(got.num_edges, ref.num_edges);
  // Only the rounding of x + a - a separates the two (~1e-15 Å): fp64 energies agree to ~1e-12 eV. Forces
  // usually to ~1e-12 eV/Å, but the same binary gave 1.07e-9 eV/Å in 1 of 3 runs on the CI VM (run to run the
  // CPU GEMMs' summation order can differ in the last bit, and some edge rotations amplify that); 1e-7
  // still separates the bug this guards against (forces off by ~1e-1 eV/Å) by six orders of magnitude.
  EXPECT_NEAR(got.energy, ref.energy, 1e-9);
  auto df = uma_test::max_abs_diff(got.forces, ref.forces);
  EXPECT_LT(df.value, 1e-7) << "max force difference at atom " << df.index;
  // The offsets refer to the caller's positions: x[src] - x[dst] + offset . cell is the edge vector.
  auto g = uma::build_radius_graph(moved, 6.0, 0);
  for (size_t e = 0; e < g.src.size(); ++e)
    for (int k = 0; k < 3; ++k) {
      double expect = moved.positions[g.src[e]][k] - moved.positions[g.dst[e]][k];
      for (int a = 0; a < 3; ++a) expect += g.offsets[e][a] * moved.cell[a][k];
      ASSERT_NEAR(g.vectors[e][k], expect, 1e-9) << "edge " << e;
    }
}

TEST(RadiusGraph, OnlyPeriodicDirectionsAreWrapped) {
  // A slab (periodic in a and b only): moving an atom by c changes the structure; by a it does not.
  auto f = uma_test::load_fixture("oc20_pt111_co");
  const auto& s = f.file.structure;
  ASSERT_TRUE(s.pbc[0] && s.pbc[1] && !s.pbc[2]) << "the fixture is a slab";
  auto by_a = s;
  for (int k = 0; k < 3; ++k) by_a.positions[3][k] -= s.cell[0][k];
  auto g0 = uma::build_radius_graph(s, 6.0, 300), g1 = uma::build_radius_graph(by_a, 6.0, 300);
  EXPECT_EQ(g1.src.size(), g0.src.size());
  auto by_c = s;
  for (int k = 0; k < 3; ++k) by_c.positions[3][k] += s.cell[2][k];
  EXPECT_NE(uma::build_radius_graph(by_c, 6.0, 300).src.size(), g0.src.size());
}

TEST(RadiusGraph, NonFiniteOrAbsurdCoordinatesAreRefused) {
  auto s = uma_test::load_fixture("omat_cu_triclinic").file.structure;
  auto huge = s;
  huge.positions[2][1] = 1e30;
  uma_test::expect_error([&] { uma::build_radius_graph(huge, 6.0, 300); }, "atom 2 has coordinate y = 1e+30");
  auto nan = s;
  nan.positions[1][0] = std::nan("");
  uma_test::expect_error([&] { uma::build_radius_graph(nan, 6.0, 300); }, "not a finite number");
  // Found by fuzz_structure_json: a 2.2e23 Å cell component put image positions beyond the range of the
  // bin index (undefined float -> int64 conversion under UBSan).
  auto long_cell = s;
  long_cell.cell[0][2] = 2.2222222222222222e23;
  uma_test::expect_error([&] { uma::build_radius_graph(long_cell, 6.0, 300); },
                         "cell vector 0 has component z = 2.22222e+23 Å, which is absurd");
}

TEST(RadiusGraph, CellFarSmallerThanTheCutoffIsRefusedBeforeAllocating) {
  // A 1e-3 Å cell would need ~(2*6000+1)^3 images: std::bad_alloc before the fix.
  auto s = uma_test::load_fixture("omat_cu_triclinic").file.structure;
  for (auto& v : s.cell) {
    const double len = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    for (auto& x : v) x *= 1e-3 / len;
  }
  for (auto& p : s.positions) p = {0.0, 0.0, 0.0};
  uma_test::expect_error([&] { uma::build_radius_graph(s, 6.0, 300); }, "far too small for the model's cutoff of 6 Å");
  auto flat = uma_test::load_fixture("omat_cu_triclinic").file.structure;
  flat.cell[2] = flat.cell[0];
  uma_test::expect_error([&] { uma::build_radius_graph(flat, 6.0, 300); }, "has zero volume");
}
