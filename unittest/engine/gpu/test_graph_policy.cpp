// The host-side rules of the CUDA-graph path (graph_policy.h), which CI can run: padding, when a recording
// still serves, and when recording too often switches graphs off. Expected values follow from the rules
// stated in graph_policy.h (worked by hand in the comments), not from a run of the code.
#include <gtest/gtest.h>

#include "engine/core/graph_policy.h"

using uma::GraphPolicy;

TEST(GraphPolicy, CapacityPadsFivePercentPlus64InStepsOf256) {
  EXPECT_EQ(GraphPolicy::capacity_for(110), 256);      // 110 + 5 + 64 = 179 -> 256
  EXPECT_EQ(GraphPolicy::capacity_for(14344), 15360);  // 14344 + 717 + 64 = 15125 -> 60 x 256
  EXPECT_EQ(GraphPolicy::capacity_for(0), 256);        // 64 -> 256
  for (int64_t e : {1, 255, 256, 1000, 99999, 100000}) {
    const int64_t c = GraphPolicy::capacity_for(e);
    EXPECT_EQ(c % 256, 0) << e;
    EXPECT_GE(c, e + e / 20 + 64) << e;
    EXPECT_LT(c, e + e / 20 + 64 + 256) << e;
  }
}

// A small graph must keep serving the edge count it was recorded for, and a few percent less: the first
// version compared the edges with 80 % of the capacity, which 110 edges in a 256-edge recording never
// reach, so every call recorded again (found on the GPU); the second still re-recorded 932 -> 914 edges
// (the fixture run on the GPU recorded twice there), which this test caught on the CPU.
TEST(GraphPolicy, ARecordingServesItsOwnEdgeCountAndSmallChanges) {
  for (int64_t e : {1, 110, 932, 14344, 99999}) {
    const int64_t c = GraphPolicy::capacity_for(e);
    EXPECT_TRUE(GraphPolicy::capacity_fits(c, e)) << e;
    EXPECT_TRUE(GraphPolicy::capacity_fits(c, e - e / 50)) << e;  // 2 % fewer edges
    EXPECT_TRUE(GraphPolicy::capacity_fits(c, c)) << e;           // up to the capacity itself
    EXPECT_FALSE(GraphPolicy::capacity_fits(c, c + 1)) << e;      // one more: record again
  }
}

TEST(GraphPolicy, ShrinkingByAFifthRecordsAgain) {
  const int64_t c = GraphPolicy::capacity_for(14344);  // 15360
  // capacity_for(11000) = 11000 + 550 + 64 -> 11776 (46 x 256); (11776 + 256) x 5 = 60160 < 15360 x 4 = 61440.
  EXPECT_FALSE(GraphPolicy::capacity_fits(c, 11000));
  // capacity_for(12000) = 12000 + 600 + 64 -> 12800; (12800 + 256) x 5 = 65280 > 61440: keep the recording.
  EXPECT_TRUE(GraphPolicy::capacity_fits(c, 12000));
  // The rounding step is forgiven: 932 edges record 1280; 914 would record 1024 (20 % less, one step).
  EXPECT_EQ(GraphPolicy::capacity_for(932), 1280);
  EXPECT_EQ(GraphPolicy::capacity_for(914), 1024);
  EXPECT_TRUE(GraphPolicy::capacity_fits(1280, 914));
}

TEST(GraphPolicy, RecordingsFarApartKeepGraphsOn) {
  GraphPolicy p;
  for (int round = 0; round < 10; ++round) {
    EXPECT_TRUE(p.allow(true));
    for (int i = 0; i < GraphPolicy::kMinReplays; ++i) EXPECT_TRUE(p.allow(false));
  }
  EXPECT_TRUE(p.enabled());
}

TEST(GraphPolicy, RecordingEveryFewStepsSwitchesGraphsOffForGood) {
  GraphPolicy p;
  EXPECT_TRUE(p.allow(true));  // the first recording is never a thrash
  // Recordings 2 and 3 come right after the previous one: two thrashes, still on.
  EXPECT_TRUE(p.allow(false));
  EXPECT_TRUE(p.allow(true));
  EXPECT_TRUE(p.allow(true));
  // The third thrash in a row switches off; nothing switches it back on.
  EXPECT_FALSE(p.allow(true));
  EXPECT_FALSE(p.enabled());
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(p.allow(false));
  EXPECT_FALSE(p.allow(true));
}

TEST(GraphPolicy, AQuietSpellResetsTheThrashCount) {
  GraphPolicy p;
  EXPECT_TRUE(p.allow(true));
  EXPECT_TRUE(p.allow(true));  // thrash 1
  EXPECT_TRUE(p.allow(true));  // thrash 2
  for (int i = 0; i < GraphPolicy::kMinReplays; ++i) EXPECT_TRUE(p.allow(false));
  EXPECT_TRUE(p.allow(true));  // far from the previous one: count back to 0
  EXPECT_TRUE(p.allow(true));  // thrash 1
  EXPECT_TRUE(p.allow(true));  // thrash 2
  EXPECT_TRUE(p.enabled());
}
