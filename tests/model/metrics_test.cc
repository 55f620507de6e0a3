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
