// Autograd wrappers around the fused Wigner kernels; see fused_wigner_ops.h. Tensors are made contiguous, checked
// (device, dtype, shapes), and handed to the launchers as raw pointers with the current CUDA stream.
#include "engine/fused/edge/fused_wigner_ops.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <utility>

#include "engine/fused/fused_launch.h"
#include "kernels/radial_gather/radial_gather_launch.h"
#include "kernels/wigner/wigner_launch.h"

namespace uma {
namespace fused {
namespace {

std::atomic<int64_t> radial_gather_launch_count{0};  // radial_gather_launches()

std::string shape_of(const Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? "," : "") + std::to_string(t.size(i));
  return s + "]";
}

void check_features(const char* op, const char* name, const Tensor& t, int64_t rows) {
  require(t.is_cuda(), std::string(op) + ": " + name + " must be a CUDA tensor");
  require(t.scalar_type() == torch::kFloat32 || t.scalar_type() == torch::kFloat64,
          std::string(op) + ": " + name + " must be float32 or float64");
  require(t.dim() == 3 && t.size(1) == k::kNumCoeffs && (rows < 0 || t.size(0) == rows),
          std::string(op) + ": " + name + " has shape " + shape_of(t) + ", expected [" +
              (rows < 0 ? std::string("*") : std::to_string(rows)) + ",9,C]");
}

void check_index(const char* op, const char* name, const Tensor& t, const Tensor& like) {
  require(t.scalar_type() == torch::kInt64 && t.dim() == 1 && t.device() == like.device(),
          std::string(op) + ": " + name + " must be a 1-D int64 tensor on " + like.device().str());
}

void check_wigner(const char* op, const char* name, const Tensor& w, int64_t n_edges, const Tensor& like) {
  require(w.dim() == 3 && w.size(0) == n_edges && w.size(1) == 9 && w.size(2) == 9,
          std::string(op) + ": " + name + " has shape " + shape_of(w) + ", expected [" + std::to_string(n_edges) +
              ",9,9]");
  require(w.scalar_type() == like.scalar_type() && w.device() == like.device(),
          std::string(op) + ": " + name + " must match the features' dtype and device");
}

const int64_t* ptr_or_null(const Tensor& t) { return t.defined() ? t.data_ptr<int64_t>() : nullptr; }

k::EdgeCsr to_csr(const Tensor& row_ptr, const Tensor& perm) { return {ptr_or_null(row_ptr), ptr_or_null(perm)}; }

void save_csr(AutogradContext* ctx, const EdgeCsrTensors* csr) {
  ctx->saved_data["has_csr"] = csr != nullptr;
  if (!csr) return;
  ctx->saved_data["src_ptr"] = csr->src_ptr;
  ctx->saved_data["src_perm"] = csr->src_perm;
  ctx->saved_data["dst_ptr"] = csr->dst_ptr;
  ctx->saved_data["dst_perm"] = csr->dst_perm;
}

// A recipe's function kept in an autograd context (saved_data holds IValues; a capsule holds any custom class).
template <class F>
struct RecipeHolder : torch::CustomClassHolder {
  explicit RecipeHolder(F f) : make(std::move(f)) {}
  F make;
};
template <class F>
void save_recipe(AutogradContext* ctx, const char* key, const F& make) {
  ctx->saved_data[key] = c10::IValue::make_capsule(c10::make_intrusive<RecipeHolder<F>>(make));
}
// The function save_recipe kept under `key`, or nullptr where none was.
template <class F>
const F* saved_recipe(AutogradContext* ctx, const char* key) {
  const auto it = ctx->saved_data.find(key);
  if (it == ctx->saved_data.end()) return nullptr;
  return &static_cast<const RecipeHolder<F>*>(it->second.toCapsule().get())->make;
}

Tensor saved_tensor(AutogradContext* ctx, const char* key) {
  const auto& v = ctx->saved_data.at(key);
  return v.isTensor() ? v.toTensor() : Tensor();
}

// One m-group of an edge tensor as the kernels address it: [E, rows, R] with each edge's rows contiguous (any edge
// stride, so GEMM outputs and views of a wider tensor go in as they are); otherwise copied to that form.
// An undefined t (an absent group, rotate_back_scatter only) stays undefined.
Tensor m_group_operand(const char* op, const Tensor& t, int g, int64_t E, int64_t C, const Tensor& like) {
  if (!t.defined()) return t;
  require(t.dim() == 3 && t.size(0) == E && t.size(1) == k::m_group_rows(g) && t.size(2) == C,
          std::string(op) + ": m-group " + std::to_string(g) + " has shape " + shape_of(t) + ", expected [" +
              std::to_string(E) + "," + std::to_string(k::m_group_rows(g)) + "," + std::to_string(C) + "]");
  require(t.scalar_type() == like.scalar_type() && t.device() == like.device(),
          std::string(op) + ": the m-groups must share one dtype and device");
  const bool rows_packed = t.stride(2) == 1 && t.stride(1) == C && t.stride(0) >= k::m_group_rows(g) * C;
  return rows_packed ? t : t.contiguous();
}

// An undefined group is absent in the kernels' addressing (null base): zero rows read, no gradient written.
template <typename P>
k::MGroupRows<P> group_rows(const Tensor (&g)[k::kMGroups]) {
  k::MGroupRows<P> r;
  for (int i = 0; i < k::kMGroups; ++i) {
    if (!g[i].defined()) continue;
    r.base[i] = static_cast<P>(g[i].data_ptr());
    r.edge_stride[i] = g[i].stride(0);
  }
  return r;
}

// The first defined of the three m-groups: it names E, C, dtype and device for the others.
const Tensor& first_defined(const Tensor (&g)[k::kMGroups]) {
  for (const Tensor& t : g)
    if (t.defined()) return t;
  return g[0];
}

class GatherRotateFunction : public torch::autograd::Function<GatherRotateFunction> {
 public:
  // Returns the three m-groups [E,3,2C], [E,4,2C], [E,2,2C] as separate tensors: the SO(2) GEMMs read each as it is,
  // and their input gradients come back as three dense tensors that the backward kernel reads in place (no
  // [E,9,2C] concatenation of them).
  // radial_arg: the radial scale, or with a recipe the recipe's input (its gradient slot either way).
  // half_message (gather_rotate_half): the message goes out as TF32 values held in fp16, after three fp32 stand-ins
  // of its shape that carry its gradient back here (fused_wigner_ops.h).
  static tensor_list forward(AutogradContext* ctx, const Tensor& x_in, const Tensor& src_in, const Tensor& dst_in,
                             const Tensor& wigner_in, const Tensor& radial_arg, const EdgeCsrTensors* csr,
                             const RadialRecipe* recipe, bool round_tf32, bool half_message) {
    const char* op = "uma::fused::gather_rotate";
    const Tensor radial_source = from_optional_arg(radial_arg);
    // With a fusable recipe the scale is made inside the gather kernel (radial_gather) and never stored; that kernel
    // writes fp32, so not for an fp16 message.
    const bool fuse = recipe && !half_message && recipe_fuses(*recipe, x_in);
    require(!half_message || (round_tf32 && x_in.scalar_type() == torch::kFloat32),
            std::string(op) + ": an fp16 message holds TF32 values: fp32 features with round_tf32 only");
    Tensor radial_in = fuse ? Tensor() : radial_source;
    if (recipe && !fuse) {  // its input checked by gather_rotate (RadialRecipe), the only caller with one
      const torch::NoGradGuard no_grad;  // made again in the backward, with autograd
      radial_in = recipe->make(radial_source);
    }
    check_features(op, "x", x_in, -1);
    check_index(op, "src", src_in, x_in);
    check_index(op, "dst", dst_in, x_in);
    const Tensor x = x_in.contiguous(), src = src_in.contiguous(), dst = dst_in.contiguous();
    const int64_t N = x.size(0), C = x.size(2), E = src.size(0);
    require(dst.size(0) == E, std::string(op) + ": src and dst differ in length");
    check_wigner(op, "wigner", wigner_in, E, x);
    const Tensor wigner = wigner_in.contiguous();
    const Tensor radial = radial_in.defined() ? checked_radial(op, radial_in, x, E) : Tensor();
    const c10::cuda::CUDAGuard guard(x.device());
    Tensor out[k::kMGroups];
    const auto out_options = half_message ? x.options().dtype(torch::kHalf) : x.options();
    for (int g = 0; g < k::kMGroups; ++g) out[g] = torch::empty({E, k::m_group_rows(g), 2 * C}, out_options);
    if (fuse) {
      const Tensor hidden = radial_source.contiguous(), weight = recipe->weight.contiguous();
      const Tensor bias = recipe->bias.defined() ? recipe->bias.contiguous() : Tensor();
      k::RadialGatherParams p;
      p.gather.x = x.data_ptr<float>(); p.gather.src = src.data_ptr<int64_t>(); p.gather.dst = dst.data_ptr<int64_t>();
      p.gather.wigner = wigner.data_ptr<float>(); p.gather.out_groups = group_rows<float*>(out);
      p.gather.n_atoms = N; p.gather.n_edges = E; p.gather.channels = C; p.gather.round_tf32 = round_tf32;
      p.hidden = hidden.data_ptr<float>(); p.hidden_dim = hidden.size(1);
      p.weight = weight.data_ptr<float>(); p.bias = bias.defined() ? bias.data_ptr<float>() : nullptr;
      launch([&] { k::radial_gather(p, current_stream()); });
      ++radial_gather_launch_count;
    } else {
      AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "uma::fused::gather_rotate", [&] {
        k::GatherRotateFwdParams<scalar_t> p;
        p.x = x.data_ptr<scalar_t>(); p.src = src.data_ptr<int64_t>(); p.dst = dst.data_ptr<int64_t>();
        p.wigner = wigner.data_ptr<scalar_t>();
        if (half_message)
          p.out_half_groups = group_rows<uint16_t*>(out);
        else
          p.out_groups = group_rows<scalar_t*>(out);
        p.n_atoms = N; p.n_edges = E; p.channels = C;
        p.radial = radial.defined() ? radial.data_ptr<scalar_t>() : nullptr;
        p.round_tf32 = round_tf32;
        launch([&] { k::gather_rotate_fwd(p, current_stream()); });
      });
    }
    // With a recipe the input is kept, not the scale (RadialRecipe).
    ctx->save_for_backward({x, src, dst, wigner, recipe ? radial_source : radial});
    if (recipe) save_recipe(ctx, "radial_recipe", recipe->make);
    save_csr(ctx, csr);
    ctx->saved_data["round_tf32"] = round_tf32;
    if (half_message) {
      // Stand-ins with the message's shapes and no storage (every stride 0): autograd checks a gradient's shape,
      // dtype and device against them, nothing reads them.
      ctx->mark_non_differentiable({out[0], out[1], out[2]});
      tensor_list r;
      for (int g = 0; g < k::kMGroups; ++g)
        r.push_back(torch::empty_strided({E, k::m_group_rows(g), 2 * C}, {0, 0, 0}, x.options()));
      for (const Tensor& t : out) r.push_back(t);
      return r;
    }
    return {out[0], out[1], out[2]};
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const Tensor &x = saved[0], &src = saved[1], &dst = saved[2], &wigner = saved[3];
    const char* op = "uma::fused::gather_rotate (backward)";
    const int64_t E = src.size(0), C2 = 2 * x.size(2);
    // The radial scale: kept, or made again from the recipe's input, with autograd on so that the input's gradient
    // follows from the scale's (recipe_input, made).
    Tensor radial = saved[4], recipe_input, made;
    if (const auto* make = saved_recipe<decltype(RadialRecipe::make)>(ctx, "radial_recipe")) {
      const torch::AutoGradMode grad_on(true);
      recipe_input = saved[4].detach().requires_grad_(ctx->needs_input_grad(4));
      made = (*make)(recipe_input);
      radial = checked_radial(op, made.detach(), x, E);
    }
    Tensor g[k::kMGroups];
    for (int i = 0; i < k::kMGroups; ++i)  // a group nobody used has no gradient: zeros
      g[i] = grad_outputs[i].defined() ? m_group_operand(op, grad_outputs[i], i, E, C2, x)
                                       : torch::zeros({E, k::m_group_rows(i), C2}, x.options());
    const bool want_x = ctx->needs_input_grad(0), want_r = radial.defined() && ctx->needs_input_grad(4);
    // The radial pass also yields grad_wigner (the kernels need both together): computed whenever radial is.
    const bool want_w = ctx->needs_input_grad(3) || radial.defined();
    Tensor grad_x = want_x ? torch::empty_like(x) : Tensor();
    Tensor grad_w = want_w ? torch::empty_like(wigner) : Tensor();
    Tensor grad_r = radial.defined() ? torch::empty_like(radial) : Tensor();
    const bool det = ctx->saved_data.at("has_csr").toBool();
    const c10::cuda::CUDAGuard guard(x.device());
    if (want_x || want_w) {
      const Tensor sp = det ? saved_tensor(ctx, "src_ptr") : Tensor(), sq = det ? saved_tensor(ctx, "src_perm") : Tensor();
      const Tensor dp = det ? saved_tensor(ctx, "dst_ptr") : Tensor(), dq = det ? saved_tensor(ctx, "dst_perm") : Tensor();
      AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "uma::fused::gather_rotate_backward", [&] {
        k::GatherRotateBwdParams<scalar_t> p;
        p.grad_out_groups = group_rows<const scalar_t*>(g); p.x = x.data_ptr<scalar_t>();
        p.src = src.data_ptr<int64_t>(); p.dst = dst.data_ptr<int64_t>(); p.wigner = wigner.data_ptr<scalar_t>();
        p.grad_x = want_x ? grad_x.data_ptr<scalar_t>() : nullptr;
        p.grad_wigner = want_w ? grad_w.data_ptr<scalar_t>() : nullptr;
        p.radial = radial.defined() ? radial.data_ptr<scalar_t>() : nullptr;
        p.grad_radial = radial.defined() ? grad_r.data_ptr<scalar_t>() : nullptr;
        p.round_tf32 = ctx->saved_data.at("round_tf32").toBool();
        p.src_csr = to_csr(sp, sq);
        p.dst_csr = to_csr(dp, dq);
        p.n_atoms = x.size(0); p.n_edges = src.size(0); p.channels = x.size(2);
        launch([&] {
          k::gather_rotate_bwd(p, det ? k::ScatterMode::kDeterministic : k::ScatterMode::kAtomic, current_stream());
        });
      });
    }
    Tensor grad_radial_source = want_r ? grad_r : Tensor();
    if (want_r && made.defined()) grad_radial_source = torch::autograd::grad({made}, {recipe_input}, {grad_r})[0];
    return {grad_x, Tensor(), Tensor(), ctx->needs_input_grad(3) ? grad_w : Tensor(), grad_radial_source, Tensor(),
            Tensor(), Tensor(), Tensor()};
  }

