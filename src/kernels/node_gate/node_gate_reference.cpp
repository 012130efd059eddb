// CPU reference of the fused node gate; see node_gate_reference.h.
#include "node_gate_reference.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace uma {
namespace kernels {
namespace {

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double silu(double x) { return x * sigmoid(x); }
double silu_grad(double x) { return sigmoid(x) * (1.0 + x * (1.0 - sigmoid(x))); }

// A [nodes, 9, H] layout whose elements do not overlap: rows inside nodes, or nodes inside rows.
template <typename T>
bool layout_ok(const NodeRows<T>& t, int64_t n_nodes, int64_t H) {
  return (t.row_stride >= H && t.node_stride >= kNodeGateRows * t.row_stride) ||
         (t.node_stride >= H && t.row_stride >= n_nodes * t.node_stride);
}

void check(bool ok, const char* what, int64_t n_nodes, int64_t H, int64_t ld_z) {
  if (!ok)
    throw std::invalid_argument(std::string(what) + ": bad sizes n_nodes=" + std::to_string(n_nodes) +
                                ", channels=" + std::to_string(H) + ", ld_z=" + std::to_string(ld_z));
}

template <typename T>
T& at(const NodeRows<T>& t, int64_t n, int r, int64_t c) {
  return t.p[n * t.node_stride + r * t.row_stride + c];
}

}  // namespace

template <typename T>
void node_gate_fwd_reference(const NodeGateFwdParams<T>& p) {
  const int64_t H = p.channels;
  check(p.n_nodes >= 0 && H > 0 && p.ld_z >= 2 * H && layout_ok(p.h, p.n_nodes, H) &&
            layout_ok(p.out, p.n_nodes, H),
        "node_gate_fwd_reference", p.n_nodes, H, p.ld_z);
  for (int64_t n = 0; n < p.n_nodes; ++n)
    for (int64_t c = 0; c < H; ++c) {
      const double s[3] = {0, sigmoid(silu(double(p.z[n * p.ld_z + c]))),
                           sigmoid(silu(double(p.z[n * p.ld_z + H + c])))};
      at(p.out, n, 0, c) = T(silu(double(at(p.h, n, 0, c))));
      for (int r = 1; r < kNodeGateRows; ++r)
        at(p.out, n, r, c) = T(double(at(p.h, n, r, c)) * s[node_gate_degree_of_row(r)]);
    }
}

template <typename T>
void node_gate_bwd_reference(const NodeGateBwdParams<T>& p) {
  const int64_t H = p.channels;
  check(p.n_nodes >= 0 && H > 0 && p.ld_z >= 2 * H && layout_ok(p.grad_out, p.n_nodes, H) &&
            layout_ok(p.h, p.n_nodes, H) && layout_ok(p.grad_h, p.n_nodes, H),
        "node_gate_bwd_reference", p.n_nodes, H, p.ld_z);
  for (int64_t n = 0; n < p.n_nodes; ++n)
    for (int64_t c = 0; c < H; ++c) {
      const double z[3] = {0, double(p.z[n * p.ld_z + c]), double(p.z[n * p.ld_z + H + c])};
      const double s[3] = {0, sigmoid(silu(z[1])), sigmoid(silu(z[2]))};
      double dot[3] = {0, 0, 0};  // Σ over the rows of each degree of G_r · h_r
      at(p.grad_h, n, 0, c) = T(double(at(p.grad_out, n, 0, c)) * silu_grad(double(at(p.h, n, 0, c))));
      for (int r = 1; r < kNodeGateRows; ++r) {
        const int l = node_gate_degree_of_row(r);
        const double g = double(at(p.grad_out, n, r, c));
        dot[l] += g * double(at(p.h, n, r, c));
        at(p.grad_h, n, r, c) = T(g * s[l]);
      }
      for (int l = 1; l <= 2; ++l)
        p.grad_z[n * 2 * H + (l - 1) * H + c] = T(silu_grad(z[l]) * s[l] * (1.0 - s[l]) * dot[l]);
    }
}

template void node_gate_fwd_reference<float>(const NodeGateFwdParams<float>&);
template void node_gate_fwd_reference<double>(const NodeGateFwdParams<double>&);
template void node_gate_bwd_reference<float>(const NodeGateBwdParams<float>&);
template void node_gate_bwd_reference<double>(const NodeGateBwdParams<double>&);

}  // namespace kernels
}  // namespace uma
