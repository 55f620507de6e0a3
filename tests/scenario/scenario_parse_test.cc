// Scenario files as users write them: defaults, selectors, overrides, and
// bad input rejected with the file, the JSON path and the reason.
#include <string>

#include <gtest/gtest.h>

#include "sim/scenario/scenario.h"

namespace loom::sim::scenario {
namespace {

Scenario parse(const std::string& text) { return parse_scenario(text, "test.json", ""); }

std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const BadInput& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(ScenarioParse, DefaultsAreWeaves) {
  const Scenario s = parse(R"({"underlay": {"hosts": 3}})");
  EXPECT_EQ(s.name, "test");
  EXPECT_EQ(s.seed, 1u);
  EXPECT_EQ(s.duration, std::chrono::seconds(60));
  EXPECT_EQ(s.fidelity, StreamFidelity::tcp);
  ASSERT_EQ(s.node_count(), 3u);
  const WeaveSettings& w = s.nodes[0];
  EXPECT_FALSE(w.password);
  EXPECT_EQ(w.mesh.conn_limit, 200u);  // weaver's --conn-limit default
  EXPECT_EQ(w.mesh.gossip_interval, std::chrono::seconds(30));
  EXPECT_EQ(w.ipalloc_range, "10.32.0.0/12");
  EXPECT_EQ(w.ipalloc_init.kind, IpamInit::Kind::consensus);
  EXPECT_EQ(w.targets, WeaveSettings::Targets::all);
  EXPECT_EQ(w.dataplane.overlays, (std::vector<std::string>{"fastdp", "sleeve"}));
}

TEST(ScenarioParse, SchemaKeyIsIgnoredAndNamesComeFromTheFile) {
  const Scenario s = parse_scenario(
      R"({"$schema": "scenario.schema.json", "underlay": {"hosts": 1}})", "dir/my test.json", "");
  EXPECT_EQ(s.name, "my-test");
}

TEST(ScenarioParse, OverridesApplyToTheirNodesOnly) {
  const Scenario s = parse(R"({
    "underlay": {"kind": "racks", "hosts": 6, "rack_size": 3},
    "weave": {"conn_limit": 30, "password": "s"},
    "overrides": [
      {"nodes": ["rack:1"], "weave": {"conn_limit": 5, "mesh": {"gossip_interval_s": 2}}},
      {"nodes": [0], "weave": {"password": null, "peers": ["n1", "n2"]}}
    ]})");
  EXPECT_EQ(s.nodes[0].mesh.conn_limit, 30u);
  EXPECT_FALSE(s.nodes[0].password);
  EXPECT_EQ(s.nodes[0].targets, WeaveSettings::Targets::list);
  EXPECT_EQ(s.nodes[0].target_nodes, (std::vector<size_t>{1, 2}));
  EXPECT_EQ(s.nodes[1].password, "s");
  for (size_t i : {3, 4, 5}) {
    EXPECT_EQ(s.nodes[i].mesh.conn_limit, 5u) << i;
    EXPECT_EQ(s.nodes[i].mesh.gossip_interval, std::chrono::seconds(2)) << i;
  }
  EXPECT_EQ(s.nodes[2].mesh.gossip_interval, std::chrono::seconds(30));
}

TEST(ScenarioParse, EventsAreSortedAndAddedNodesNumberedOn) {
  const Scenario s = parse(R"({
    "underlay": {"hosts": 3},
    "events": [
      {"at_s": 20, "do": "heal"},
      {"at_s": 5, "do": "add_nodes", "count": 2},
      {"at_s": 10, "do": "partition", "groups": [["n0", "n3"], ["1-2"]]},
      {"at_s": 15, "do": "kill", "nodes": [4]}
    ]})");
  ASSERT_EQ(s.events.size(), 4u);
  EXPECT_EQ(s.events[0].kind, Event::Kind::add_nodes);
  EXPECT_EQ(s.events[0].nodes, (std::vector<size_t>{3, 4}));
  EXPECT_EQ(s.events[1].groups, (std::vector<std::vector<size_t>>{{0, 3}, {1, 2}}));
  EXPECT_EQ(s.events[2].nodes, (std::vector<size_t>{4}));
  EXPECT_EQ(s.node_count(), 5u);
}