 private:
  // Whether the forward makes the recipe's scale inside the gather (radial_gather): asked for (RadialRecipe::
  // fuse_linear), and what the kernel takes: fp32, C = 128, the Linear's input [E, K] with K a multiple of 8 up to 128,
  // its weight [6 * 2C, K] and bias on the same device. Anything else falls back to make + gather_rotate.
  static bool recipe_fuses(const RadialRecipe& r, const Tensor& x) {
    if (!r.fuse_linear || !r.weight.defined() || !x.is_cuda() || x.scalar_type() != torch::kFloat32 || x.dim() != 3)
      return false;
    const Tensor& h = r.input;
    const int64_t K = h.dim() == 2 ? h.size(1) : -1;
    const bool bias_ok = !r.bias.defined() || (r.bias.dim() == 1 && r.bias.size(0) == r.weight.size(0) &&
                                                r.bias.scalar_type() == torch::kFloat32 && r.bias.device() == x.device());
    // The kernel's 16- and 8-byte accesses (radial_gather_launch.h): a view at an odd offset falls back too. A
    // tensor that is not contiguous is copied, and a fresh copy is aligned.
    auto aligned = [](const Tensor& t, uintptr_t n) {
      return !t.defined() || !t.is_contiguous() || reinterpret_cast<uintptr_t>(t.data_ptr()) % n == 0;
    };
    return radial_gather_takes(x.size(2), K) && h.scalar_type() == torch::kFloat32 &&
           h.device() == x.device() && r.weight.dim() == 2 && r.weight.size(0) == k::kRadialGroups * 2 * x.size(2) &&
           r.weight.size(1) == K && r.weight.scalar_type() == torch::kFloat32 && r.weight.device() == x.device() &&
           bias_ok && aligned(h, 8) && aligned(r.weight, 16) && aligned(r.bias, 8) && aligned(x, 8);
  }

