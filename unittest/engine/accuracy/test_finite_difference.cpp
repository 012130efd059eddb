// Forces and stress are the exact derivatives of the energy: central finite differences in fp64.
#include "test_support.h"

TEST(FiniteDifference, ForcesAreMinusEnergyGradient) {
  uma::Engine engine(uma_test::bundled_model(), uma_test::fp64_options());
  for (const std::string name : {"omol_cation_radical", "omat_cu_triclinic"}) {
    auto f = uma_test::load_fixture(name);
    auto s = f.file.structure;
    auto r = uma::evaluate_structure(engine, s, f.file.task, f.file.charge, f.file.spin);
    // h = 1e-4 Å: truncation error ~h^2 * E''' ~1e-8 eV/Å, round-off ~1e-16 * |E| / h ~1e-10.
    const double h = 1e-4;
    // Two atoms per structure, all three directions: a wrong force anywhere in the chain rule shows up
    // on every atom, so more displacements only cost time.
    for (size_t i = 0; i < s.positions.size(); i += std::max<size_t>(1, s.positions.size() / 2 + 1))
      for (int k = 0; k < 3; ++k) {
        auto p = s, m = s;
        p.positions[i][k] += h;
        m.positions[i][k] -= h;
        const double ep = uma::evaluate_structure(engine, p, f.file.task, f.file.charge, f.file.spin, false).energy;
        const double em = uma::evaluate_structure(engine, m, f.file.task, f.file.charge, f.file.spin, false).energy;
        EXPECT_NEAR(r.forces[i][k], -(ep - em) / (2 * h), 1e-6) << name << " atom " << i << " dir " << k;
      }
  }
}

TEST(FiniteDifference, StressIsStrainDerivativeOverVolume) {
  // sigma_ab = (1/V) dE/d eps_ab for r' = r (I + eps), h' = h (I + eps) (symmetric strain).
  uma::Engine engine(uma_test::bundled_model(), uma_test::fp64_options());
  for (const std::string name : {"omat_cu_triclinic", "omc_crystal"}) {
    auto f = uma_test::load_fixture(name);
    const auto& s = f.file.structure;
    auto r = uma::evaluate_structure(engine, s, f.file.task, f.file.charge, f.file.spin);
    const double h = 1e-5;
    auto strained = [&](int a, int b, double e) {
      return uma::evaluate_structure(engine, uma_test::strained(s, a, b, e), f.file.task, f.file.charge, f.file.spin,
                                     false)
          .energy;
    };
    const double vol = s.volume();
    for (int a = 0; a < 3; ++a)
      for (int b = a; b < 3; ++b) {
        const double fd = (strained(a, b, h) - strained(a, b, -h)) / (2 * h) / vol;
        // Truncation ~h^2 |E'''|/V, round-off ~1e-16 |E| / (h V): both < 1e-8 eV/Å^3 here.
        EXPECT_NEAR(r.stress[3 * a + b], fd, 1e-7) << name << " stress " << a << b;
      }
  }
}
