#include "engine/so3/wigner.h"

#include <cmath>

namespace uma {

torch::Tensor edge_rotation_to_y(const torch::Tensor& u) {
  // Shortest-arc rotation u -> y (Rodrigues with axis u x y, unnormalised):
  //   R = I + K + K^2 / (1 + u_y),  K = [u x y]_x.
  // It is singular only at u = -y. For u_y < 0 we first flip by pi about x ((x,y,z) -> (x,-y,-z)),
  // which maps u to a vector with u_y > 0, and then apply the shortest arc. Either chart gives an
  // exact rotation onto +y; they differ only by a roll, to which the model is invariant.
  auto flip = u.select(1, 1) < 0;                                           // [E]
  auto sign = torch::where(flip, -torch::ones_like(u.select(1, 1)), torch::ones_like(u.select(1, 1)));
  auto ux = u.select(1, 0), uy = u.select(1, 1) * sign, uz = u.select(1, 2) * sign;
  // k = u' x y = (-u'_z, 0, u'_x)
  auto kx = -uz, kz = ux;
  auto inv = 1.0 / (1.0 + uy);  // uy >= 0 here, so 1 + uy >= 1
  auto one = torch::ones_like(ux);
  // K = [[0, -kz, 0], [kz, 0, -kx], [0, kx, 0]] (ky = 0); K^2 = k k^T - |k|^2 I.
  auto kk = kx * kx + kz * kz;
  auto r00 = one + (kx * kx - kk) * inv;
  auto r01 = -kz;
  auto r02 = kx * kz * inv;
  auto r10 = kz;
  auto r11 = one - kk * inv;
  auto r12 = -kx;
  auto r20 = kx * kz * inv;
  auto r21 = kx;
  auto r22 = one + (kz * kz - kk) * inv;
  auto R = torch::stack({r00, r01, r02, r10, r11, r12, r20, r21, r22}, 1).view({-1, 3, 3});
  // Compose with the flip F = diag(1, s, s): R_total = R' F, i.e. scale columns 1 and 2 by s.
  auto col_scale = torch::stack({one, sign, sign}, 1).unsqueeze(1);  // [E,1,3]
  return R * col_scale;
}

// The five l = 2 real spherical harmonics of e3nn as quadratic forms Y_a(v) = v^T Q_a v, in e3nn's
// order: sqrt3 xz, sqrt3 xy, y^2 - (x^2+z^2)/2, sqrt3 yz, sqrt3/2 (z^2 - x^2). All Q_a are mutually
// orthogonal with Frobenius norm^2 = 3/2, so D2_ab = tr(R^T Q_a R Q_b) / (3/2).
torch::Tensor l2_quadratic_forms(torch::TensorOptions opt) {
  const double s3 = std::sqrt(3.0);
  auto Q = torch::zeros({5, 3, 3}, torch::TensorOptions().dtype(torch::kFloat64));
  auto a = Q.accessor<double, 3>();
  a[0][0][2] = a[0][2][0] = s3 / 2;  // xz
  a[1][0][1] = a[1][1][0] = s3 / 2;  // xy
  a[2][0][0] = -0.5; a[2][1][1] = 1.0; a[2][2][2] = -0.5;
  a[3][1][2] = a[3][2][1] = s3 / 2;  // yz
  a[4][0][0] = -s3 / 2; a[4][2][2] = s3 / 2;
  return Q.to(opt);
}

torch::Tensor wigner_from_rotation(const torch::Tensor& R, const torch::Tensor& l2_forms) {
  const int64_t E = R.size(0);
  auto Q = l2_forms.defined() ? l2_forms : l2_quadratic_forms(R.options());
  // M_a = R^T Q_a R  ->  D2[e,a,b] = sum_ij M_a[i,j] Q_b[j,i] / 1.5
  auto M = torch::einsum("eji,ajk,ekl->eail", {R, Q, R});
  auto D2 = torch::einsum("eail,bli->eab", {M, Q}) / 1.5;
  auto z = [&](int64_t rows, int64_t cols) { return torch::zeros({E, rows, cols}, R.options()); };
  auto row0 = torch::cat({torch::ones({E, 1, 1}, R.options()), z(1, 8)}, 2);
  auto row1 = torch::cat({z(3, 1), R, z(3, 5)}, 2);
  auto row2 = torch::cat({z(5, 4), D2}, 2);
  auto D = torch::cat({row0, row1, row2}, 1);
  return D;
}

EdgeGeometry edge_geometry(const torch::Tensor& vec, const torch::Tensor& offsets, double cutoff, double gauss_coeff,
                           const torch::Tensor& l2_forms) {
  const int64_t E = vec.size(0);
  auto dist = vec.norm(2, 1);
  auto unit = vec / dist.unsqueeze(1);
  EdgeGeometry g;
  g.wigner = wigner_from_rotation(edge_rotation_to_y(unit), l2_forms);
  auto r = dist / cutoff;  // PolynomialEnvelope(5)
  auto env = torch::where(r < 1.0, 1.0 + r.pow(5) * (-21.0 + r * (35.0 - 15.0 * r)), torch::zeros_like(r));
  g.wigner_inv_env = g.wigner.transpose(1, 2) * env.view({E, 1, 1});
  g.gauss = torch::exp(gauss_coeff * (dist.unsqueeze(1) - offsets.unsqueeze(0)).pow(2));
  return g;
}

}  // namespace uma