  // The radial scale [E, 6*2C] as the kernels read it (given, or made by a recipe).
  static Tensor checked_radial(const char* op, const Tensor& radial, const Tensor& x, int64_t E) {
    const int64_t C = x.size(2);
    require(radial.dim() == 2 && radial.size(0) == E && radial.size(1) == k::kRadialGroups * 2 * C,
            std::string(op) + ": radial has shape " + shape_of(radial) + ", expected [" + std::to_string(E) + "," +
                std::to_string(k::kRadialGroups * 2 * C) + "]");
    require(radial.scalar_type() == x.scalar_type() && radial.device() == x.device(),
            std::string(op) + ": radial must match the features' dtype and device");
    return radial.contiguous();
  }
};

class RotateBackScatterFunction : public torch::autograd::Function<RotateBackScatterFunction> {
 public:
  // The three first arguments: the m-groups, or with a recipe its inputs (their gradient slots either way).
  static Tensor forward(AutogradContext* ctx, const Tensor& m0_arg, const Tensor& m1_arg, const Tensor& m2_arg,
                        const Tensor& wigner_inv_in, const Tensor& dst_in, int64_t n_atoms,
                        const EdgeCsrTensors* csr, const MessageRecipe* recipe, bool round_tf32) {
    const char* op = "uma::fused::rotate_back_scatter";
    Tensor in[k::kMGroups] = {from_optional_arg(m0_arg), from_optional_arg(m1_arg), from_optional_arg(m2_arg)};
    const std::array<Tensor, 3> recipe_input = {in[0], in[1], in[2]};
    if (recipe) {  // its inputs checked by rotate_back_scatter (MessageRecipe), the only caller with one
      const torch::NoGradGuard no_grad;  // made again in the backward, with autograd
      const auto made = recipe->make(recipe_input);
      for (int g = 0; g < k::kMGroups; ++g) in[g] = made[g];
    }
    const Tensor& first = first_defined(in);
    require(first.defined(), std::string(op) + ": at least one m-group must be given (an undefined one means zero "
                                               "rows, e.g. the edge-degree embedding's m = 1, 2)");
    require(first.dim() == 3 && first.is_cuda() &&
                (first.scalar_type() == torch::kFloat32 || first.scalar_type() == torch::kFloat64),
            std::string(op) + ": the m-groups must be float32 or float64 CUDA tensors [E,rows,C], got " +
                shape_of(first));
    const int64_t E = first.size(0), C = first.size(2);
    const Tensor groups[k::kMGroups] = {m_group_operand(op, in[0], 0, E, C, first),
                                        m_group_operand(op, in[1], 1, E, C, first),
                                        m_group_operand(op, in[2], 2, E, C, first)};
    check_index(op, "dst", dst_in, first);
    const Tensor dst = dst_in.contiguous();
    require(dst.size(0) == E, std::string(op) + ": dst has " + std::to_string(dst.size(0)) + " entries, msg has " +
                                  std::to_string(E) + " edges");
    require(n_atoms >= 0, std::string(op) + ": n_atoms must be non-negative");
    check_wigner(op, "wigner_inv", wigner_inv_in, E, first);
    const Tensor wigner_inv = wigner_inv_in.contiguous();
    const c10::cuda::CUDAGuard guard(first.device());
    Tensor out = torch::empty({n_atoms, k::kNumCoeffs, C}, first.options());
    AT_DISPATCH_FLOATING_TYPES(first.scalar_type(), "uma::fused::rotate_back_scatter", [&] {
      k::RotateBackScatterFwdParams<scalar_t> p;
      p.msg_groups = group_rows<const scalar_t*>(groups);
      p.wigner_inv = wigner_inv.data_ptr<scalar_t>();
      p.dst = dst.data_ptr<int64_t>(); p.out = out.data_ptr<scalar_t>();
      if (csr) p.dst_csr = to_csr(csr->dst_ptr, csr->dst_perm);
      p.n_atoms = n_atoms; p.n_edges = E; p.channels = C;
      launch([&] {
        k::rotate_back_scatter_fwd(p, csr ? k::ScatterMode::kDeterministic : k::ScatterMode::kAtomic,
                                   current_stream());
      });
    });
    // With a recipe its inputs are kept, not the groups (MessageRecipe).
    if (recipe) {
      ctx->save_for_backward({recipe_input[0], recipe_input[1], recipe_input[2], wigner_inv, dst});
      save_recipe(ctx, "message_recipe", recipe->make);
    } else {
      ctx->save_for_backward({groups[0], groups[1], groups[2], wigner_inv, dst});
    }
    ctx->saved_data["n_atoms"] = n_atoms;
    ctx->saved_data["round_tf32"] = round_tf32;
    return out;
  }

