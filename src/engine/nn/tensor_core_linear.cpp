// Autograd wrappers of the tensor-core GEMM kernels (fp32_gemm.h's split_tf32 and tf32 modes); see
// tensor_core_linear.h.
#include "engine/nn/tensor_core_linear.h"

#include <c10/cuda/CUDAGuard.h>

#include <atomic>
#include <map>
#include <mutex>
#include <tuple>

#include "engine/fused/fused_launch.h"
#include "kernels/gemm/hopper/tf32_rs_wgmma_launch.h"
#include "kernels/gemm/hopper/tf32_tma_gemm_launch.h"
#include "kernels/gemm/split_tf32_gemm_launch.h"

namespace uma {
namespace fused {
namespace {

// Which kernel a linear layer runs on. kTf32Pre is kTf32's kernel on an operand its producer rounded (tf32_rna_linear),
// counted apart from the truncating mode's own calls.
enum class Kernel { kSplitTf32, kTf32, kTf32Rs, kTf32Rna, kTf32Pre };

struct Counts {
  std::atomic<int64_t> kernel{0}, fallback{0};
};
Counts counts[5];  // by Kernel

// The rounding TMA kernel's work for an A operand: kTf32Pre (the truncating kernel, same products) where the operand's
// producer rounded it already, else kTf32Rna.
Kernel rna_kernel_for(bool operand_rounded) { return operand_rounded ? Kernel::kTf32Pre : Kernel::kTf32Rna; }

// The kernels on the TMA GEMM's pipeline, which reads B as weight rows only.
bool takes_weight_rows_only(Kernel which) {
  return which == Kernel::kTf32 || which == Kernel::kTf32Rna || which == Kernel::kTf32Pre;
}

// t as [rows, t.size(-1)] with unit column stride: a view where one exists (a 2-D view of strided rows keeps its
// row stride, which the kernel takes as the leading dimension), else a copy.
Tensor as_rows(const Tensor& t) {
  Tensor r = t.dim() == 2 ? t : t.reshape({-1, t.size(-1)});
  if (r.size(1) > 1 && r.stride(1) != 1) r = r.contiguous();
  return r;
}

int64_t leading_dim(const Tensor& rows) { return rows.size(0) > 1 ? rows.stride(0) : rows.size(1); }

// out = a op(b) + bias on the kernel; false (out untouched) when the kernel does not take these operands. The TMA
// TF32 kernel takes B as weight rows only (TF32 wgmma reads shared memory K-major): the caller passes w^T for dy w.
bool try_kernel(Kernel which, const Tensor& a, const Tensor& b, k::GemmBLayout layout, const Tensor& bias,
                Tensor& out) {
  k::SplitTf32GemmParams p;
  p.m = a.size(0);
  p.k = a.size(1);
  p.n = out.size(1);
  p.a = a.data_ptr<float>();
  p.lda = leading_dim(a);
  p.b = b.data_ptr<float>();
  p.ldb = b.stride(0);
  p.b_layout = layout;
  p.bias = bias.defined() ? bias.data_ptr<float>() : nullptr;
  p.d = out.data_ptr<float>();
  p.ldd = out.stride(0);
  if (takes_weight_rows_only(which)) {
    if (!k::hopper::tf32_gemm_tma_supported(p)) return false;
    if (which == Kernel::kTf32 || which == Kernel::kTf32Pre)
      launch([&] { k::hopper::tf32_gemm_tma(p, current_stream()); });
    else
      launch([&] { k::hopper::tf32_gemm_tma_rna(p, current_stream()); });
  } else if (which == Kernel::kTf32Rs) {
    if (!k::hopper::tf32_gemm_rs_supported(p)) return false;
    launch([&] { k::hopper::tf32_gemm_rs(p, current_stream()); });
  } else {
    if (!k::split_tf32_gemm_supported(p)) return false;
    launch([&] { k::split_tf32_gemm(p, current_stream()); });
  }
  ++counts[static_cast<int>(which)].kernel;
  return true;
}

// w^T [in, out] as weight rows, for the TMA kernels' input gradients: made once per weight and reused. The weights are
// constants between MoLE merges, and a transposed copy per backward GEMM was 65 launches of ~2.6 us per evaluation
// (0.17 ms at Cu 192 on an H100, 3 % of the evaluation; benchmarks/results/2026-12-07-h100-recompute-conv2.md).
// An entry is keyed by the weight's storage, offset and shape, holds the storage weakly (a weight that dies drops
// its entry at the next miss) and remembers the weight's version (an in-place change makes the copy again). The
// copies take as much memory as the weights they transpose: the merged ones (~20 MB for UMA-S), or every expert in
// the unmerged mode of the merge's tests (Engine::set_use_unmerged_mixture).
class TransposedWeights {
 public:
  Tensor of(const Tensor& w) {
    if (!w.is_contiguous() || !w.has_storage()) return w.t().contiguous();  // a view made per call: nothing to keep
    const Key key{w.storage().unsafeGetStorageImpl(), w.storage_offset(), w.size(0), w.size(1)};
    const std::lock_guard<std::mutex> lock(mu_);
    const auto it = entries_.find(key);
    if (it != entries_.end() && !it->second.owner.expired() && it->second.version == w._version())
      return it->second.wt;
    for (auto e = entries_.begin(); e != entries_.end();) e = e->second.owner.expired() ? entries_.erase(e) : ++e;
    Entry entry{c10::weak_intrusive_ptr<c10::StorageImpl>(w.storage().getWeakStorageImpl()), w._version(),
                w.t().contiguous()};
    entries_.insert_or_assign(key, entry);
    return entry.wt;
  }

