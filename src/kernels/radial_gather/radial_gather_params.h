// Parameters of radial_gather: the radial MLP's last Linear and the node -> edge gather + rotate of conv 1 in one
// kernel (the TF32 mode's forward of gather_rotate with a radial recipe, engine/fused/edge/fused_wigner_ops.h):
//   r[e, q]       = sum_k hidden[e, k] W[q, k] + bias[q]          q < 6 * 2C, the conv-1 radial scale
//   out[e, m, :]  = gather_rotate's row m with that scale (wigner_params.h GatherRotateFwdParams::radial)
// The scale [E, 6 * 2C] (1536 floats per edge at C = 128) is never written: each CTA makes it for its tile of edges,
// a chunk of columns at a time, on the tensor cores (mma.sync TF32, both operands rounded to TF32, fp32 sums; the
// tiling is radial_gather_kernel.cuh's), and multiplies it into the rotated rows in registers. That saves the scale's write by the Linear and its read by the
// gather, ~1.2 GB per layer at carbon 2000 (docs/fused-edge-block.md, "The radial scale inside the gather").
// Plain struct: pointers and sizes only, no Torch, no CUDA types. fp32 only (the TF32 mode).
#ifndef UMA_KERNELS_RADIAL_GATHER_PARAMS_H
#define UMA_KERNELS_RADIAL_GATHER_PARAMS_H

#include <cstdint>

#include "kernels/wigner/wigner_params.h"

namespace uma {
namespace kernels {

// The kernel's fixed sizes: C = 128 sphere channels (2C = 256 per radial group), a hidden width that is a multiple of
// 8 up to 128 (its A fragments stay in registers).
constexpr int64_t kRadialGatherChannels = 128;
constexpr int64_t kRadialGatherMaxHidden = 128;

// Whether the kernel takes these sizes: the one test the launcher, the reference, the engine's op and the engine's
// construction all make.
constexpr bool radial_gather_takes(int64_t channels, int64_t hidden_dim) {
  return channels == kRadialGatherChannels && hidden_dim > 0 && hidden_dim % 8 == 0 &&
         hidden_dim <= kRadialGatherMaxHidden;
}

struct RadialGatherParams {
  // x, src, dst, wigner, out / out_groups, n_atoms, n_edges, channels and round_tf32 as for gather_rotate; radial
  // must be nullptr (the scale is made here).
  GatherRotateFwdParams<float> gather;
  const float* hidden = nullptr;  // [n_edges, hidden_dim] the Linear's input, rows contiguous
  int64_t hidden_dim = 0;         // K, a multiple of 8, <= kRadialGatherMaxHidden
  const float* weight = nullptr;  // [kRadialGroups * 2 * channels, hidden_dim] row-major ([out, in], as nn.Linear)
  const float* bias = nullptr;    // [kRadialGroups * 2 * channels] or nullptr
};

// Why the launcher and the reference refuse p (sizes the kernel does not take, a radial pointer, missing pointers), or
// "" when they take it.
inline const char* radial_gather_refusal(const RadialGatherParams& p) {
  const GatherRotateFwdParams<float>& g = p.gather;
  if (!radial_gather_takes(g.channels, p.hidden_dim))
    return g.channels != kRadialGatherChannels ? "channels must be 128"
                                               : "hidden_dim must be a positive multiple of 8, at most 128";
  if (g.radial) return "gather.radial must be nullptr: the scale is made from hidden and weight";
  if (g.n_edges < 0) return "n_edges must be >= 0";
  if (g.n_edges > 0 && (!p.hidden || !p.weight || !g.x || !g.src || !g.dst || !g.wigner))
    return "hidden, weight, x, src, dst and wigner must be given";
  return "";
}

}  // namespace kernels
}  // namespace uma

#endif  // UMA_KERNELS_RADIAL_GATHER_PARAMS_H