  // The message gradient comes back as three dense tensors, one per m-group: the SO(2) GEMMs' backward reads
  // them as they are (no split of an [E,9,C] gradient, no strided operands). Only the groups that need one get a
  // gradient (an absent group never does: undefined, and the kernel writes nothing for it).
  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    Tensor groups[k::kMGroups] = {saved[0], saved[1], saved[2]};
    const Tensor &wigner_inv = saved[3], &dst = saved[4];
    // The m-groups: kept, or made again from the recipe's inputs with autograd on, so that the inputs' gradients
    // follow from the groups' (recipe_input, made).
    std::array<Tensor, 3> recipe_input, made;
    if (const auto* make = saved_recipe<decltype(MessageRecipe::make)>(ctx, "message_recipe")) {
      const torch::AutoGradMode grad_on(true);
      for (int i = 0; i < k::kMGroups; ++i)
        recipe_input[i] = saved[i].detach().requires_grad_(ctx->needs_input_grad(i));
      made = (*make)(recipe_input);
      const char* op = "uma::fused::rotate_back_scatter (backward)";
      require(made[0].defined() && made[1].defined() && made[2].defined() && made[0].dim() == 3,
              std::string(op) + ": the message recipe must make three [E,rows,C] m-groups");
      const Tensor like = made[0].detach();
      for (int i = 0; i < k::kMGroups; ++i)
        groups[i] = m_group_operand(op, made[i].detach(), i, like.size(0), like.size(2), like);
    }
    const Tensor g = grad_outputs[0].contiguous();
    const bool want_w = ctx->needs_input_grad(3);
    const Tensor& first = first_defined(groups);
    const int64_t E = first.size(0), C = first.size(2);
    Tensor grads[k::kMGroups];
    bool want_msg = false;
    // With a recipe, every made group whose input wants a gradient needs its own.
    const bool any_input_grad = ctx->needs_input_grad(0) || ctx->needs_input_grad(1) || ctx->needs_input_grad(2);
    for (int i = 0; i < k::kMGroups; ++i) {
      if (!groups[i].defined() || !(made[i].defined() ? any_input_grad : ctx->needs_input_grad(i))) continue;
      grads[i] = torch::empty({E, k::m_group_rows(i), C}, g.options());
      want_msg = true;
    }
    Tensor grad_w = want_w ? torch::empty_like(wigner_inv) : Tensor();
    const c10::cuda::CUDAGuard guard(g.device());
    if (want_msg || want_w) {
      AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "uma::fused::rotate_back_scatter_backward", [&] {
        k::RotateBackScatterBwdParams<scalar_t> p;
        p.grad_out = g.data_ptr<scalar_t>();
        p.msg_groups = group_rows<const scalar_t*>(groups);
        p.wigner_inv = wigner_inv.data_ptr<scalar_t>(); p.dst = dst.data_ptr<int64_t>();
        if (want_msg) p.grad_msg_groups = group_rows<scalar_t*>(grads);
        p.grad_wigner_inv = want_w ? grad_w.data_ptr<scalar_t>() : nullptr;
        p.n_atoms = ctx->saved_data.at("n_atoms").toInt(); p.n_edges = E; p.channels = C;
        p.round_tf32 = ctx->saved_data.at("round_tf32").toBool();
        launch([&] { k::rotate_back_scatter_bwd(p, current_stream()); });
      });
    }
    if (made[0].defined() && want_msg) {
      // The recipe's backward: the inputs' gradients from the made groups' (those inputs that want one).
      std::vector<Tensor> outs, grad_outs, inputs;
      for (int i = 0; i < k::kMGroups; ++i)
        if (grads[i].defined() && made[i].requires_grad()) outs.push_back(made[i]), grad_outs.push_back(grads[i]);
      std::vector<int> slots;
      for (int i = 0; i < k::kMGroups; ++i)
        if (recipe_input[i].requires_grad()) inputs.push_back(recipe_input[i]), slots.push_back(i);
      Tensor input_grads[k::kMGroups];
      if (!outs.empty() && !inputs.empty()) {
        const auto g_in = torch::autograd::grad(outs, inputs, grad_outs, /*retain_graph=*/false,
                                                /*create_graph=*/false, /*allow_unused=*/true);
        for (size_t j = 0; j < slots.size(); ++j) input_grads[slots[j]] = g_in[j];
      }
      return {input_grads[0], input_grads[1], input_grads[2], grad_w, Tensor(), Tensor(), Tensor(), Tensor(), Tensor()};
    }
    return {grads[0], grads[1], grads[2], grad_w, Tensor(), Tensor(), Tensor(), Tensor(), Tensor()};
  }
};

}  // namespace

