#include "engine/radius_graph.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "model/errors.h"

namespace uma {

namespace {
std::array<double, 3> cross(const std::array<double, 3>& a, const std::array<double, 3>& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
double dot(const std::array<double, 3>& a, const std::array<double, 3>& b) {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}
double norm(const std::array<double, 3>& a) { return std::sqrt(dot(a, a)); }
}  // namespace

double Structure::volume() const { return std::abs(dot(cell[0], cross(cell[1], cell[2]))); }

RadiusGraph build_radius_graph(const Structure& s, double cutoff, int max_neighbors) {
  const size_t n = s.positions.size();
  if (s.numbers.size() != n) throw Error("structure: numbers and positions differ in length");
  // Images per periodic direction: ceil(cutoff * |a_j x a_k| / V) (the distance between lattice planes).
  std::array<int, 3> reps{{0, 0, 0}};
  const bool any_pbc = s.pbc[0] || s.pbc[1] || s.pbc[2];
  if (any_pbc) {
    const double vol = s.volume();
    if (!(vol > 0.0)) throw Error("structure: periodic cell has zero volume");
    for (int k = 0; k < 3; ++k)
      if (s.pbc[k]) reps[k] = static_cast<int>(std::ceil(cutoff * norm(cross(s.cell[(k + 1) % 3], s.cell[(k + 2) % 3])) / vol));
  }
  const double cut2 = cutoff * cutoff;
  // All periodic images of all atoms, binned on a cubic grid of side `cutoff`: each target only looks
  // at the 27 bins around it (linear in the number of atoms instead of quadratic).
  struct Image {
    int64_t j;
    std::array<int, 3> off;
    std::array<double, 3> pos;
  };
  std::vector<Image> images;
  for (int a = -reps[0]; a <= reps[0]; ++a)
    for (int b = -reps[1]; b <= reps[1]; ++b)
      for (int c = -reps[2]; c <= reps[2]; ++c)
        for (size_t j = 0; j < n; ++j) {
          std::array<double, 3> p;
          for (int k = 0; k < 3; ++k) p[k] = s.positions[j][k] + a * s.cell[0][k] + b * s.cell[1][k] + c * s.cell[2][k];
          images.push_back({int64_t(j), {a, b, c}, p});
        }
  std::array<double, 3> lo{{1e300, 1e300, 1e300}};
  for (const auto& im : images)
    for (int k = 0; k < 3; ++k) lo[k] = std::min(lo[k], im.pos[k]);
  auto bin_of = [&](const std::array<double, 3>& p) {
    std::array<int64_t, 3> b;
    for (int k = 0; k < 3; ++k) b[k] = static_cast<int64_t>(std::floor((p[k] - lo[k]) / cutoff));
    return b;
  };
  auto key = [](int64_t x, int64_t y, int64_t z) { return (x * 1000003LL + y) * 1000033LL + z; };
  std::unordered_map<int64_t, std::vector<size_t>> bins;
  for (size_t m = 0; m < images.size(); ++m) {
    auto b = bin_of(images[m].pos);
    bins[key(b[0], b[1], b[2])].push_back(m);
  }
  RadiusGraph g;
  struct Candidate {
    double d2;
    size_t image;
    std::array<double, 3> vec;
  };
  std::vector<Candidate> cand;
  for (size_t i = 0; i < n; ++i) {
    cand.clear();
    auto bi = bin_of(s.positions[i]);
    for (int dx = -1; dx <= 1; ++dx)
      for (int dy = -1; dy <= 1; ++dy)
        for (int dz = -1; dz <= 1; ++dz) {
          auto it = bins.find(key(bi[0] + dx, bi[1] + dy, bi[2] + dz));
          if (it == bins.end()) continue;
          for (size_t m : it->second) {
            std::array<double, 3> d;
            for (int k = 0; k < 3; ++k) d[k] = images[m].pos[k] - s.positions[i][k];
            const double d2 = dot(d, d);
            if (d2 > 0.0 && d2 <= cut2) cand.push_back({d2, m, d});
          }
        }
    // fairchem lists a target's edges in image-major order; keep a deterministic order too.
    std::sort(cand.begin(), cand.end(), [](const Candidate& x, const Candidate& y) { return x.image < y.image; });
    if (max_neighbors > 0 && cand.size() > size_t(max_neighbors)) {
      std::vector<double> d2s;
      for (const auto& x : cand) d2s.push_back(x.d2);
      std::nth_element(d2s.begin(), d2s.begin() + max_neighbors, d2s.end());
      const double keep = d2s[max_neighbors] + 0.01;  // degenerate shells are kept whole
      cand.erase(std::remove_if(cand.begin(), cand.end(), [&](const Candidate& x) { return x.d2 > keep; }),
                 cand.end());
    }
    for (const auto& x : cand) {
      g.src.push_back(images[x.image].j);
      g.dst.push_back(int64_t(i));
      g.offsets.push_back(images[x.image].off);
      g.vectors.push_back(x.vec);
    }
  }
  return g;
}

}  // namespace uma
