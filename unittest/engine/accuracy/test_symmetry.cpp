// Physical symmetries that hold whatever the weights: invariance of the energy under rotation,
// translation, atom permutation and periodic image shifts; covariance of forces and stress.
#include <numeric>
#include <random>

#include "test_support.h"

namespace {

using Mat = std::array<std::array<double, 3>, 3>;

Mat rotation(double a, double b, double c) {
  // Z(a) Y(b) X(c): a generic rotation.
  const double ca = std::cos(a), sa = std::sin(a), cb = std::cos(b), sb = std::sin(b), cc = std::cos(c), sc = std::sin(c);
  return {{{ca * cb, ca * sb * sc - sa * cc, ca * sb * cc + sa * sc},
           {sa * cb, sa * sb * sc + ca * cc, sa * sb * cc - ca * sc},
           {-sb, cb * sc, cb * cc}}};
}

std::array<double, 3> rotate_vec(const Mat& R, const std::array<double, 3>& v) {
  std::array<double, 3> o{};
  for (int i = 0; i < 3; ++i) o[i] = R[i][0] * v[0] + R[i][1] * v[1] + R[i][2] * v[2];
  return o;
}

// fp64 round-off through 4 layers: relative 1e-10 of the energy and of the force scale.
constexpr double kRel = 1e-10;

}  // namespace

TEST(Symmetry, RotationInvariantEnergyCovariantForcesAndStress) {
  uma::Engine engine(uma_test::bundled_model(), uma_test::fp64_options());
  for (const std::string name : {"omol_cation_radical", "omat_cu_triclinic", "oc20_pt111_co"}) {
    auto f = uma_test::load_fixture(name);
    auto s = f.file.structure;
    auto r0 = uma::evaluate_structure(engine, s, f.file.task, f.file.charge, f.file.spin);
    const Mat R = rotation(0.3, -1.1, 2.2);
    auto t = s;
    for (auto& p : t.positions) p = rotate_vec(R, p);
    for (auto& c : t.cell) c = rotate_vec(R, c);
    auto r1 = uma::evaluate_structure(engine, t, f.file.task, f.file.charge, f.file.spin);
    EXPECT_NEAR(r1.energy, r0.energy, kRel * std::abs(r0.energy)) << name;
    std::vector<std::array<double, 3>> rotated;
    for (const auto& v : r0.forces) rotated.push_back(rotate_vec(R, v));
    EXPECT_LE(uma_test::max_abs_diff(r1.forces, rotated).value, kRel * 100 * uma_test::max_abs(r0.forces)) << name;
    if (r0.has_stress) {
      // sigma' = R sigma R^T
      for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) {
          double expect = 0.0;
          for (int c = 0; c < 3; ++c)
            for (int d = 0; d < 3; ++d) expect += R[a][c] * r0.stress[3 * c + d] * R[b][d];
          EXPECT_NEAR(r1.stress[3 * a + b], expect, 1e-12) << name;
        }
    }
  }
}

TEST(Symmetry, TranslationAndImageShiftInvariance) {
  uma::Engine engine(uma_test::bundled_model(), uma_test::fp64_options());
  auto f = uma_test::load_fixture("omat_cu_triclinic");
  auto s = f.file.structure;
  auto r0 = uma::evaluate_structure(engine, s, f.file.task, f.file.charge, f.file.spin);
  auto t = s;
  for (auto& p : t.positions)
    for (int k = 0; k < 3; ++k) p[k] += 0.37 * (k + 1);
  // Move atom 0 by one lattice vector: the same crystal, a different image in the list.
  for (int k = 0; k < 3; ++k) t.positions[0][k] += t.cell[1][k] - t.cell[2][k];
  auto r1 = uma::evaluate_structure(engine, t, f.file.task, f.file.charge, f.file.spin);
  EXPECT_NEAR(r1.energy, r0.energy, kRel * std::abs(r0.energy));
  EXPECT_LE(uma_test::max_abs_diff(r1.forces, r0.forces).value, 1e-8 * uma_test::max_abs(r0.forces));
}

TEST(Symmetry, AtomPermutationInvariance) {
  uma::Engine engine(uma_test::bundled_model(), uma_test::fp64_options());
  for (const std::string name : {"omol_cation_radical", "odac_framework_co2"}) {
    auto f = uma_test::load_fixture(name);
    auto s = f.file.structure;
    auto r0 = uma::evaluate_structure(engine, s, f.file.task, f.file.charge, f.file.spin);
    std::vector<size_t> perm(s.numbers.size());
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), std::mt19937(42));
    auto t = s;
    for (size_t i = 0; i < perm.size(); ++i) {
      t.numbers[i] = s.numbers[perm[i]];
      t.positions[i] = s.positions[perm[i]];
    }
    auto r1 = uma::evaluate_structure(engine, t, f.file.task, f.file.charge, f.file.spin);
    EXPECT_NEAR(r1.energy, r0.energy, kRel * std::abs(r0.energy)) << name;
    std::vector<std::array<double, 3>> permuted;
    for (size_t i = 0; i < perm.size(); ++i) permuted.push_back(r0.forces[perm[i]]);
    EXPECT_LE(uma_test::max_abs_diff(r1.forces, permuted).value, 1e-8 * uma_test::max_abs(r0.forces)) << name;
  }
}

TEST(Symmetry, SupercellIsExtensive) {
  // UMA 1.1's composition mean excludes the zero self term, so E(2x1x1) = 2 E exactly.
  uma::Engine engine(uma_test::bundled_model(), uma_test::fp64_options());
  auto f = uma_test::load_fixture("omat_cu_triclinic");
  auto s = f.file.structure;
  auto r0 = uma::evaluate_structure(engine, s, f.file.task, f.file.charge, f.file.spin);
  auto t = uma_test::doubled_along_a(s);
  auto r1 = uma::evaluate_structure(engine, t, f.file.task, f.file.charge, f.file.spin);
  EXPECT_NEAR(r1.energy, 2 * r0.energy, kRel * std::abs(r1.energy));
}
