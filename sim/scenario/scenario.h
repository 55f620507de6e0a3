// Scenario: what a scenario file says, parsed and checked (docs/scenarios.md).
//
// A plain description; sim/scenario/runner.h runs it. Every field has the
// default docs/scenarios.md gives, which for Weave's settings is Weave's own
// (model/mesh/mesh_config.h, model/ipam/allocator.h, model/dataplane/
// data_plane_config.h). Node selectors and pod groups are resolved here, so
// that the runner never meets a name it does not know.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/dataplane/data_plane_config.h"
#include "model/host.h"
#include "model/ipam/allocator.h"
#include "model/mesh/mesh_config.h"
#include "model/policy/network_policy.h"
#include "sim/world.h"

namespace loom::sim::scenario {

// Bad input: "FILE: /json/path: reason". Exit status 2.
class BadInput : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The underlay: the network the hosts run on.
struct Underlay {
  enum class Kind { lan, racks, graph };
  Kind kind = Kind::lan;
  size_t hosts = 0;       // lan, racks: the hosts that run Weave
  size_t rack_size = 20;  // racks: hosts per top-of-rack router
  LinkSpec host_link;     // lan, racks: host <-> its switch/ToR
  LinkSpec uplink;        // racks: ToR <-> core
  // graph (from a file): routers and hosts by name, links between them.
  struct GraphLink {
    std::string a;
    std::string b;
    LinkSpec spec;
  };
  std::string file;                     // as given, for the summary
  std::vector<std::string> routers;     // names
  std::vector<std::string> host_names;  // names of the hosts, in node order
  std::vector<GraphLink> links;
};

// How Weave's IPAM initialises (--ipalloc-init).
struct IpamInit {
  enum class Kind { consensus, seed, observer };
  Kind kind = Kind::consensus;
  std::optional<unsigned> peer_count;  // consensus=N; none: the initial node count
  std::vector<size_t> seed;            // seed=: node indices
};

// Weave's configuration of one node (the scenario's "weave", with the
// node's overrides applied).
struct WeaveSettings {
  std::optional<std::string> password;  // encryption when set
  mesh::MeshConfig mesh;
  dataplane::DataPlaneConfig dataplane;
  // Targets given to the mesh: "all" initial nodes (kube-peers), "none",
  // "rack" (the node's own rack), or these nodes.
  enum class Targets { all, none, rack, list };
  Targets targets = Targets::all;
  std::vector<size_t> target_nodes;
  std::string ipalloc_range = "10.32.0.0/12";
  IpamInit ipalloc_init;
  Time ipam_tick = std::chrono::seconds(5);
  Time start_at{};  // when weaver starts on this node (plus the start spread)
};

struct PodPort {
  std::string name;
  uint16_t port = 0;
  std::string protocol = "TCP";
};

// A group of pods: `per_node` pods on each of `nodes`.
struct PodGroup {
  std::string name;  // pods are named NAME-NODE-K
  std::string namespace_name = "default";
  std::map<std::string, std::string> labels;
  size_t per_node = 1;
  std::vector<size_t> nodes;  // node indices
  std::vector<PodPort> ports;
};

// Traffic between pod groups, from ns-3's applications in the pods.
struct Traffic {
  enum class Kind { ping, udp_echo, onoff, bulk_tcp };
  std::string name;  // for traffic.NAME.* metrics
  Kind kind = Kind::ping;
  std::string from;  // pod group
  std::string to;    // pod group
  // Which (from, to) pod pairs: every pod of `from` to one pod of `to` on
  // another node chosen with the seed, or at most `pairs` such pairs.
  std::optional<size_t> pairs;
  Time start{};
  int count = 10;  // ping, udp_echo
  Time interval = std::chrono::seconds(1);
  size_t payload_bytes = 56;                 // udp_echo, onoff packet size
  uint16_t port = 5001;                      // onoff, bulk_tcp
  std::string rate = "1Mbps";                // onoff
  Time duration = std::chrono::seconds(10);  // onoff
  uint64_t bytes = 1 << 20;                  // bulk_tcp
};

// One timeline event.
struct Event {
  enum class Kind {
    partition,      // groups of nodes that cannot reach each other
    heal,           // the partition ends
    kill,           // weaver dies on nodes (their pods stay)
    restart,        // weaver starts again on killed nodes (store kept or wiped)
    rmpeer,         // `weave rmpeer PEER` on node `on`
    add_nodes,      // new hosts join (lan: on the switch; racks: filling racks)
    set_loss,       // packet loss on the nodes' links
    link_down,      // the nodes' links go down
    link_up,        // and up
    create_pods,    // a pod group is created
    delete_pods,    // a pod group's pods are deleted (addresses released)
    apply_policy,   // NetworkPolicies from a file
    delete_policy,  // a NetworkPolicy by namespace/name
  };
  Time at{};
  Kind kind = Kind::heal;
  std::string where;  // the JSON path, for messages
  std::vector<size_t> nodes;
  std::vector<std::vector<size_t>> groups;      // partition
  bool keep_store = true;                       // restart
  size_t on = 0;                                // rmpeer: the node that runs it
  size_t peer = 0;                              // rmpeer: the node removed
  size_t count = 0;                             // add_nodes
  double loss = 0;                              // set_loss
  std::string pod_group;                        // create_pods, delete_pods
  std::string file;                             // apply_policy (as given)
  std::vector<policy::NetworkPolicy> policies;  // apply_policy, parsed
  std::string policy;                           // delete_policy: namespace/name
};

// A bound on a metric (docs/scenarios.md, "Metrics"), at the end or at a time.
struct Expectation {
  std::string name;
  std::string metric;
  std::optional<Time> at;  // none: at the end
  std::optional<double> min;
  std::optional<double> max;
};

struct Scenario {
  std::string file;  // as given on the command line
  std::string name;
  std::string description;
  uint64_t seed = 1;
  Time duration = std::chrono::seconds(60);
  StreamFidelity fidelity = StreamFidelity::tcp;
  Time start_spread = std::chrono::seconds(1);
  Time sample_interval = std::chrono::seconds(1);
  Underlay underlay;
  std::vector<WeaveSettings> nodes;  // one per node: the initial ones, then those add_nodes adds
  std::map<std::string, std::map<std::string, std::string>> namespaces;  // name -> labels
  std::vector<PodGroup> pod_groups;             // in file order; created at their event or at start
  std::vector<std::string> initial_pod_groups;  // created when their node's weaver starts
  std::vector<Traffic> traffic;
  std::vector<Event> events;  // sorted by time, file order within a time
  std::vector<Expectation> expectations;
  bool uses_policy = false;  // some event applies a policy

  size_t node_count() const { return nodes.size(); }
  const PodGroup* pod_group(const std::string& name) const;
};

// Reads and checks a scenario file. seed_override replaces the file's seed.
// Throws BadInput.
Scenario load_scenario(const std::string& file, std::optional<uint64_t> seed_override = {});
// The same from text (`file` only names it in messages; relative paths in
// the scenario are taken relative to base_dir).
Scenario parse_scenario(const std::string& text, const std::string& file,
                        const std::string& base_dir, std::optional<uint64_t> seed_override = {});

// The node name of index i: "n0", "n1", ...
std::string node_name(size_t i);

// Every metric name an expectation may use (docs/scenarios.md, "Metrics"),
// without the traffic.NAME. ones.
const std::vector<std::string>& metric_names();
// Whether `metric` is known, given the scenario's traffic names.
bool known_metric(const Scenario& s, const std::string& metric);

}  // namespace loom::sim::scenario
