#include "model/metrics.h"

#include <gtest/gtest.h>

namespace loom {
namespace {

TEST(Metrics, CountersAndGaugesByNameAndLabels) {
  Metrics m;
  m.counter("weave_flows_total").add();
  m.counter("weave_flows_total").add(2);
  m.gauge("weave_connections", {{"state", "established"}}).set(3);
  m.gauge("weave_connections", {{"state", "pending"}}).set(1);
  EXPECT_EQ(m.value("weave_flows_total"), 3);
  EXPECT_EQ(m.value("weave_connections", {{"state", "established"}}), 3);
  EXPECT_EQ(m.value("weave_connections", {{"state", "pending"}}), 1);
  EXPECT_EQ(m.value("weave_connections"), 0);
  EXPECT_EQ(m.value("missing"), 0);
}

TEST(Metrics, ReferencesAreStableAndLabelOrderIrrelevant) {
  Metrics m;
  Counter& c = m.counter("x", {{"b", "2"}, {"a", "1"}});
  for (int i = 0; i < 100; ++i) m.counter("other" + std::to_string(i)).add();
  c.add(5);
  EXPECT_EQ(m.value("x", {{"a", "1"}, {"b", "2"}}), 5);
}

// A gauge counted on read shows its owner's current number; once the owner
// releases it (a mesh stopping) the last number stays, and a release by an
// owner already replaced (a restart built the new one first) leaves the new
// owner's source alone.
TEST(Metrics, GaugeWithASourceIsCountedWhenReadAndKeepsItsLastValue) {
  Metrics m;
  Gauge& g = m.gauge("weave_connections", {{"state", "established"}});
  int old_owner = 0;
  int new_owner = 0;
  double count = 4;
  g.set_source(&old_owner, [&] { return count; });
  EXPECT_EQ(m.value("weave_connections", {{"state", "established"}}), 4);
  count = 7;
  EXPECT_EQ(m.snapshot().front().value, 7);
  double restarted = 1;
  g.set_source(&new_owner, [&] { return restarted; });
  g.release_source(&old_owner);
  restarted = 2;
  EXPECT_EQ(g.value(), 2);
  g.release_source(&new_owner);
  restarted = 9;
  EXPECT_EQ(g.value(), 2);
}

TEST(Metrics, PrometheusTextIsSortedAndTyped) {
  Metrics m;
  m.gauge("weave_connections", {{"state", "pending"}}).set(1);
  m.gauge("weave_connections", {{"state", "established"}}).set(2);
  m.counter("loom_dropped_total", {{"reason", "say \"hi\""}}).add(4);
  EXPECT_EQ(m.prometheus(),
            "# TYPE loom_dropped_total counter\n"
            "loom_dropped_total{reason=\"say \\\"hi\\\"\"} 4\n"
            "# TYPE weave_connections gauge\n"
            "weave_connections{state=\"established\"} 2\n"
            "weave_connections{state=\"pending\"} 1\n");
}

}  // namespace
}  // namespace loom