 private:
  using Key = std::tuple<const c10::StorageImpl*, int64_t, int64_t, int64_t>;
  struct Entry {
    c10::weak_intrusive_ptr<c10::StorageImpl> owner;
    int64_t version;
    Tensor wt;
  };
  std::mutex mu_;
  std::map<Key, Entry> entries_;
};
// Never destroyed: its CUDA tensors must not be freed after the caching allocator at exit.
TransposedWeights& transposed_weights() {
  static auto* cache = new TransposedWeights;
  return *cache;
}

// dy w as [rows of dy, in] on the kernel, or torch's mm where the kernel does not take the operands.
Tensor input_gradient(Kernel which, const Tensor& gy, const Tensor& w) {
  const c10::cuda::CUDAGuard guard(gy.device());
  const Tensor g2 = as_rows(gy);
  Tensor gx = torch::empty({g2.size(0), w.size(1)}, gy.options());
  // The split and RS kernels read w [out, in] as row-major B; the TMA TF32 kernels need w^T [in, out] as weight rows
  // (a copy of rounded values stays rounded).
  const bool ok = takes_weight_rows_only(which)
                      ? try_kernel(which, g2, transposed_weights().of(w), k::GemmBLayout::kWeightRows, Tensor(), gx)
                      : try_kernel(which, g2, w, k::GemmBLayout::kRowMajor, Tensor(), gx);
  if (!ok) {
    gx = torch::mm(g2, w);
    ++counts[static_cast<int>(which)].fallback;
  }
  return gx;
}

// One linear layer's GEMMs: forward on `forward_kernel`, input gradient on `backward_kernel` (the same kernel, except
// where the TF32 mode's producers have rounded an operand already: tf32_rna_linear).
class TensorCoreLinearFunction : public torch::autograd::Function<TensorCoreLinearFunction> {
 public:
  // b: the bias, or an empty tensor for none (torch's autograd Function takes no undefined inputs).
  static Tensor forward(AutogradContext* ctx, const Tensor& x, const Tensor& w, const Tensor& b, int64_t forward_kernel,
                        int64_t backward_kernel) {
    const Kernel which = static_cast<Kernel>(forward_kernel);
    const c10::cuda::CUDAGuard guard(x.device());
    const Tensor x2 = as_rows(x), wc = w.contiguous();
    const Tensor bc = b.numel() > 0 ? b.contiguous() : Tensor();
    Tensor y = torch::empty({x2.size(0), wc.size(0)}, x.options());
    if (!try_kernel(which, x2, wc, k::GemmBLayout::kWeightRows, bc, y)) {
      y = torch::nn::functional::linear(x2, wc, bc);
      ++counts[static_cast<int>(which)].fallback;
    }
    ctx->save_for_backward({wc});
    ctx->saved_data["input_shape"] = x.sizes().vec();
    ctx->saved_data["backward_kernel"] = backward_kernel;
    auto shape = x.sizes().vec();
    shape.back() = wc.size(0);
    return y.view(shape);
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const Tensor w = ctx->get_saved_variables()[0];
    const auto input_shape = ctx->saved_data["input_shape"].toIntVector();
    const Kernel which = static_cast<Kernel>(ctx->saved_data["backward_kernel"].toInt());
    const Tensor& gy = grad_outputs[0];
    if (!gy.defined()) return {Tensor(), Tensor(), Tensor(), Tensor(), Tensor()};
    return {input_gradient(which, gy, w).view(input_shape), Tensor(), Tensor(), Tensor(), Tensor()};
  }
};

Tensor tensor_core_linear(Kernel forward_kernel, Kernel backward_kernel, const Tensor& x, const Tensor& w,
                          const Tensor& b, const char* name) {
  require(x.is_cuda() && x.scalar_type() == torch::kFloat32 && w.scalar_type() == torch::kFloat32 &&
              w.device() == x.device() && w.dim() == 2 && x.dim() >= 1 && x.size(-1) == w.size(1) &&
              (!b.defined() || (b.scalar_type() == torch::kFloat32 && b.device() == x.device() && b.numel() == w.size(0))),
          std::string("uma::fused::") + name + ": needs fp32 CUDA x [..., in], w [out, in], b [out] on one device");
  // The weights are constants in inference; should a caller ever train through this, torch's linear forms
  // the weight gradient this function does not.
  if (w.requires_grad() || (b.defined() && b.requires_grad())) {
    ++counts[static_cast<int>(forward_kernel)].fallback;
    return torch::nn::functional::linear(x, w, b);
  }
  return TensorCoreLinearFunction::apply(x, w, b.defined() ? b : torch::empty({0}, w.options()),
                                         static_cast<int64_t>(forward_kernel), static_cast<int64_t>(backward_kernel));
}

}  // namespace

Tensor split_tf32_linear(const Tensor& x, const Tensor& w, const Tensor& b) {
  return tensor_core_linear(Kernel::kSplitTf32, Kernel::kSplitTf32, x, w, b, "split_tf32_linear");
}

Tensor tf32_linear(const Tensor& x, const Tensor& w, const Tensor& b) {
  return tensor_core_linear(Kernel::kTf32, Kernel::kTf32, x, w, b, "tf32_linear");
}

Tensor tf32_rs_linear(const Tensor& x, const Tensor& w, const Tensor& b) {
  return tensor_core_linear(Kernel::kTf32Rs, Kernel::kTf32Rs, x, w, b, "tf32_rs_linear");
}

Tensor tf32_rna_linear(const Tensor& x, const Tensor& w, const Tensor& b, bool input_rounded, bool grad_rounded) {
  // An operand its producer rounded already goes to the TMA kernel that reads it as it is: truncating a TF32 value
  // changes nothing, so the products are the rounding kernel's, without its copy through registers.
  return tensor_core_linear(rna_kernel_for(input_rounded), rna_kernel_for(grad_rounded), x, w, b, "tf32_rna_linear");
}

Tensor tf32_rs_input_gradient(const Tensor& dy, const Tensor& w) {
  return input_gradient(Kernel::kTf32Rs, dy, w.contiguous());
}

Tensor tf32_rna_input_gradient(const Tensor& dy, const Tensor& w, bool grad_rounded) {
  return input_gradient(rna_kernel_for(grad_rounded), dy, w.contiguous());
}

bool tf32_linear_available() { return k::split_tf32_wgmma_available(); }

TensorCoreCounts split_tf32_counts() {
  const auto& c = counts[static_cast<int>(Kernel::kSplitTf32)];
  return {c.kernel.load(), c.fallback.load()};
}

TensorCoreCounts tf32_linear_counts() {
  const auto& c = counts[static_cast<int>(Kernel::kTf32)];
  return {c.kernel.load(), c.fallback.load()};
}

TensorCoreCounts tf32_rs_linear_counts() {
  const auto& c = counts[static_cast<int>(Kernel::kTf32Rs)];
  return {c.kernel.load(), c.fallback.load()};
}

TensorCoreCounts tf32_rna_linear_counts() {
  const auto& c = counts[static_cast<int>(Kernel::kTf32Rna)];
  return {c.kernel.load(), c.fallback.load()};
}

TensorCoreCounts tf32_prerounded_counts() {
  const auto& c = counts[static_cast<int>(Kernel::kTf32Pre)];
  return {c.kernel.load(), c.fallback.load()};
}

}  // namespace fused
}  // namespace uma
