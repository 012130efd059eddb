// The per-edge maths of the fused edge geometry (edge_geometry_params.h), for one edge, in a scalar type S that is
// either T (the forward) or Dual<T> (value and the three partial derivatives by vec_x, vec_y, vec_z: the backward
// seeds them and reads the Jacobian of every output off the result, forward-mode; no hand-written adjoint of the
// rotation chart or of the quadratic forms to get wrong). Host and device: the CUDA kernels and the CPU reference
// run this same code; the tests hold it to the Torch form (engine/so3/wigner.cpp, autograd) and to finite differences.
#ifndef UMA_KERNELS_EDGE_GEOMETRY_MATH_H
#define UMA_KERNELS_EDGE_GEOMETRY_MATH_H

#include <cmath>

#include "edge_geometry_params.h"

#ifdef __CUDACC__
#define UMA_GEOM_HD __host__ __device__ __forceinline__
#else
#define UMA_GEOM_HD inline
#endif
// Fixed-size loops unrolled on the device, so that the small arrays live in registers and the zero entries of the
// quadratic forms fold away.
#ifdef __CUDA_ARCH__
#define UMA_GEOM_UNROLL _Pragma("unroll")
#else
#define UMA_GEOM_UNROLL
#endif

namespace uma {
namespace kernels {
namespace geometry {

// A value with its gradient by the three components of the edge vector.
template <typename T>
struct Dual {
  T v;
  T d[3];
};

template <typename T>
UMA_GEOM_HD T value_of(T x) { return x; }
template <typename T>
UMA_GEOM_HD T value_of(const Dual<T>& x) { return x.v; }

template <typename T>
UMA_GEOM_HD Dual<T> constant_dual(T v) { return {v, {T(0), T(0), T(0)}}; }

// Zero in the scalar type of x (T or Dual<T>).
template <typename T>
UMA_GEOM_HD T zero_like(T) { return T(0); }
template <typename T>
UMA_GEOM_HD Dual<T> zero_like(const Dual<T>&) { return constant_dual(T(0)); }

template <typename T>
UMA_GEOM_HD Dual<T> operator+(const Dual<T>& a, const Dual<T>& b) {
  return {a.v + b.v, {a.d[0] + b.d[0], a.d[1] + b.d[1], a.d[2] + b.d[2]}};
}
template <typename T>
UMA_GEOM_HD Dual<T> operator-(const Dual<T>& a, const Dual<T>& b) {
  return {a.v - b.v, {a.d[0] - b.d[0], a.d[1] - b.d[1], a.d[2] - b.d[2]}};
}
template <typename T>
UMA_GEOM_HD Dual<T> operator-(const Dual<T>& a) { return {-a.v, {-a.d[0], -a.d[1], -a.d[2]}}; }
template <typename T>
UMA_GEOM_HD Dual<T> operator*(const Dual<T>& a, const Dual<T>& b) {
  return {a.v * b.v, {a.d[0] * b.v + a.v * b.d[0], a.d[1] * b.v + a.v * b.d[1], a.d[2] * b.v + a.v * b.d[2]}};
}
template <typename T>
UMA_GEOM_HD Dual<T> operator*(const Dual<T>& a, T s) { return {a.v * s, {a.d[0] * s, a.d[1] * s, a.d[2] * s}}; }
template <typename T>
UMA_GEOM_HD Dual<T> operator*(T s, const Dual<T>& a) { return a * s; }
template <typename T>
UMA_GEOM_HD Dual<T> operator+(const Dual<T>& a, T s) { return {a.v + s, {a.d[0], a.d[1], a.d[2]}}; }
template <typename T>
UMA_GEOM_HD Dual<T> operator+(T s, const Dual<T>& a) { return a + s; }
template <typename T>
UMA_GEOM_HD Dual<T> operator-(T s, const Dual<T>& a) { return s + (-a); }
template <typename T>
UMA_GEOM_HD Dual<T> operator-(const Dual<T>& a, T s) { return a + (-s); }
template <typename T>
UMA_GEOM_HD Dual<T> operator/(const Dual<T>& a, const Dual<T>& b) {
  const T q = a.v / b.v;
  return {q, {(a.d[0] - q * b.d[0]) / b.v, (a.d[1] - q * b.d[1]) / b.v, (a.d[2] - q * b.d[2]) / b.v}};
}
template <typename T>
UMA_GEOM_HD Dual<T> operator/(T s, const Dual<T>& b) { return constant_dual(s) / b; }
template <typename T>
UMA_GEOM_HD Dual<T> operator/(const Dual<T>& a, T s) { return {a.v / s, {a.d[0] / s, a.d[1] / s, a.d[2] / s}}; }

UMA_GEOM_HD float sqrt_of(float x) { return sqrtf(x); }
UMA_GEOM_HD double sqrt_of(double x) { return sqrt(x); }
UMA_GEOM_HD float exp_of(float x) { return expf(x); }
UMA_GEOM_HD double exp_of(double x) { return exp(x); }
template <typename T>
UMA_GEOM_HD Dual<T> sqrt_of(const Dual<T>& a) {
  const T s = sqrt_of(a.v), h = T(0.5) / s;
  return {s, {a.d[0] * h, a.d[1] * h, a.d[2] * h}};
}
template <typename T>
UMA_GEOM_HD Dual<T> exp_of(const Dual<T>& a) {
  const T e = exp_of(a.v);
  return {e, {a.d[0] * e, a.d[1] * e, a.d[2] * e}};
}

// Entry (j, k) of the a-th l = 2 quadratic form Q_a (engine/so3/wigner.cpp l2_quadratic_forms, e3nn's order
// xz, xy, y^2 - (x^2+z^2)/2, yz, (z^2 - x^2)/2 up to sqrt3): constant-folded once the loops unroll.
template <typename T>
UMA_GEOM_HD T l2_form(int a, int j, int k) {
  const T h3 = T(0.86602540378443864676);  // sqrt(3) / 2
  switch (a) {
    case 0: return (j == 0 && k == 2) || (j == 2 && k == 0) ? h3 : T(0);
    case 1: return (j == 0 && k == 1) || (j == 1 && k == 0) ? h3 : T(0);
    case 2: return j != k ? T(0) : (j == 1 ? T(1) : T(-0.5));
    case 3: return (j == 1 && k == 2) || (j == 2 && k == 1) ? h3 : T(0);
    default: return j != k || j == 1 ? T(0) : (j == 0 ? -h3 : h3);
  }
}

// One edge's frame: R (R u = +y, engine/so3/wigner.cpp edge_rotation_to_y), D2 (the l = 2 block), |vec| and the
// envelope. T is the real type, S = T or Dual<T>.
template <typename T, typename S>
struct Frame {
  S R[3][3];
  S D2[5][5];
  S dist;
  S env;
};

template <typename T, typename S>
UMA_GEOM_HD void edge_frame(const S vec[3], T cutoff, Frame<T, S>& f) {
  f.dist = sqrt_of(vec[0] * vec[0] + vec[1] * vec[1] + vec[2] * vec[2]);
  const S ux = vec[0] / f.dist, uy0 = vec[1] / f.dist, uz0 = vec[2] / f.dist;
  // Chart: for u_y < 0 flip by pi about x first, (x,y,z) -> (x,-y,-z); the sign carries no derivative.
  const T s = value_of(uy0) < T(0) ? T(-1) : T(1);
  const S uy = uy0 * s, uz = uz0 * s;
  const S kx = -uz, kz = ux;  // k = u' x y
  const S inv = T(1) / (uy + T(1));
  const S kk = kx * kx + kz * kz;
  const S zero = zero_like(ux), one = zero + T(1);
  f.R[0][0] = one + (kx * kx - kk) * inv;
  f.R[0][1] = -kz * s;
  f.R[0][2] = kx * kz * inv * s;
  f.R[1][0] = kz;
  f.R[1][1] = (one - kk * inv) * s;
  f.R[1][2] = -kx * s;
  f.R[2][0] = kx * kz * inv;
  f.R[2][1] = kx * s;
  f.R[2][2] = (one + (kz * kz - kk) * inv) * s;
  // D2[a][b] = tr(R^T Q_a R Q_b) / 1.5 with M_a = R^T Q_a R.
  UMA_GEOM_UNROLL
  for (int a = 0; a < 5; ++a) {
    S M[3][3];
    UMA_GEOM_UNROLL
    for (int i = 0; i < 3; ++i)
      UMA_GEOM_UNROLL
      for (int l = 0; l < 3; ++l) {
        S acc = zero;
        UMA_GEOM_UNROLL
        for (int j = 0; j < 3; ++j)
          UMA_GEOM_UNROLL
          for (int k = 0; k < 3; ++k) {
            const T q = l2_form<T>(a, j, k);
            if (q != T(0)) acc = acc + f.R[j][i] * f.R[k][l] * q;
          }
        M[i][l] = acc;
      }
    UMA_GEOM_UNROLL
    for (int b = 0; b < 5; ++b) {
      S acc = zero;
      UMA_GEOM_UNROLL
      for (int i = 0; i < 3; ++i)
        UMA_GEOM_UNROLL
        for (int l = 0; l < 3; ++l) {
          const T q = l2_form<T>(b, l, i);
          if (q != T(0)) acc = acc + M[i][l] * q;
        }
      f.D2[a][b] = acc / T(1.5);
    }
  }
  // PolynomialEnvelope(5): 1 + r^5 (-21 + r (35 - 15 r)) for r < 1, else 0 (no derivative beyond the cutoff).
  const S r = f.dist / cutoff;
  if (value_of(r) < T(1)) {
    const S r2 = r * r;
    f.env = (r2 * r2 * r) * (T(-21) + r * (T(35) - r * T(15))) + T(1);
  } else {
    f.env = zero;
  }
}

// Calls fn(row, col, value) for every entry of D = blockdiag(1, R, D2) that depends on the edge: R at rows and
// columns 1-3, D2 at 4-8 (L-major). D_00 = 1 and the zeros off the blocks are the callers' to handle. The one
// place that maps the frame onto D's indices, for the forward and the adjoint alike.
template <typename T, typename S, typename F>
UMA_GEOM_HD void for_each_rotation_entry(const Frame<T, S>& f, F&& fn) {
  UMA_GEOM_UNROLL
  for (int i = 0; i < 3; ++i)
    UMA_GEOM_UNROLL
    for (int j = 0; j < 3; ++j) fn(1 + i, 1 + j, f.R[i][j]);
  UMA_GEOM_UNROLL
  for (int a = 0; a < 5; ++a)
    UMA_GEOM_UNROLL
    for (int b = 0; b < 5; ++b) fn(4 + a, 4 + b, f.D2[a][b]);
}

// The forward of one edge: the two 9x9 matrices (every entry written: zeros off the blocks) and |vec|, from which
// the caller makes the Gaussians (gaussian() below) in whatever order suits its memory accesses.
template <typename T>
UMA_GEOM_HD T edge_forward(const T vec[3], T cutoff, T* wigner, T* wigner_inv_env) {
  Frame<T, T> f;
  edge_frame<T, T>(vec, cutoff, f);
  for (int i = 0; i < kGeometryCoefficients * kGeometryCoefficients; ++i) wigner[i] = wigner_inv_env[i] = T(0);
  wigner[0] = T(1);
  wigner_inv_env[0] = f.env;
  for_each_rotation_entry(f, [&](int row, int col, const T& d) {
    wigner[row * kGeometryCoefficients + col] = d;
    wigner_inv_env[col * kGeometryCoefficients + row] = d * f.env;
  });
  return f.dist;
}

template <typename T, typename S>
UMA_GEOM_HD S gaussian(const S& dist, T coeff, T offset) {
  const S x = dist - offset;
  return exp_of(x * x * coeff);
}

// The adjoint of one edge: d/dvec of  sum(gw · D) + sum(gwi · D^T env) + sum(gg · gauss), by forward-mode
// derivatives (Dual). gw, gwi: [9*9] or nullptr; gg: [G] or nullptr (an output without a gradient adds nothing).
template <typename T>
UMA_GEOM_HD void edge_backward(const T vec_in[3], const T* gw, const T* gwi, const T* gg,
                               const EdgeGeometryConstants<T>& c, T grad_vec[3]) {
  Dual<T> vec[3];
  UMA_GEOM_UNROLL
  for (int i = 0; i < 3; ++i) {
    vec[i] = constant_dual(vec_in[i]);
    vec[i].d[i] = T(1);
  }
  Frame<T, Dual<T>> f;
  edge_frame<T, Dual<T>>(vec, c.cutoff, f);
  T g[3] = {T(0), T(0), T(0)};
  auto add = [&](const Dual<T>& x, T w) {
    UMA_GEOM_UNROLL
    for (int k = 0; k < 3; ++k) g[k] += w * x.d[k];
  };
  // d(D_rc · env) = dD_rc · env + D_rc · denv: the envelope's share collects sum(gwi_cr · D_rc) first.
  T env_weight = gwi ? gwi[0] : T(0);  // D_00 = 1
  for_each_rotation_entry(f, [&](int row, int col, const Dual<T>& d) {
    const T w = gw ? gw[row * kGeometryCoefficients + col] : T(0);
    const T wi = gwi ? gwi[col * kGeometryCoefficients + row] : T(0);
    add(d, w + wi * f.env.v);
    env_weight += wi * d.v;
  });
  add(f.env, env_weight);
  if (gg)
    for (int64_t q = 0; q < c.num_gaussians; ++q) add(gaussian(f.dist, c.gauss_coeff, c.offsets[q]), gg[q]);
  UMA_GEOM_UNROLL
  for (int k = 0; k < 3; ++k) grad_vec[k] = g[k];
}

}  // namespace geometry
}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_EDGE_GEOMETRY_MATH_H
