// Autograd wrapper of the fused edge geometry kernels; see fused_edge_geometry.h.
#include "engine/fused/edge/fused_edge_geometry.h"

#include <c10/cuda/CUDAGuard.h>

#include <string>

#include "engine/fused/fused_launch.h"
#include "kernels/edge_geometry/edge_geometry_launch.h"

namespace uma {
namespace fused {
namespace {

constexpr const char* kOp = "uma::fused::edge_geometry: ";

template <typename T>
k::EdgeGeometryConstants<T> constants(const Tensor& offsets, double cutoff, double gauss_coeff) {
  k::EdgeGeometryConstants<T> c;
  c.cutoff = T(cutoff);
  c.gauss_coeff = T(gauss_coeff);
  c.offsets = offsets.data_ptr<T>();
  c.num_gaussians = offsets.size(0);
  return c;
}

class EdgeGeometryFunction : public torch::autograd::Function<EdgeGeometryFunction> {
 public:
  static tensor_list forward(AutogradContext* ctx, const Tensor& vec_in, const Tensor& offsets_in, double cutoff,
                             double gauss_coeff) {
    require(vec_in.is_cuda() && vec_in.dim() == 2 && vec_in.size(1) == 3 &&
                (vec_in.scalar_type() == torch::kFloat32 || vec_in.scalar_type() == torch::kFloat64),
            std::string(kOp) + "vec must be a float32/float64 CUDA tensor [E,3]");
    require(offsets_in.dim() == 1 && offsets_in.size(0) >= 1 && offsets_in.scalar_type() == vec_in.scalar_type() &&
                offsets_in.device() == vec_in.device(),
            std::string(kOp) + "offsets must be [G], G >= 1, in vec's dtype and device");
    require(cutoff > 0 && gauss_coeff < 0, std::string(kOp) + "need cutoff > 0 and gauss_coeff < 0");
    const Tensor vec = vec_in.contiguous(), offsets = offsets_in.contiguous();
    const int64_t E = vec.size(0), G = offsets.size(0);
    const c10::cuda::CUDAGuard guard(vec.device());
    Tensor w = torch::empty({E, 9, 9}, vec.options()), wi = torch::empty({E, 9, 9}, vec.options());
    Tensor gauss = torch::empty({E, G}, vec.options());
    AT_DISPATCH_FLOATING_TYPES(vec.scalar_type(), "uma::fused::edge_geometry", [&] {
      k::EdgeGeometryFwdParams<scalar_t> p;
      p.vec = vec.data_ptr<scalar_t>();
      p.wigner = w.data_ptr<scalar_t>(); p.wigner_inv_env = wi.data_ptr<scalar_t>(); p.gauss = gauss.data_ptr<scalar_t>();
      p.n_edges = E;
      p.c = constants<scalar_t>(offsets, cutoff, gauss_coeff);
      launch([&] { k::edge_geometry_fwd(p, current_stream()); });
    });
    ctx->save_for_backward({vec, offsets});
    ctx->saved_data["cutoff"] = cutoff;
    ctx->saved_data["gauss_coeff"] = gauss_coeff;
    return {w, wi, gauss};
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const Tensor &vec = saved[0], &offsets = saved[1];
    const double cutoff = ctx->saved_data["cutoff"].toDouble(), gauss_coeff = ctx->saved_data["gauss_coeff"].toDouble();
    Tensor G[3];
    for (int i = 0; i < 3; ++i)  // an output nobody used has no gradient: the kernel adds nothing for it
      G[i] = grad_outputs[i].defined() ? grad_outputs[i].contiguous() : Tensor();
    Tensor grad_vec = torch::empty_like(vec);
    const c10::cuda::CUDAGuard guard(vec.device());
    AT_DISPATCH_FLOATING_TYPES(vec.scalar_type(), "uma::fused::edge_geometry_backward", [&] {
      k::EdgeGeometryBwdParams<scalar_t> p;
      p.vec = vec.data_ptr<scalar_t>();
      p.grad_wigner = G[0].defined() ? G[0].data_ptr<scalar_t>() : nullptr;
      p.grad_wigner_inv_env = G[1].defined() ? G[1].data_ptr<scalar_t>() : nullptr;
      p.grad_gauss = G[2].defined() ? G[2].data_ptr<scalar_t>() : nullptr;
      p.grad_vec = grad_vec.data_ptr<scalar_t>();
      p.n_edges = vec.size(0);
      p.c = constants<scalar_t>(offsets, cutoff, gauss_coeff);
      launch([&] { k::edge_geometry_bwd(p, current_stream()); });
    });
    return {grad_vec, Tensor(), Tensor(), Tensor()};
  }
};

}  // namespace

EdgeGeometry edge_geometry(const torch::Tensor& vec, const torch::Tensor& offsets, double cutoff, double gauss_coeff) {
  const auto out = EdgeGeometryFunction::apply(vec, offsets, cutoff, gauss_coeff);
  return {out[0], out[1], out[2]};
}

}  // namespace fused
}  // namespace uma