EdgeCsrTensors make_edge_csr(const torch::Tensor& src, const torch::Tensor& dst, int64_t n_atoms) {
  require(src.scalar_type() == torch::kInt64 && dst.scalar_type() == torch::kInt64 && src.dim() == 1 &&
              dst.sizes() == src.sizes() && dst.device() == src.device(),
          "uma::fused::make_edge_csr: src and dst must be 1-D int64 tensors of equal length on one device");
  auto group = [n_atoms](const torch::Tensor& key, torch::Tensor& ptr, torch::Tensor& perm) {
    perm = std::get<1>(torch::sort(key, /*stable=*/true, /*dim=*/0, /*descending=*/false));
    const torch::Tensor counts = torch::bincount(key, /*weights=*/{}, /*minlength=*/n_atoms);
    ptr = torch::zeros({n_atoms + 1}, key.options());
    if (n_atoms > 0) ptr.slice(0, 1).copy_(torch::cumsum(counts.slice(0, 0, n_atoms), 0));
  };
  EdgeCsrTensors csr;
  group(src, csr.src_ptr, csr.src_perm);
  group(dst, csr.dst_ptr, csr.dst_perm);
  return csr;
}

int64_t radial_gather_launches() { return radial_gather_launch_count.load(); }

bool radial_gather_takes(int64_t channels, int64_t hidden_dim) {
  return k::radial_gather_takes(channels, hidden_dim);
}

