#include "engine/core/graph_policy.h"

namespace uma {

int64_t GraphPolicy::capacity_for(int64_t edges) { return (edges + edges / 20 + 64 + 255) / 256 * 256; }

bool GraphPolicy::capacity_fits(int64_t capacity, int64_t edges) {
  // One 256-edge step of rounding is forgiven: at ~1000 edges a 2 % drop can cost a whole step (1280 ->
  // 1024, exactly 20 %), which is no reason to record again.
  return edges <= capacity && (capacity_for(edges) + 256) * 5 > capacity * 4;
}

bool GraphPolicy::allow(bool needs_recording) {
  if (!enabled_) return false;
  if (needs_recording) {
    if (recorded_ && since_recording_ < kMinReplays) {
      if (++thrashes_ >= kMaxThrashes) {
        enabled_ = false;
        return false;
      }
    } else {
      thrashes_ = 0;
    }
    recorded_ = true;
    since_recording_ = 0;
  } else {
    ++since_recording_;
  }
  return true;
}

}  // namespace uma
