// Which of the tf32 mode's fused paths are on by default, why (each default's measurements), and the environment
// switches that override them for A/B timings and tests. Read by the engine's construction (engine.cpp).
#ifndef UMA_ENGINE_FUSED_PATHS_H
#define UMA_ENGINE_FUSED_PATHS_H

#include <cstdlib>
#include <string>

#include "model/errors.h"

namespace uma {

// Whether the tf32 mode's producer rounding (LayerTables::round_tf32_operands) is on without UMA_TF32_PREROUND. On
// since 2026-12-07 (ninth session): its GPU test (test_gpu_engine PreRoundedOperandsGiveTheRoundingKernelsBits) passed
// on an H100, and carbon 2000 ran in 29.58 ms against 30.63 ms with it off, Cu 192 in 5.39 against 5.47 ms, same peak
// memory (benchmarks/results/2026-12-07-h100-preround-k2.md).
constexpr bool kPreroundByDefault = true;
// Whether the hopper-rna mode makes the edge gate inside conv 2's TMA GEMMs (K2 on the TMA host) without
// UMA_FUSED_GATE_CONV2. On since 2026-12-07 (ninth session): its GPU tests passed (GateConv2Cuda; test_gpu_engine
// GateInConv2OnTheTmaHostGivesTheUnfusedBits: the same bits) and it is faster (carbon 2000 29.31 against 29.58 ms, Cu
// 192 5.29 against 5.39 ms on an H100; benchmarks/results/2026-12-07-h100-preround-k2.md). Its first form kept the
// three output gradients through the gate's adjoint (+5 % peak memory); the backward now releases each once used.
constexpr bool kGateInConv2TmaByDefault = true;
// Whether the tf32 mode makes conv 1's radial scale inside the gather kernel (kernels/radial_gather/: the radial MLP's
// last Linear on the tensor cores, the scale never stored) without UMA_FUSED_RADIAL_GATHER. Where it is on, automatic
// recomputation (`recompute auto`) starts at the radial tier: the forward keeps no scale and the backward makes it
// again from the hidden rows, so the scale's 1536 floats per edge and layer are neither kept nor written and read.
// Off: its first two forms passed their GPU tests but took 1.58 and 1.46 ms per layer at carbon 2000 against
// gather_rotate's 0.62 (carbon 2000 33.0 against 29.0 ms, H100, 2026-12-07; benchmarks/results/
// 2026-12-07-h100-radial-gather.md); the third has not run yet (docs/fused-edge-block.md, "Tenth session").
constexpr bool kRadialGatherByDefault = false;
// Whether the tf32 mode holds conv 1's message in fp16 (the TF32 values it holds already, exactly; gather_rotate_half
// and half_conv1: the f16 GEMMs on half the bytes) without UMA_HALF_OPERANDS. Off: written on 2026-12-08 without a
// GPU (docs/fused-edge-block.md, "Eleventh session"); its GPU tests and timings have not run yet.
constexpr bool kHalfOperandsByDefault = false;

// An on/off switch from the environment (UMA_TF32_PREROUND, UMA_FUSED_GATE_CONV2, UMA_FUSED_RADIAL_GATHER,
// UMA_HALF_OPERANDS): unset or empty gives `by_default`,
// "0" off, "1" on; any other value is an error, raised when the model is loaded.
inline bool env_switch(const char* name, bool by_default) {
  const char* env = std::getenv(name);
  const std::string value = env ? env : "";
  if (!value.empty() && value != "0" && value != "1") throw Error(std::string(name) + "=" + value + " must be 0 or 1");
  return value.empty() ? by_default : value == "1";
}

}  // namespace uma

#endif  // UMA_ENGINE_FUSED_PATHS_H
