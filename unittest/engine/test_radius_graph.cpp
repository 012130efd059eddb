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
