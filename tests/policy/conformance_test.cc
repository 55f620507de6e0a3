// The conformance table through the engine: for every case of
// data/cases, the full reachability matrix (every ordered pair of pods,
// every port each destination serves) must equal the case's expect.txt,
// whichever order the cluster and the policies arrive in; and after a
// relabelling, the index must give what a fresh engine gives.
#include "tests/policy/conformance.h"

#include <gtest/gtest.h>

#include "model/policy/policy_engine.h"

namespace loom::policy::testing {
namespace {

std::string report(const std::vector<std::string>& problems, const std::vector<Probe>& probes,
                   const Cluster& cluster) {
  std::string out;
  for (size_t i = 0; i < problems.size() && i < 20; ++i) out += "  " + problems[i] + "\n";
  if (problems.size() > 20) out += "  ... " + std::to_string(problems.size() - 20) + " more\n";
  return out + "The engine's matrix:\n" + render(probes, cluster);
}

void expect_matrix(const PolicyEngine& engine, const Cluster& cluster,
                   const std::filesystem::path& table) {
  const std::vector<Probe> probes = reachability(engine, cluster.pods);
  const auto problems = mismatches(read_expectation(table, cluster), probes);
  EXPECT_TRUE(problems.empty()) << table.string() << ":\n" << report(problems, probes, cluster);
}

class Conformance : public ::testing::TestWithParam<std::string> {};

TEST_P(Conformance, ClusterThenPolicies) {
  const Case c = load_case(GetParam());
  PolicyEngine engine;
  ASSERT_TRUE(engine.load(c.cluster));
  for (const NetworkPolicy& p : c.policies) engine.set_policy(p);
  expect_matrix(engine, c.cluster, c.dir / "expect.txt");
}

TEST_P(Conformance, PoliciesThenCluster) {
  const Case c = load_case(GetParam());
  PolicyEngine engine;
  for (const NetworkPolicy& p : c.policies) engine.set_policy(p);
  ASSERT_TRUE(engine.load(c.cluster));
  expect_matrix(engine, c.cluster, c.dir / "expect.txt");
}

class Relabelling : public ::testing::TestWithParam<std::string> {};

TEST_P(Relabelling, IndexFollowsTheNewLabels) {
  const Case c = load_case(GetParam());
  ASSERT_TRUE(c.after);
  PolicyEngine engine;
  ASSERT_TRUE(engine.load(c.cluster));
  for (const NetworkPolicy& p : c.policies) engine.set_policy(p);
  ASSERT_TRUE(engine.load(*c.after));  // namespaces and pods replaced in place
  expect_matrix(engine, *c.after, c.dir / "expect-after.txt");

  PolicyEngine fresh;
  ASSERT_TRUE(fresh.load(*c.after));
  for (const NetworkPolicy& p : c.policies) fresh.set_policy(p);
  expect_matrix(fresh, *c.after, c.dir / "expect-after.txt");
}

INSTANTIATE_TEST_SUITE_P(Cases, Conformance, ::testing::ValuesIn(case_names()), case_test_name);
INSTANTIATE_TEST_SUITE_P(Cases, Relabelling, ::testing::ValuesIn(case_names(true)), case_test_name);

}  // namespace
}  // namespace loom::policy::testing