std::array<torch::Tensor, 3> gather_rotate(const torch::Tensor& x, const torch::Tensor& src, const torch::Tensor& dst,
                                           const torch::Tensor& wigner, const EdgeCsrTensors* csr,
                                           const torch::Tensor& radial, bool round_tf32) {
  require_round_tf32_dtype("uma::fused::gather_rotate", round_tf32, x);
  const auto out =
      GatherRotateFunction::apply(x, src, dst, wigner, optional_arg(radial, x), csr, nullptr, round_tf32, false);
  return {out[0], out[1], out[2]};
}

std::array<torch::Tensor, 3> gather_rotate(const torch::Tensor& x, const torch::Tensor& src, const torch::Tensor& dst,
                                           const torch::Tensor& wigner, const EdgeCsrTensors* csr,
                                           const RadialRecipe& radial, bool round_tf32) {
  require(radial.input.defined() && static_cast<bool>(radial.make),
          "uma::fused::gather_rotate: a radial recipe needs an input tensor and a function");
  require_round_tf32_dtype("uma::fused::gather_rotate", round_tf32, x);
  const auto out = GatherRotateFunction::apply(x, src, dst, wigner, radial.input, csr, &radial, round_tf32, false);
  return {out[0], out[1], out[2]};
}

std::array<torch::Tensor, 6> gather_rotate_half(const torch::Tensor& x, const torch::Tensor& src,
                                                const torch::Tensor& dst, const torch::Tensor& wigner,
                                                const EdgeCsrTensors* csr, const torch::Tensor& radial) {
  const auto out = GatherRotateFunction::apply(x, src, dst, wigner, optional_arg(radial, x), csr, nullptr, true, true);
  return {out[0], out[1], out[2], out[3], out[4], out[5]};
}

