#include "engine/io/radius_graph.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
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

namespace {

// Largest |coordinate| accepted (Å). Beyond it a position carries no usable information: wrapping
// 1e6 Å back into a cell already costs ~1e-10 Å of precision, and bin indices of far-apart atoms
// would overflow. No physical input comes near it.
constexpr double kMaxCoordinate = 1e6;
// Periodic images the builder may create (atoms x images): ~48 bytes each, so ~2.4 GB at the limit.
// Only a cell far smaller than the cutoff (wrong units, a typo) gets near it.
constexpr double kMaxImages = 5e7;

std::string fmt(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

// A coordinate (of a position or a cell vector, Å) must be finite and not absurd; `what` names it.
void check_coordinate(double x, const std::string& what, const std::string& hint) {
  if (std::isfinite(x) && std::abs(x) <= kMaxCoordinate) return;
  throw Error("structure: " + what + " = " + fmt(x) + " Å, which is " +
              (std::isfinite(x) ? "absurd (|x| > " + fmt(kMaxCoordinate) + " Å)" : std::string("not a finite number")) +
              "; " + hint);
}

}  // namespace

RadiusGraph build_radius_graph(const Structure& s, double cutoff, int max_neighbors) {
  const size_t n = s.positions.size();
  if (s.numbers.size() != n) throw Error("structure: numbers and positions differ in length");
  for (size_t i = 0; i < n; ++i)
    for (int k = 0; k < 3; ++k)
      check_coordinate(s.positions[i][k], "atom " + std::to_string(i) + " has coordinate " + "xyz"[k],
                       "positions must be finite Cartesian coordinates in Å near the cell");
  // Images per periodic direction: ceil(cutoff * |a_j x a_k| / V) (the distance between lattice planes).
  std::array<int, 3> reps{{0, 0, 0}};
  const bool any_pbc = s.pbc[0] || s.pbc[1] || s.pbc[2];
  // Lattice translation subtracted from each atom to wrap it into the cell along the periodic
  // directions (integer fractional shifts; atoms already inside keep their exact coordinates).
  std::vector<std::array<int, 3>> shift(n, {{0, 0, 0}});
  std::vector<std::array<double, 3>> pos = s.positions;
  if (any_pbc) {
    for (int k = 0; k < 3; ++k)
      for (int c = 0; c < 3; ++c)
        check_coordinate(s.cell[k][c], "cell vector " + std::to_string(k) + " has component " + "xyz"[c],
                         "cell vectors are in Å");
    const double vol = s.volume();
    std::array<double, 3> spacing{};  // distance between lattice planes (Å)
    for (int k = 0; k < 3; ++k) spacing[k] = vol / norm(cross(s.cell[(k + 1) % 3], s.cell[(k + 2) % 3]));
    auto cell_words = [&] {
      return "the periodic cell (lengths " + fmt(norm(s.cell[0])) + ", " + fmt(norm(s.cell[1])) + ", " +
             fmt(norm(s.cell[2])) + " Å, volume " + fmt(vol) + " Å^3)";
    };
    if (!(vol > 0.0)) throw Error("structure: " + cell_words() + " has zero volume; give three independent cell vectors in Å");
    double images = double(n);
    for (int k = 0; k < 3; ++k)
      if (s.pbc[k]) {
        const double r = std::ceil(cutoff / spacing[k]);
        images *= 2.0 * r + 1.0;
        if (!(r < 1e6) || !(images <= kMaxImages))
          throw Error("structure: " + cell_words() + " is far too small for the model's cutoff of " + fmt(cutoff) +
                      " Å: its lattice planes are " + fmt(spacing[k]) + " Å apart along periodic direction " +
                      std::to_string(k) + ", which would need more than " + fmt(kMaxImages) +
                      " periodic images; check the cell (it is in Å) or make it a supercell");
        reps[k] = static_cast<int>(r);
      }
    // fairchem wraps positions into the cell first (AtomicData.from_ase: ase wrap_positions); the
    // graph of an atom one lattice vector outside must be the graph of the same crystal.
    const auto& a = s.cell;
    const double inv_det = 1.0 / (a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) -
                                  a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
                                  a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]));
    // Fractional coordinate k of x: x . (a_{k+1} x a_{k+2}) / det.
    std::array<std::array<double, 3>, 3> recip;
    for (int k = 0; k < 3; ++k) recip[k] = cross(a[(k + 1) % 3], a[(k + 2) % 3]);
    for (size_t i = 0; i < n; ++i) {
      for (int k = 0; k < 3; ++k) {
        if (!s.pbc[k]) continue;
        const double cells = std::floor(dot(s.positions[i], recip[k]) * inv_det);
        if (std::abs(cells) > 1e6)
          throw Error("structure: atom " + std::to_string(i) + " lies " + fmt(cells) + " cells away along periodic direction " +
                      std::to_string(k) + " of " + cell_words() + "; give positions near the cell");
        shift[i][k] = static_cast<int>(cells);
      }
      if (shift[i][0] || shift[i][1] || shift[i][2])
        for (int c = 0; c < 3; ++c)
          pos[i][c] = s.positions[i][c] - shift[i][0] * a[0][c] - shift[i][1] * a[1][c] - shift[i][2] * a[2][c];
    }
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
          for (int k = 0; k < 3; ++k) p[k] = pos[j][k] + a * s.cell[0][k] + b * s.cell[1][k] + c * s.cell[2][k];
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
    auto bi = bin_of(pos[i]);
    for (int dx = -1; dx <= 1; ++dx)
      for (int dy = -1; dy <= 1; ++dy)
        for (int dz = -1; dz <= 1; ++dz) {
          auto it = bins.find(key(bi[0] + dx, bi[1] + dy, bi[2] + dz));
          if (it == bins.end()) continue;
          for (size_t m : it->second) {
            std::array<double, 3> d;
            for (int k = 0; k < 3; ++k) d[k] = images[m].pos[k] - pos[i][k];
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
      // Offsets are reported for the caller's (unwrapped) positions: x[src] - x[dst] + offset . cell.
      const auto& off = images[x.image].off;
      const auto& sj = shift[images[x.image].j];
      g.offsets.push_back({off[0] + shift[i][0] - sj[0], off[1] + shift[i][1] - sj[1], off[2] + shift[i][2] - sj[2]});
      g.vectors.push_back(x.vec);
    }
  }
  return g;
}

}  // namespace uma