TEST(ScenarioParse, BadInputNamesThePathAndTheReason) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {R"([1])", "test.json: /: expected an object"},
      {R"({"underlay": {"hosts": 3},)", "test.json: not valid JSON"},
      {R"({})", "test.json: /underlay: required"},
      {R"({"underlay": {"hosts": 3}, "dration_s": 5})", "test.json: /dration_s: unknown field"},
      {R"({"underlay": {"hosts": 0}})", "/underlay/hosts: 0 is out of range"},
      {R"({"underlay": {"hosts": 100}})", "/underlay/hosts: a lan puts every host on one switch"},
      {R"({"underlay": {"hosts": 3, "link": {"rate": "fast"}}})",
       "/underlay/link/rate: 'fast' is not a data rate"},
      {R"({"underlay": {"hosts": 3, "link": {"loss": 2}}})",
       "/underlay/link/loss: 2 is out of range"},
      {R"({"underlay": {"kind": "ring", "hosts": 3}})",
       "/underlay/kind: 'ring' is not one of: lan, racks, graph"},
      {R"({"underlay": {"hosts": 3}, "fidelity": "packet"})",
       "/fidelity: 'packet' is not one of: tcp, message"},
      {R"({"underlay": {"hosts": 3}, "weave": {"conn_limit": -1}})",
       "/weave/conn_limit: expected a non-negative integer"},
      {R"({"underlay": {"hosts": 3}, "weave": {"ipalloc_init": "seed=n7"}})",
       "/weave/ipalloc_init/seed/0: no node n7"},
      {R"({"underlay": {"hosts": 3}, "weave": {"ipalloc_init": "paxos"}})",
       "/weave/ipalloc_init: 'paxos' is not consensus"},
      {R"({"underlay": {"hosts": 3}, "weave": {"ipalloc_range": "10.0.0.0/33"}})",
       "/weave/ipalloc_range: "},
      {R"({"underlay": {"hosts": 3}, "weave": {"mesh": {"gossip_intervl_s": 1}}})",
       "/weave/mesh/gossip_intervl_s: unknown field"},
      {R"({"underlay": {"hosts": 3}, "overrides": [{"nodes": "rack:0", "weave": {}}]})",
       "/overrides/0/nodes: rack selectors need a racks underlay"},
      {R"({"underlay": {"hosts": 3}, "events": [{"do": "heal"}]})", "/events/0/at_s: required"},
      {R"({"underlay": {"hosts": 3}, "events": [{"at_s": 1, "do": "explode"}]})",
       "/events/0/do: 'explode' is not one of"},
      {R"({"underlay": {"hosts": 3}, "events": [{"at_s": 1, "do": "kill", "nodes": ["5-9"]}]})",
       "/events/0/nodes/0: range 5-9 is not within 0-2"},
      {R"({"underlay": {"hosts": 3}, "events": [{"at_s": 1, "do": "partition", "groups": [[0, 1], [1, 2]]}]})",
       "/events/0/groups/1: n1 is in two groups"},
      {R"({"underlay": {"hosts": 3}, "events": [{"at_s": 1, "do": "apply_policy", "file": "nope.yaml"}]})",
       "/events/0/file: cannot open nope.yaml"},
      {R"({"underlay": {"hosts": 3}, "pods": [{"name": "Web"}]})",
       "/pods/0/name: 'Web' is not a lower-case DNS label"},
      {R"({"underlay": {"hosts": 3}, "pods": [{"name": "a"}], "traffic": [{"from": "a", "to": "b"}]})",
       "/traffic/0/to: no pod group 'b'"},
      {R"({"underlay": {"hosts": 3}, "expectations": [{"metric": "mesh.speed", "max": 1}]})",
       "/expectations/0/metric: 'mesh.speed' is not a metric"},
      {R"({"underlay": {"hosts": 3}, "expectations": [{"metric": "mesh.converged"}]})",
       "/expectations/0: an expectation needs a min, a max or both"},
      {R"({"underlay": {"hosts": 3}, "duration_s": 10, "expectations": [{"metric": "mesh.converged", "min": 1, "at_s": 11}]})",
       "/expectations/0/at_s: is after the end"},
      {R"({"underlay": {"hosts": 3, "link": {"rate": "0bps"}}})",
       "/underlay/link/rate: '0bps' is not a data rate"},
      {R"({"underlay": {"hosts": 3}, "seed": null})", "/seed: null is not a value here"},
      {R"({"underlay": {"hosts": 3}, "events": [{"at_s": 1, "do": "kill", "nodes": ["n99999999999999999999"]}]})",
       "/events/0/nodes/0: 'n99999999999999999999' is not a node selector"},
      {R"({"underlay": {"hosts": 3}, "duration_s": 10, "events": [{"at_s": 11, "do": "heal"}]})",
       "/events/0/at_s: is after the end"},
      {R"({"underlay": {"hosts": 3}, "expectations": [{"metric": "dataplane.dropped.cosmic_rays", "max": 0}]})",
       "'dataplane.dropped.cosmic_rays' is not a metric"},
  };
  for (const auto& [text, want] : cases) {
    const std::string got = error_of(text);
    EXPECT_NE(got.find(want), std::string::npos)
        << text << "\n  got:  " << got << "\n  want: " << want;
  }
}

}  // namespace
}  // namespace loom::sim::scenario