std::array<torch::Tensor, 6> gather_rotate_half(const torch::Tensor& x, const torch::Tensor& src,
                                                const torch::Tensor& dst, const torch::Tensor& wigner,
                                                const EdgeCsrTensors* csr, const RadialRecipe& radial) {
  require(radial.input.defined() && static_cast<bool>(radial.make),
          "uma::fused::gather_rotate_half: a radial recipe needs an input tensor and a function");
  const auto out = GatherRotateFunction::apply(x, src, dst, wigner, radial.input, csr, &radial, true, true);
  return {out[0], out[1], out[2], out[3], out[4], out[5]};
}

torch::Tensor rotate_back_scatter(const torch::Tensor& msg_m0, const torch::Tensor& msg_m1,
                                  const torch::Tensor& msg_m2, const torch::Tensor& wigner_inv, const torch::Tensor& dst,
                                  int64_t n_atoms, const EdgeCsrTensors* csr, bool round_tf32) {
  const Tensor& like = msg_m0.defined() ? msg_m0 : msg_m1.defined() ? msg_m1 : msg_m2.defined() ? msg_m2 : wigner_inv;
  require_round_tf32_dtype("uma::fused::rotate_back_scatter", round_tf32, like);
  return RotateBackScatterFunction::apply(optional_arg(msg_m0, like), optional_arg(msg_m1, like),
                                          optional_arg(msg_m2, like), wigner_inv, dst, n_atoms, csr, nullptr,
                                          round_tf32);
}

torch::Tensor rotate_back_scatter(const MessageRecipe& msg, const torch::Tensor& wigner_inv, const torch::Tensor& dst,
                                  int64_t n_atoms, const EdgeCsrTensors* csr, bool round_tf32) {
  require(msg.input[0].defined() && msg.input[1].defined() && msg.input[2].defined() && static_cast<bool>(msg.make),
          "uma::fused::rotate_back_scatter: a message recipe needs three input tensors and a function");
  require_round_tf32_dtype("uma::fused::rotate_back_scatter", round_tf32, wigner_inv);
  return RotateBackScatterFunction::apply(msg.input[0], msg.input[1], msg.input[2], wigner_inv, dst, n_atoms, csr,
                                          &msg, round_tf32);
}

}  // namespace fused
}  // namespace uma
