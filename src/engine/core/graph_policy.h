// uma::GraphPolicy — the host-side rules of the CUDA-graph path (captured_eval.h), kept free of CUDA so
// that CI tests them: how many edges a recording is padded to, when a recording no longer fits, and when
// recording again so often that graphs cost more than they save (a run whose atom count or edge count
// keeps jumping, e.g. deposition) makes them switch off.
#ifndef UMA_ENGINE_GRAPH_POLICY_H
#define UMA_ENGINE_GRAPH_POLICY_H

#include <cstdint>

namespace uma {

class GraphPolicy {
 public:
  // Edges of a recording for `edges` real ones: 5 % (+64) of room to grow, in steps of 256.
  static int64_t capacity_for(int64_t edges);
  // A recording of `capacity` edges still serves `edges`: they fit, and a new recording would not be
  // 20 % smaller beyond one 256-edge step of rounding (padding work and memory wasted).
  static bool capacity_fits(int64_t capacity, int64_t edges);

  // Called once per evaluation, before it runs: whether it needs a new recording. Returns whether
  // graphs stay on. A recording within kMinReplays evaluations of the previous one counts as a
  // thrash; kMaxThrashes of them in a row switch graphs off for good (each recording costs about two
  // evaluations; it pays only when many replays follow).
  bool allow(bool needs_recording);
  bool enabled() const { return enabled_; }

  static constexpr int64_t kMinReplays = 16;
  static constexpr int kMaxThrashes = 3;

 private:
  bool enabled_ = true;
  bool recorded_ = false;
  int64_t since_recording_ = 0;
  int thrashes_ = 0;
};

}  // namespace uma

#endif
