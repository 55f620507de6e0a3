// The scenario runner (docs/scenarios.md). One World; per node a DataPlane,
// a Mesh, an IPAM Allocator and (when the scenario has policies) a
// FlowPolicy over the cluster's one PolicyEngine; pods as ns-3 nodes behind
// their host's bridge, addressed by IPAM; a timeline of faults; a sample of
// every metric each sample interval; expectations checked at their time.
#include "sim/scenario/runner.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include <sys/resource.h>
#include <unistd.h>

#include "model/dataplane/data_plane.h"
#include "model/dataplane/topology.h"
#include "model/ipam/allocator.h"
#include "model/ipam/invariants.h"
#include "model/ipam/peer_view.h"
#include "model/ipam/status.h"
#include "model/mesh/connection.h"
#include "model/mesh/mesh.h"
#include "model/mesh/topology_gossip.h"
#include "model/policy/flow_policy.h"
#include "model/policy/policy_engine.h"
#include "model/random.h"

namespace loom::sim::scenario {

bool RunResult::ok() const {
  if (stopped_early) return false;
  for (const ExpectationResult& e : expectations) {
    if (!e.ok) return false;
  }
  return true;
}

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
constexpr size_t kNone = static_cast<size_t>(-1);

double secs(Time t) { return std::chrono::duration<double>(t).count(); }
// Simulated seconds as they appear in results: microseconds, fixed.
double round_us(double s) { return std::round(s * 1e6) / 1e6; }

mesh::PeerName peer_name_of(size_t node) { return mesh::PeerName(0x0a0000000000ULL + node + 1); }
// The node a peer name was made for by peer_name_of (a value past the
// nodes for a name it did not make).
uint64_t node_of(mesh::PeerName name) { return name.value - peer_name_of(0).value; }

// Nearest-rank percentile of sorted values.
double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

// Resident memory now, from /proc/self/statm (0 where there is none).
uint64_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0;
  uint64_t resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

long peak_rss_kb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

// Counters summed over hosts, including hosts that have since restarted
// (a restarted host starts a fresh Metrics).
struct Totals {
  double gossip_bytes = 0;  // topology + IPAM gossip payloads
  double topology_bytes = 0;
  double control_bytes = 0;  // everything the meshes wrote on their TCP connections
  double denied = 0;         // policy verdicts "denied"
  double data_frames = 0;    // frames the data planes sent to peers
  std::array<double, dataplane::kDropReasons> dropped{};

  void add(const Metrics& m) {
    const double topology =
        m.value("weave_gossip_bytes_sent_total", {{"channel", mesh::kTopologyChannel}});
    topology_bytes += topology;
    gossip_bytes += topology + m.value("weave_gossip_bytes_sent_total",
                                       {{"channel", ipam::Allocator::kChannel}});
    control_bytes += m.value(mesh::Connection::kSentBytesMetric);
    for (const char* d : {"egress", "ingress"}) {
      denied += m.value("loom_policy_flows_total", {{"direction", d}, {"verdict", "denied"}});
    }
    for (const char* o : {"fastdp", "sleeve"}) {
      data_frames += m.value("loom_dataplane_sent_frames_total", {{"overlay", o}});
    }
    for (size_t i = 0; i < dataplane::kDropReasons; ++i) {
      dropped[i] += m.value("loom_dataplane_dropped_frames_total",
                            {{"reason", dataplane::to_string(static_cast<dataplane::Drop>(i))}});
    }
  }
  void add(const Totals& o) {
    gossip_bytes += o.gossip_bytes;
    topology_bytes += o.topology_bytes;
    control_bytes += o.control_bytes;
    denied += o.denied;
    data_frames += o.data_frames;
    for (size_t i = 0; i < dropped.size(); ++i) dropped[i] += o.dropped[i];
  }
  double dropped_total() const {
    double t = 0;
    for (double d : dropped) t += d;
    return t;
  }
};

// LOOM_DEBUG_POLICY: every verdict on stderr.
class DebugVerdict final : public dataplane::FlowVerdict {
 public:
  DebugVerdict(std::string node, dataplane::FlowVerdict& inner)
      : node_(std::move(node)), inner_(inner) {}
  bool allow(const dataplane::FlowKey& f, dataplane::FlowDirection d) override {
    const bool r = inner_.allow(f, d);
    std::fprintf(stderr, "%s %s %s:%u -> %s:%u proto %u: %s\n", node_.c_str(),
                 d == dataplane::FlowDirection::kEgress ? "egress" : "ingress",
                 f.src.to_string().c_str(), f.src_port, f.dst.to_string().c_str(), f.dst_port,
                 f.protocol, r ? "allow" : "DENY");
    return r;
  }

 private:
  std::string node_;
  dataplane::FlowVerdict& inner_;
};

class Run {
 public:
  Run(const Scenario& s, const RunOptions& o)
      : s_(s), o_(o), world_(world_options()), random_(s.seed ^ 0x5ce7a210) {}
  ~Run() {
    for (size_t i = 0; i < nodes_.size(); ++i) destroy_engines(i);
  }

  RunResult go();

 private:
  struct Node {
    size_t host = kNone;
    size_t link = kNone;  // its access link
    size_t rack = 0;
    bool exists = false;   // its host has been made
    bool running = false;  // weaver runs
    bool ever_started = false;
    std::unique_ptr<dataplane::DataPlane> plane;
    std::unique_ptr<mesh::Mesh> mesh;
    std::unique_ptr<dataplane::MeshTopology> topology;
    std::unique_ptr<ipam::MeshPeerView> view;
    std::unique_ptr<ipam::Allocator> alloc;
    std::unique_ptr<policy::FlowPolicy> flow;
    std::unique_ptr<DebugVerdict> debug_flow;
  };
  struct Pod {
    std::string group;
    std::string ns;
    std::string name;  // NAME-NODE-K
    size_t node = 0;
    std::optional<Ipv4> ip;
    size_t world_pod = kNone;
    bool deleted = false;
    bool requested = false;  // an allocation is in flight
    std::string ident() const { return ns + "/" + name; }
  };
  struct Flow {  // one app instance of a traffic entry
    size_t traffic = 0;
    size_t app = 0;
    bool ping = true;
    Time started{};
    Time interval{};
  };
  struct Sample {
    double t = 0;
    std::map<std::string, double> values;  // metrics at this time (those defined)
  };

  WorldOptions world_options() {
    WorldOptions w;
    w.seed = s_.seed;
    w.streams = s_.fidelity;
    w.log_filter = LogFilter(LogLevel::warn);
    if (auto env = log_filter_from_env(); env.ok() && std::getenv("LOOM_LOG") != nullptr)
      w.log_filter = *env;
    if (o_.log_sink) {
      w.log_sink = o_.log_sink;
    } else if (o_.quiet) {
      w.log_sink = [](std::string_view) {};
    }
    return w;
  }

  // --- building
  void build_underlay();
  size_t add_node_host(size_t node);
  void start_node(size_t i);
  void make_engines(size_t i);
  void destroy_engines(size_t i);
  void connect_targets(size_t i);
  void kill(size_t i);
  void restart(size_t i, bool keep_store);

  // --- pods
  void create_group(const PodGroup& g);
  void request_addresses(size_t node);
  void request(size_t pod);
  void delete_group(const std::string& group);
  void start_traffic(size_t t);

  // --- timeline
  void apply(const Event& e);
  void flush_flows();
  void set_partition(const std::vector<std::vector<size_t>>& groups);

  // --- measuring
  bool converged();
  double topology_agreement();
  std::map<std::string, double> metrics_now();
  void sample();
  void note(json event);
  ExpectationResult check(const Expectation& x, const std::map<std::string, double>& values) const;
  Totals totals() const;
  std::vector<std::vector<size_t>> reach_groups() const;
  size_t ipam_violations();
  void progress(bool final);
  json traffic_json(size_t t) const;
  void traffic_stats(size_t t, double& sent, double& delivered, std::vector<double>& rtts_us,
                     double& bytes, std::optional<double>& completed) const;

  const Scenario& s_;
  const RunOptions& o_;
  World world_;
  Random random_;
  std::vector<Node> nodes_;
  std::vector<size_t> racks_;  // ToR host per rack
  size_t hub_ = kNone;         // lan switch, or the racks' core
  std::vector<Pod> pods_;
  std::vector<Flow> flows_;
  std::vector<std::vector<size_t>> flows_of_traffic_;
  std::vector<size_t> skipped_of_traffic_;
  std::unique_ptr<policy::PolicyEngine> policies_;
  std::vector<std::vector<size_t>> partition_;  // current groups; empty: none
  std::set<size_t> links_down_;                 // nodes whose access link is down
  Totals retired_;                              // metrics of hosts that died
  std::optional<double> converged_at_;          // first time converged (never reset)
  bool converged_now_ = false;
  std::vector<std::string> timeseries_;
  std::vector<json> events_;
  std::vector<ExpectationResult> timed_results_;
  Clock::time_point wall_start_ = Clock::now();
  Clock::time_point last_progress_ = Clock::now();
  Clock::time_point last_progress_line_ = Clock::now();
  size_t ring_disagreements_ = 0;
  bool stopped_early_ = false;
  std::string stopped_by_;
  Clock::time_point rss_checked_{};
  bool limits_set() const { return o_.max_wall_seconds > 0 || o_.max_rss_bytes > 0; }
  // True once a RunOptions limit is passed (then stays true). Looks at the
  // memory at most once a wall second.
  bool past_a_limit() {
    if (stopped_early_) return true;
    if (!limits_set()) return false;
    const Clock::time_point now = Clock::now();
    const char* reason = nullptr;  // as events.jsonl spells it
    if (o_.max_wall_seconds > 0 &&
        std::chrono::duration<double>(now - wall_start_).count() > o_.max_wall_seconds) {
      stopped_by_ = "--max-wall-seconds";
      reason = "max_wall_seconds";
    } else if (o_.max_rss_bytes > 0 && now - rss_checked_ >= std::chrono::seconds(1)) {
      rss_checked_ = now;
      if (rss_bytes() > o_.max_rss_bytes) {
        stopped_by_ = "--max-memory-gb";
        reason = "max_memory_gb";
      }
    }
    if (reason == nullptr) return false;
    stopped_early_ = true;
    note({{"event", "stopped"}, {"reason", reason}});
    return true;
  }
  // Runs the world to t, looking at the limits and the progress lines
  // between slices of virtual time sized to take about 10-100 wall ms each
  // (1 ms to 1 s virtual: a virtual second of a thousand hosts can take
  // minutes and gigabytes, one of a quiet scenario microseconds). False
  // when a limit stopped it first.
  bool run_to(Time t) {
    if (!limits_set() && !o_.progress && o_.progress_seconds <= 0) {
      world_.run_until(t);
      return true;
    }
    // The slices end exactly at t: the events run in the same order as in
    // one call.
    do {
      if (past_a_limit()) return false;
      const Clock::time_point began = Clock::now();
      world_.run_until(std::min(t, world_.now() + slice_));
      progress(false);
      const auto took = Clock::now() - began;
      if (took < std::chrono::milliseconds(10)) {
        slice_ = std::min<Time>(slice_ * 2, std::chrono::seconds(1));
      } else if (took > std::chrono::milliseconds(100)) {
        slice_ = std::max<Time>(slice_ / 2, std::chrono::milliseconds(1));
      }
    } while (world_.now() < t);
    return true;
  }
  Time slice_ = std::chrono::milliseconds(1);
};

// --- building -------------------------------------------------------------

void Run::build_underlay() {
  const Underlay& u = s_.underlay;
  nodes_.resize(s_.nodes.size());
  try {
    if (u.kind == Underlay::Kind::graph) {
      std::map<std::string, size_t> index;
      for (const std::string& r : u.routers) index[r] = world_.add_host(r);
      for (size_t i = 0; i < u.host_names.size(); ++i) {
        nodes_[i].host = world_.add_host(node_name(i));
        nodes_[i].exists = true;
        index[u.host_names[i]] = nodes_[i].host;
      }
      for (const Underlay::GraphLink& l : u.links) {
        const size_t link = world_.link(index.at(l.a), index.at(l.b), l.spec);
        for (size_t i = 0; i < u.host_names.size(); ++i) {
          const bool touches = u.host_names[i] == l.a || u.host_names[i] == l.b;
          if (touches && nodes_[i].link == kNone) nodes_[i].link = link;
        }
      }
      for (size_t i = 0; i < u.host_names.size(); ++i) {
        if (nodes_[i].link == kNone) {
          throw BadInput(s_.file + ": /underlay/file: host '" + u.host_names[i] + "' has no link");
        }
      }
    } else {
      hub_ = world_.add_host(u.kind == Underlay::Kind::lan ? "switch" : "core");
      for (size_t i = 0; i < u.hosts; ++i) add_node_host(i);
    }
  } catch (const std::invalid_argument& e) {
    throw BadInput(s_.file + ": /underlay: " + e.what());
  }
  world_.finalize_routes();
}

// Racks fill in order: node i is in rack i / rack_size.
size_t Run::add_node_host(size_t i) {
  const Underlay& u = s_.underlay;
  Node& n = nodes_.at(i);
  n.host = world_.add_host(node_name(i));
  if (u.kind == Underlay::Kind::lan) {
    n.link = world_.link(hub_, n.host, u.host_link);
  } else {
    n.rack = i / u.rack_size;
    while (racks_.size() <= n.rack) {
      std::string name = "tor";
      name += std::to_string(racks_.size());
      const size_t tor = world_.add_host(name);
      world_.link(hub_, tor, u.uplink);
      racks_.push_back(tor);
    }
    n.link = world_.link(racks_[n.rack], n.host, u.host_link);
  }
  n.exists = true;
  return n.host;
}

void Run::make_engines(size_t i) {
  Node& n = nodes_[i];
  const WeaveSettings& w = s_.nodes[i];
  Host& h = world_.host(n.host);
  n.plane = std::make_unique<dataplane::DataPlane>(h, w.dataplane, &h.bridge());
  n.mesh = std::make_unique<mesh::Mesh>(
      h, w.mesh, mesh::MeshIdentity{peer_name_of(i), node_name(i), std::nullopt}, w.password,
      *n.plane);
  n.topology = std::make_unique<dataplane::MeshTopology>(*n.mesh);
  n.plane->attach(*n.topology);
  if (policies_) {
    n.flow = std::make_unique<policy::FlowPolicy>(h, *policies_);
    if (std::getenv("LOOM_DEBUG_POLICY") != nullptr) {
      n.debug_flow = std::make_unique<DebugVerdict>(node_name(i), *n.flow);
      n.plane->set_flow_verdict(n.debug_flow.get());
    } else {
      n.plane->set_flow_verdict(n.flow.get());
    }
  }
  if (auto ok = n.plane->start(); !ok.ok())
    throw std::runtime_error(node_name(i) + ": data plane: " + ok.error().message);
  if (auto ok = n.mesh->start(); !ok.ok())
    throw std::runtime_error(node_name(i) + ": mesh: " + ok.error().message);

  ipam::AllocatorConfig c;
  c.name = peer_name_of(i);
  c.uid = n.mesh->uid();
  c.nickname = node_name(i);
  c.universe = *ipam::parse_allocation_range(w.ipalloc_range);
  c.tick = w.ipam_tick;
  switch (w.ipalloc_init.kind) {
    case IpamInit::Kind::consensus:
      c.init.kind = ipam::InitMode::Kind::consensus;
      // kube-peers' count, as Weave's launch script passes it.
      c.init.peer_count =
          w.ipalloc_init.peer_count.value_or(static_cast<unsigned>(s_.underlay.hosts));
      break;
    case IpamInit::Kind::seed:
      c.init.kind = ipam::InitMode::Kind::seed;
      for (size_t k : w.ipalloc_init.seed) c.init.seed.push_back(peer_name_of(k));
      break;
    case IpamInit::Kind::observer:
      c.init.kind = ipam::InitMode::Kind::observer;
      break;
  }
  n.view = std::make_unique<ipam::MeshPeerView>(*n.mesh);
  n.alloc = std::make_unique<ipam::Allocator>(h, c, *n.view);
  n.alloc->set_gossip(n.mesh->register_channel(ipam::Allocator::kChannel, *n.alloc));
  if (auto ok = n.alloc->start(); !ok.ok())
    throw std::runtime_error(node_name(i) + ": ipam: " + ok.error().message);
  n.running = true;
}

void Run::destroy_engines(size_t i) {
  Node& n = nodes_[i];
  n.alloc.reset();
  n.view.reset();
  n.mesh.reset();
  n.topology.reset();
  if (n.plane) n.plane->set_flow_verdict(nullptr);
  n.debug_flow.reset();
  n.flow.reset();
  n.plane.reset();
  n.running = false;
}

void Run::connect_targets(size_t i) {
  const WeaveSettings& w = s_.nodes[i];
  std::vector<std::string> targets;
  auto add = [&](size_t j) {
    if (j != i && nodes_[j].exists)
      targets.push_back(world_.host_address(nodes_[j].host).to_string());
  };
  switch (w.targets) {
    case WeaveSettings::Targets::all:
      for (size_t j = 0; j < nodes_.size(); ++j) add(j);
      break;
    case WeaveSettings::Targets::none:
      break;
    case WeaveSettings::Targets::rack:
      for (size_t j = 0; j < nodes_.size(); ++j) {
        if (nodes_[j].rack == nodes_[i].rack) add(j);
      }
      break;
    case WeaveSettings::Targets::list:
      for (size_t j : w.target_nodes) add(j);
      break;
  }
  nodes_[i].mesh->connect(targets);
}

void Run::start_node(size_t i) {
  make_engines(i);
  nodes_[i].ever_started = true;
  connect_targets(i);
  note({{"event", "start"}, {"node", node_name(i)}});
  request_addresses(i);
}

void Run::kill(size_t i) {
  Node& n = nodes_[i];
  if (!n.running) return;
  Totals t;
  t.add(world_.host(n.host).metrics());
  retired_.add(t);
  destroy_engines(i);
  world_.stop_host(n.host);
  for (Pod& p : pods_) {
    if (p.node == i) p.requested = false;  // its allocation died with weaver
  }
}

void Run::restart(size_t i, bool keep_store) {
  Node& n = nodes_[i];
  if (n.running || !n.ever_started) return;
  world_.start_host(n.host, keep_store);
  start_node(i);
}

// --- pods -----------------------------------------------------------------

void Run::create_group(const PodGroup& g) {
  for (size_t node : g.nodes) {
    for (size_t k = 0; k < g.per_node; ++k) {
      Pod p;
      p.group = g.name;
      p.ns = g.namespace_name;
      std::ostringstream name;
      name << g.name << "-" << node_name(node) << "-" << k;
      p.name = name.str();
      p.node = node;
      pods_.push_back(p);
    }
  }
  for (size_t node : g.nodes) request_addresses(node);
}

void Run::request_addresses(size_t node) {
  if (node >= nodes_.size() || !nodes_[node].running) return;
  for (size_t p = 0; p < pods_.size(); ++p) {
    if (pods_[p].node == node && !pods_[p].deleted && !pods_[p].ip && !pods_[p].requested)
      request(p);
  }
}

void Run::request(size_t index) {
  Pod& p = pods_[index];
  p.requested = true;
  nodes_[p.node].alloc->allocate(p.ident(), [this, index](Result<ipam::Address> r) {
    Pod& pod = pods_[index];
    pod.requested = false;
    if (pod.deleted) return;
    if (!r.ok()) {
      note({{"event", "allocate_failed"},
            {"pod", pod.ident()},
            {"node", node_name(pod.node)},
            {"reason", r.error().message}});
      return;
    }
    pod.ip = Ipv4(static_cast<uint32_t>(*r));
    if (pod.world_pod == kNone) {
      const uint8_t prefix =
          static_cast<uint8_t>(nodes_[pod.node].alloc->config().universe.prefix_len);
      pod.world_pod = world_.add_pod(nodes_[pod.node].host, *pod.ip, prefix);
    }
    if (policies_) {
      policy::Pod entry;
      entry.namespace_name = pod.ns;
      entry.name = pod.name;
      const PodGroup* g = s_.pod_group(pod.group);
      for (const auto& [k, v] : g->labels) entry.labels[k] = v;
      entry.ip = *pod.ip;
      entry.node = node_name(pod.node);
      for (const PodPort& port : g->ports) {
        policy::ContainerPort cp;
        cp.name = port.name;
        cp.port = port.port;
        cp.protocol = port.protocol == "UDP"    ? policy::Protocol::kUdp
                      : port.protocol == "SCTP" ? policy::Protocol::kSctp
                                                : policy::Protocol::kTcp;
        entry.ports.push_back(cp);
      }
      if (auto ok = policies_->set_pod(entry); !ok.ok()) {
        note({{"event", "policy_pod_refused"},
              {"pod", pod.ident()},
              {"reason", ok.error().message}});
      }
    }
  });
}

void Run::delete_group(const std::string& group) {
  for (Pod& p : pods_) {
    if (p.group != group || p.deleted) continue;
    p.deleted = true;
    if (p.world_pod != kNone) world_.detach_pod(p.world_pod);
    if (policies_) policies_->remove_pod(p.ident());
    Node& n = nodes_[p.node];
    if (n.running && p.ip) (void)n.alloc->release(p.ident());
  }
}

void Run::start_traffic(size_t t) {
  const Traffic& tr = s_.traffic[t];
  std::vector<size_t> from, to;
  for (size_t p = 0; p < pods_.size(); ++p) {
    const Pod& pod = pods_[p];
    if (pod.deleted) continue;
    if (pod.group == tr.from) from.push_back(p);
    if (pod.group == tr.to) to.push_back(p);
  }
  // Seeded choice of pairs: the sources in a random order, each to a random
  // destination pod on another node.
  for (size_t k = from.size(); k > 1; --k) std::swap(from[k - 1], from[random_.below(k)]);
  size_t made = 0;
  for (size_t p : from) {
    if (tr.pairs && made >= *tr.pairs) break;
    std::vector<size_t> candidates;
    for (size_t q : to) {
      if (pods_[q].node != pods_[p].node) candidates.push_back(q);
    }
    if (candidates.empty()) continue;
    const size_t q = candidates[random_.below(candidates.size())];
    ++made;
    if (!pods_[p].ip || !pods_[q].ip) {
      ++skipped_of_traffic_[t];  // a pod without an address cannot send or be reached
      continue;
    }
    Flow f;
    f.traffic = t;
    f.started = world_.now();
    f.interval = tr.interval;
    const size_t src = pods_[p].world_pod;
    const Ipv4 dst = *pods_[q].ip;
    switch (tr.kind) {
      case Traffic::Kind::ping:
        f.app = world_.ping(src, dst, tr.count, tr.interval);
        break;
      case Traffic::Kind::udp_echo:  // counted as pings are
        f.app = world_.udp_echo(src, dst, tr.count, tr.interval, tr.payload_bytes);
        break;
      case Traffic::Kind::onoff:
        f.ping = false;
        f.app = world_.onoff(src, dst, tr.port, tr.rate, tr.payload_bytes, tr.duration);
        break;
      case Traffic::Kind::bulk_tcp:
        f.ping = false;
        f.app = world_.bulk_tcp(src, dst, tr.port, tr.bytes);
        break;
    }
    flows_of_traffic_[t].push_back(flows_.size());
    flows_.push_back(f);
  }
  note({{"event", "traffic"},
        {"name", tr.name},
        {"flows", flows_of_traffic_[t].size()},
        {"skipped_unaddressed", skipped_of_traffic_[t]}});
}

// --- timeline -------------------------------------------------------------

void Run::flush_flows() {
  for (Node& n : nodes_) {
    if (n.running) n.plane->invalidate_routes();
  }
}

void Run::set_partition(const std::vector<std::vector<size_t>>& groups) {
  partition_ = groups;
  if (groups.empty()) {
    world_.set_partition({});
    return;
  }
  std::vector<uint32_t> of_host(world_.host_count(), 0);
  // Nodes named in no group form one more group; routers are group 0, which
  // the partition never applies to (they only forward).
  const uint32_t rest = static_cast<uint32_t>(groups.size()) + 1;
  for (const Node& n : nodes_) {
    if (n.exists) of_host[n.host] = rest;
  }
  for (size_t g = 0; g < groups.size(); ++g) {
    for (size_t i : groups[g]) {
      if (nodes_[i].exists) of_host[nodes_[i].host] = static_cast<uint32_t>(g + 1);
    }
  }
  world_.set_partition(of_host);
}

void Run::apply(const Event& e) {
  json record = {{"event", e.where}};
  using K = Event::Kind;
  // Nodes an event names may not have been added yet ("all" names them
  // too): those are left out, and listed.
  std::vector<size_t> present;
  std::vector<std::string> names, absent;
  for (size_t i : e.nodes) {
    if (e.kind == Event::Kind::add_nodes || nodes_[i].exists) {
      present.push_back(i);
      names.push_back(node_name(i));
    } else {
      absent.push_back(node_name(i));
    }
  }
  switch (e.kind) {
    case K::partition: {
      set_partition(e.groups);
      json groups = json::array();
      for (const auto& g : e.groups) {
        json members = json::array();
        for (size_t i : g) members.push_back(node_name(i));
        groups.push_back(members);
      }
      record = {{"event", "partition"}, {"groups", groups}};
      break;
    }
    case K::heal:
      set_partition({});
      record = {{"event", "heal"}};
      break;
    case K::kill:
      for (size_t i : present) kill(i);
      record = {{"event", "kill"}, {"nodes", names}};
      break;
    case K::restart:
      for (size_t i : present) restart(i, e.keep_store);
      record = {{"event", "restart"}, {"nodes", names}, {"store", e.keep_store ? "keep" : "wipe"}};
      break;
    case K::rmpeer: {
      std::string result = "not running";
      if (nodes_[e.on].running) result = nodes_[e.on].alloc->rmpeer(node_name(e.peer));
      while (!result.empty() && (result.back() == '\n' || result.back() == ' ')) result.pop_back();
      record = {{"event", "rmpeer"},
                {"on", node_name(e.on)},
                {"peer", node_name(e.peer)},
                {"result", result}};
      break;
    }
    case K::add_nodes:
      for (size_t i : e.nodes) {
        try {
          add_node_host(i);
        } catch (const std::invalid_argument& x) {
          throw BadInput(s_.file + ": " + e.where + ": " + x.what());
        }
      }
      world_.finalize_routes();
      if (!partition_.empty()) set_partition(partition_);  // the new hosts join the rest
      for (size_t i : e.nodes) {
        if (policies_) policies_->set_node(node_name(i), world_.host_address(nodes_[i].host));
        start_node(i);
      }
      record = {{"event", "add_nodes"}, {"nodes", names}};
      break;
    case K::set_loss:
      for (size_t i : present) world_.set_link_loss(nodes_[i].link, e.loss);
      record = {{"event", "set_loss"}, {"nodes", names}, {"loss", e.loss}};
      break;
    case K::link_down:
    case K::link_up: {
      const bool up = e.kind == K::link_up;
      for (size_t i : present) {
        world_.set_link_up(nodes_[i].link, up);
        if (up) {
          links_down_.erase(i);
        } else {
          links_down_.insert(i);
        }
      }
      record = {{"event", up ? "link_up" : "link_down"}, {"nodes", names}};
      break;
    }
    case K::create_pods: {
      const PodGroup* g = s_.pod_group(e.pod_group);
      create_group(*g);
      record = {
          {"event", "create_pods"}, {"group", g->name}, {"pods", g->nodes.size() * g->per_node}};
      break;
    }
    case K::delete_pods:
      delete_group(e.pod_group);
      record = {{"event", "delete_pods"}, {"group", e.pod_group}};
      break;
    case K::apply_policy: {
      json applied = json::array();
      for (const policy::NetworkPolicy& p : e.policies) {
        policies_->set_policy(p);
        applied.push_back(p.namespace_name + "/" + p.name);
      }
      flush_flows();
      record = {{"event", "apply_policy"}, {"file", e.file}, {"policies", applied}};
      break;
    }
    case K::delete_policy: {
      const bool found = policies_->remove_policy(e.policy);
      flush_flows();
      record = {{"event", "delete_policy"}, {"policy", e.policy}, {"found", found}};
      break;
    }
  }
  if (!absent.empty()) record["not_yet_added"] = absent;
  note(record);
}

// --- measuring ------------------------------------------------------------

void Run::note(json event) {
  json line = {{"t_s", round_us(secs(world_.now()))}};
  line.update(event);
  events_.push_back(std::move(line));
}

// Every running peer knows exactly the running peers, all hold the same
// topology (same version and UID of every peer), every connection in it is
// established, and every running peer has a unicast route to every other.
bool Run::converged() {
  std::vector<size_t> running;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].running) running.push_back(i);
  }
  if (running.empty()) return false;
  std::optional<uint64_t> digest;
  for (size_t i : running) {
    const mesh::Peers& peers = nodes_[i].mesh->peers();
    if (peers.size() != running.size()) return false;
    const uint64_t h = peers.digest();  // kept current by every change
    if (!digest) digest = h;
    if (*digest != h) return false;
  }
  for (const mesh::Peer& p : nodes_[running.front()].mesh->peers().all()) {
    for (const mesh::PeerConnection& c : p.connections) {
      if (!c.established) return false;
    }
  }
  for (size_t i : running) {
    mesh::Routes& routes = nodes_[i].mesh->routes();
    for (size_t j : running) {
      if (i != j && !routes.unicast(peer_name_of(j))) return false;
    }
  }
  return true;
}

// The share of running peers whose topology is the most common one.
double Run::topology_agreement() {
  std::map<uint64_t, size_t> count;
  size_t running = 0;
  for (const Node& n : nodes_) {
    if (!n.running) continue;
    ++running;
    ++count[n.mesh->peers().digest()];
  }
  size_t best = 0;
  for (const auto& [h, c] : count) best = std::max(best, c);
  return running == 0 ? 0 : static_cast<double>(best) / static_cast<double>(running);
}

Totals Run::totals() const {
  Totals t = retired_;
  for (const Node& n : nodes_) {
    if (n.running) t.add(const_cast<World&>(world_).host(n.host).metrics());
  }
  return t;
}

void Run::traffic_stats(size_t t, double& sent, double& delivered, std::vector<double>& rtts_us,
                        double& bytes, std::optional<double>& completed) const {
  for (size_t f : flows_of_traffic_[t]) {
    const Flow& flow = flows_[f];
    if (flow.ping) {
      const PingStats& st = world_.ping_stats(flow.app);
      // V4Ping sends one echo per interval from its start.
      const auto elapsed = world_.now() - flow.started;
      sent += static_cast<double>(std::min<int64_t>(st.sent, elapsed / flow.interval + 1));
      if (std::getenv("LOOM_DEBUG_RTT")) {
        for (Time rtt : st.rtts) std::fprintf(stderr, "%.3f ", secs(rtt) * 1e3);
        std::fprintf(stderr, "\n");
      }
      delivered += static_cast<double>(st.rtts.size());
      for (Time rtt : st.rtts)
        rtts_us.push_back(std::chrono::duration<double, std::micro>(rtt).count());
    } else {
      const AppStats st = world_.app_stats(flow.app);
      sent += static_cast<double>(st.packets_sent);
      delivered += static_cast<double>(st.packets_received);
      bytes += static_cast<double>(st.bytes_received);
      if (st.last_byte_at) {
        const double at = secs(*st.last_byte_at);
        completed = completed ? std::max(*completed, at) : at;
      }
    }
  }
}

// Running peers that can reach each other over the underlay.
std::vector<std::vector<size_t>> Run::reach_groups() const {
  std::map<size_t, std::vector<size_t>> by_group;
  std::vector<std::vector<size_t>> out;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (!nodes_[i].running) continue;
    if (links_down_.count(i) != 0) {
      out.push_back({i});
      continue;
    }
    size_t group = 0;
    for (size_t g = 0; g < partition_.size(); ++g) {
      if (std::find(partition_[g].begin(), partition_[g].end(), i) != partition_[g].end())
        group = g + 1;
    }
    by_group[group].push_back(i);
  }
  for (auto& [g, members] : by_group) out.push_back(members);
  return out;
}

size_t Run::ipam_violations() {
  ipam::InvariantInput in;
  for (const Node& n : nodes_) {
    if (n.running) in.peers.push_back(n.alloc->snapshot());
  }
  for (const auto& g : reach_groups()) {
    std::vector<mesh::PeerName> names;
    for (size_t i : g) names.push_back(peer_name_of(i));
    in.groups.push_back(names);
  }
  for (const Pod& p : pods_) {
    if (!p.deleted && p.ip && nodes_[p.node].running) {
      in.workloads.push_back(ipam::Workload{peer_name_of(p.node), p.ident(), p.ip->value});
    }
  }
  const ipam::InvariantReport report = ipam::check_invariants(in);
  if (!report.ok()) note({{"event", "ipam_invariants"}, {"report", report.summary()}});
  ring_disagreements_ = report.ring_disagreements;
  // Safety only: rings of one group may differ for a while (free counts
  // travel with the periodic gossip) without anything being wrong.
  return static_cast<size_t>(report.duplicate_owned_addresses +
                             report.duplicate_allocated_addresses + report.allocated_outside_owned +
                             report.invalid_rings);
}

std::map<std::string, double> Run::metrics_now() {
  std::map<std::string, double> m;
  size_t running = 0, connections = 0;
  // Groups: running peers joined by mesh connections that both ends hold
  // (a dialler adds a connection before the far end refuses it), found by
  // union-find; peer names map back to node indices.
  std::vector<std::vector<mesh::PeerName>> peers_of(nodes_.size());
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (!nodes_[i].running) continue;
    ++running;
    peers_of[i] = nodes_[i].mesh->connected_peers();
    std::sort(peers_of[i].begin(), peers_of[i].end());
    connections += peers_of[i].size();
  }
  std::vector<size_t> parent(nodes_.size());
  for (size_t i = 0; i < parent.size(); ++i) parent[i] = i;
  auto root = [&](size_t i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
  };
  for (size_t i = 0; i < nodes_.size(); ++i) {
    for (mesh::PeerName p : peers_of[i]) {
      const uint64_t j = node_of(p);
      if (j < nodes_.size() &&
          std::binary_search(peers_of[j].begin(), peers_of[j].end(), peer_name_of(i))) {
        parent[root(i)] = root(static_cast<size_t>(j));
      }
    }
  }
  size_t groups = 0;
  for (size_t i = 0; i < nodes_.size(); ++i) groups += nodes_[i].running && root(i) == i ? 1 : 0;
  m["mesh.converged"] = converged_now_ ? 1 : 0;
  if (converged_at_) m["mesh.converged_at_s"] = *converged_at_;
  m["mesh.topology_agreement"] = topology_agreement();
  m["mesh.connections"] = static_cast<double>(connections / 2);
  m["mesh.groups"] = static_cast<double>(groups);
  m["mesh.peers_running"] = static_cast<double>(running);
  const Totals t = totals();
  m["mesh.gossip_bytes"] = t.gossip_bytes;

  size_t allocated = 0, pending = 0;
  std::map<uint32_t, size_t> holders;
  for (const Pod& p : pods_) {
    if (p.deleted) continue;
    if (p.ip) {
      ++allocated;
      ++holders[p.ip->value];
    } else {
      ++pending;
    }
  }
  size_t duplicates = 0;
  for (const auto& [ip, c] : holders) duplicates += c > 1 ? c - 1 : 0;
  m["ipam.allocated"] = static_cast<double>(allocated);
  m["ipam.pending"] = static_cast<double>(pending);
  m["ipam.duplicates"] = static_cast<double>(duplicates);
  double unreachable = 0;
  for (const Node& n : nodes_) {
    if (n.running)
      unreachable = std::max(unreachable, ipam::unreachable_percentage(n.alloc->status()));
  }
  m["ipam.unreachable_owned_pct"] = unreachable;

  double sent = 0, delivered = 0, bytes = 0;
  std::vector<double> rtts;
  for (size_t tr = 0; tr < s_.traffic.size(); ++tr) {
    double ts = 0, td = 0, tb = 0;
    std::vector<double> trtts;
    std::optional<double> completed;
    traffic_stats(tr, ts, td, trtts, tb, completed);
    const std::string prefix = "traffic." + s_.traffic[tr].name + ".";
    m[prefix + "sent"] = ts;
    m[prefix + "delivered"] = td;
    if (ts > 0) m[prefix + "delivery_ratio"] = td / ts;
    m[prefix + "bytes_delivered"] = tb;
    if (completed) m[prefix + "completed_at_s"] = round_us(*completed);
    std::sort(trtts.begin(), trtts.end());
    if (!trtts.empty()) {
      m[prefix + "latency_us.p50"] = std::round(percentile(trtts, 50));
      m[prefix + "latency_us.p99"] = std::round(percentile(trtts, 99));
    }
    sent += ts;
    delivered += td;
    bytes += tb;
    rtts.insert(rtts.end(), trtts.begin(), trtts.end());
  }
  m["dataplane.sent"] = sent;
  m["dataplane.delivered"] = delivered;
  if (sent > 0) m["dataplane.delivery_ratio"] = delivered / sent;
  std::sort(rtts.begin(), rtts.end());
  if (!rtts.empty()) {
    m["dataplane.latency_us.p50"] = std::round(percentile(rtts, 50));
    m["dataplane.latency_us.p99"] = std::round(percentile(rtts, 99));
  }
  m["dataplane.dropped"] = t.dropped_total();
  for (size_t i = 0; i < dataplane::kDropReasons; ++i) {
    m[std::string("dataplane.dropped.") + dataplane::to_string(static_cast<dataplane::Drop>(i))] =
        t.dropped[i];
  }
  m["policy.denied"] = t.denied;
  m["internal.data_frames"] = t.data_frames;
  m["internal.control_bytes"] = t.control_bytes;
  m["internal.topology_bytes"] = t.topology_bytes;
  return m;
}

std::string csv_number(double v) {
  std::ostringstream out;
  out << std::setprecision(10) << v;
  return out.str();
}

const std::vector<std::string>& csv_columns() {
  static const std::vector<std::string> columns = [] {
    std::vector<std::string> c{"t_s",
                               "nodes_running",
                               "connections",
                               "topology_agreement",
                               "converged",
                               "gossip_bytes",
                               "control_bytes",
                               "ipam_allocated",
                               "ipam_pending",
                               "ipam_duplicates",
                               "ipam_unreachable_owned_pct",
                               "packets_sent",
                               "packets_delivered",
                               "data_frames",
                               "dropped"};
    for (size_t i = 0; i < dataplane::kDropReasons; ++i) {
      c.push_back(std::string("dropped_") + dataplane::to_string(static_cast<dataplane::Drop>(i)));
    }
    c.push_back("policy_denied");
    c.push_back("mesh_groups");
    return c;
  }();
  return columns;
}

void Run::sample() {
  converged_now_ = converged();
  if (converged_now_ && !converged_at_) {
    converged_at_ = round_us(secs(world_.now()));
    note({{"event", "converged"}});
  }
  const auto m = metrics_now();
  auto get = [&](const std::string& k) {
    auto it = m.find(k);
    return it == m.end() ? 0.0 : it->second;
  };
  std::ostringstream row;
  row << csv_number(round_us(secs(world_.now()))) << "," << get("mesh.peers_running") << ","
      << get("mesh.connections") << "," << csv_number(get("mesh.topology_agreement")) << ","
      << get("mesh.converged") << "," << csv_number(get("mesh.gossip_bytes")) << ","
      << csv_number(get("internal.control_bytes")) << "," << get("ipam.allocated") << ","
      << get("ipam.pending") << "," << get("ipam.duplicates") << ","
      << csv_number(get("ipam.unreachable_owned_pct")) << "," << csv_number(get("dataplane.sent"))
      << "," << csv_number(get("dataplane.delivered")) << ","
      << csv_number(get("internal.data_frames")) << "," << csv_number(get("dataplane.dropped"));
  for (size_t i = 0; i < dataplane::kDropReasons; ++i) {
    row << ","
        << csv_number(get(std::string("dataplane.dropped.") +
                          dataplane::to_string(static_cast<dataplane::Drop>(i))));
  }
  row << "," << csv_number(get("policy.denied")) << "," << get("mesh.groups");
  timeseries_.push_back(row.str());
}

ExpectationResult Run::check(const Expectation& x,
                             const std::map<std::string, double>& values) const {
  ExpectationResult r;
  r.name = x.name;
  r.metric = x.metric;
  if (x.at) r.at_s = round_us(secs(*x.at));
  r.min = x.min;
  r.max = x.max;
  auto it = values.find(x.metric);
  if (it != values.end()) r.value = it->second;
  r.ok = r.value.has_value() && (!x.min || *r.value >= *x.min) && (!x.max || *r.value <= *x.max);
  return r;
}

void Run::progress(bool final) {
  if (!o_.progress && o_.progress_seconds <= 0) return;
  const auto now = Clock::now();
  const bool line_due =
      o_.progress_seconds > 0 &&
      (final ||
       std::chrono::duration<double>(now - last_progress_line_).count() >= o_.progress_seconds);
  const bool terminal_due =
      o_.progress && (final || now - last_progress_ >= std::chrono::milliseconds(500));
  if (!line_due && !terminal_due) return;
  const double elapsed = std::chrono::duration<double>(now - wall_start_).count();
  const double t = secs(world_.now());
  const double total = secs(s_.duration);
  const double rate = elapsed > 0 ? static_cast<double>(world_.events_executed()) / elapsed : 0;
  const double eta = t > 0 ? elapsed * (total - t) / t : 0;
  char text[256];
  std::snprintf(text, sizeof text,
                "%s: %.1f / %.0f s simulated, %.0f events/s, %.0f s elapsed, ETA %.0f s",
                s_.name.c_str(), t, total, rate, elapsed, eta);
  if (terminal_due) {
    last_progress_ = now;
    std::fprintf(stderr, "\r%s   %s", text, final ? "\n" : "");
  }
  if (line_due) {
    last_progress_line_ = now;
    std::fprintf(stderr, "%s, %.2f GB resident\n", text, static_cast<double>(rss_bytes()) / 1e9);
  }
  std::fflush(stderr);
}

json number_or_null(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

RunResult Run::go() {
  build_underlay();
  if (s_.uses_policy) {
    policies_ = std::make_unique<policy::PolicyEngine>();
    for (const auto& [ns, labels] : s_.namespaces) {
      policy::LabelMap l;
      for (const auto& [k, v] : labels) l[k] = v;
      policies_->set_namespace(ns, l);
    }
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i].exists) policies_->set_node(node_name(i), world_.host_address(nodes_[i].host));
    }
  }
  if (!o_.out_dir.empty()) {
    for (size_t n : o_.pcap_nodes) {
      if (n >= nodes_.size() || !nodes_[n].exists)
        throw BadInput("--pcap: no node " + node_name(n) + " at the start");
      std::filesystem::create_directories(std::filesystem::path(o_.out_dir) / "pcap");
      world_.enable_pcap(nodes_[n].host,
                         (std::filesystem::path(o_.out_dir) / "pcap" / node_name(n)).string());
    }
  }
  flows_of_traffic_.assign(s_.traffic.size(), {});
  skipped_of_traffic_.assign(s_.traffic.size(), 0);

  // What happens when, in one ordered list: node starts, pod groups,
  // traffic, events, samples, timed expectations. Ties: that order.
  struct Step {
    Time at;
    int order;
    size_t index;
  };
  std::vector<Step> steps;
  for (size_t i = 0; i < s_.underlay.hosts; ++i) {
    const Time spread = s_.start_spread.count() > 0
                            ? Time(static_cast<Time::rep>(
                                  random_.unit() * static_cast<double>(s_.start_spread.count())))
                            : Time{};
    steps.push_back({s_.nodes[i].start_at + spread, 0, i});
  }
  for (size_t t = 0; t < s_.traffic.size(); ++t) steps.push_back({s_.traffic[t].start, 2, t});
  for (size_t e = 0; e < s_.events.size(); ++e) steps.push_back({s_.events[e].at, 1, e});
  for (size_t x = 0; x < s_.expectations.size(); ++x) {
    if (s_.expectations[x].at) steps.push_back({*s_.expectations[x].at, 4, x});
  }
  for (Time t = s_.sample_interval; t <= s_.duration; t += s_.sample_interval)
    steps.push_back({t, 3, 0});
  std::stable_sort(steps.begin(), steps.end(), [](const Step& a, const Step& b) {
    return a.at != b.at ? a.at < b.at : a.order < b.order;
  });
  // Pod groups given at the top level exist from the start; their
  // addresses are asked for when each node's weaver starts.
  for (const std::string& g : s_.initial_pod_groups) {
    const PodGroup* group = s_.pod_group(g);
    create_group(*group);
  }

  std::vector<ExpectationResult> timed(s_.expectations.size());
  for (const Step& step : steps) {
    if (step.at > s_.duration) break;
    if (!run_to(step.at)) break;
    switch (step.order) {
      case 0:
        start_node(step.index);
        break;
      case 1:
        apply(s_.events[step.index]);
        break;
      case 2:
        start_traffic(step.index);
        break;
      case 3:
        sample();
        break;
      case 4: {
        converged_now_ = converged();
        if (converged_now_ && !converged_at_) converged_at_ = round_us(secs(world_.now()));
        auto values = metrics_now();
        const std::string& metric = s_.expectations[step.index].metric;
        if (metric == "ipam.invariant_violations" || metric == "ipam.ring_disagreements") {
          values["ipam.invariant_violations"] = static_cast<double>(ipam_violations());
          values["ipam.ring_disagreements"] = static_cast<double>(ring_disagreements_);
        }
        timed[step.index] = check(s_.expectations[step.index], values);
        break;
      }
    }
    progress(false);
    if (past_a_limit()) break;
  }
  if (!stopped_early_) run_to(s_.duration);
  progress(true);

  converged_now_ = converged();
  if (converged_now_ && !converged_at_) converged_at_ = round_us(secs(world_.now()));
  const auto final_metrics = [&] {
    auto m = metrics_now();
    m["ipam.invariant_violations"] = static_cast<double>(ipam_violations());
    m["ipam.ring_disagreements"] = static_cast<double>(ring_disagreements_);
    return m;
  }();

  RunResult result;
  result.stopped_early = stopped_early_;
  result.stopped_by = stopped_by_;
  for (size_t x = 0; x < s_.expectations.size(); ++x) {
    result.expectations.push_back(s_.expectations[x].at ? timed[x]
                                                        : check(s_.expectations[x], final_metrics));
  }

  auto get = [&](const std::string& k) -> json {
    auto it = final_metrics.find(k);
    return it == final_metrics.end() ? json(nullptr) : json(it->second);
  };
  json summary;
  summary["scenario"] = s_.name;
  summary["seed"] = s_.seed;
  summary["fidelity"] = s_.fidelity == StreamFidelity::tcp ? "tcp" : "message";
  summary["nodes"] = nodes_.size();
  summary["sim_seconds"] = round_us(secs(world_.now()));
  if (stopped_early_) summary["stopped_early"] = true;  // by a RunOptions limit
  summary["mesh"] = {{"converged", converged_now_},
                     {"converged_at_s", number_or_null(converged_at_)},
                     {"topology_agreement", get("mesh.topology_agreement")},
                     {"connections", get("mesh.connections")},
                     {"groups", get("mesh.groups")},
                     {"peers_running", get("mesh.peers_running")},
                     {"gossip_bytes", get("mesh.gossip_bytes")},
                     {"topology_bytes", get("internal.topology_bytes")},
                     {"control_bytes", get("internal.control_bytes")}};
  summary["ipam"] = {{"allocated", get("ipam.allocated")},
                     {"pending", get("ipam.pending")},
                     {"duplicates", get("ipam.duplicates")},
                     {"invariant_violations", get("ipam.invariant_violations")},
                     {"ring_disagreements", get("ipam.ring_disagreements")},
                     {"unreachable_owned_pct", get("ipam.unreachable_owned_pct")}};
  json dropped = json::object();
  for (size_t i = 0; i < dataplane::kDropReasons; ++i) {
    const std::string reason = dataplane::to_string(static_cast<dataplane::Drop>(i));
    const json v = get("dataplane.dropped." + reason);
    if (v.is_number() && v.get<double>() > 0) dropped[reason] = v;
  }
  summary["dataplane"] = {
      {"sent", get("dataplane.sent")},
      {"delivered", get("dataplane.delivered")},
      {"delivery_ratio", get("dataplane.delivery_ratio")},
      {"dropped", get("dataplane.dropped")},
      {"dropped_by_reason", dropped},
      {"frames_sent", get("internal.data_frames")},
      {"latency_us",
       {{"p50", get("dataplane.latency_us.p50")}, {"p99", get("dataplane.latency_us.p99")}}}};
  summary["policy"] = {{"denied", get("policy.denied")}};
  json traffic = json::object();
  for (size_t t = 0; t < s_.traffic.size(); ++t) {
    const std::string p = "traffic." + s_.traffic[t].name + ".";
    traffic[s_.traffic[t].name] = {
        {"flows", flows_of_traffic_[t].size()},
        {"skipped_unaddressed", skipped_of_traffic_[t]},
        {"sent", get(p + "sent")},
        {"delivered", get(p + "delivered")},
        {"delivery_ratio", get(p + "delivery_ratio")},
        {"bytes_delivered", get(p + "bytes_delivered")},
        {"completed_at_s", get(p + "completed_at_s")},
        {"latency_us", {{"p50", get(p + "latency_us.p50")}, {"p99", get(p + "latency_us.p99")}}}};
  }
  summary["traffic"] = traffic;
  json expectations = json::array();
  for (const ExpectationResult& r : result.expectations) {
    expectations.push_back(
        {{"name", r.name},
         {"metric", r.metric},
         {"at_s", number_or_null(r.at_s)},
         {"ok", r.ok},
         {"value", number_or_null(r.value)},
         {"bound", {{"min", number_or_null(r.min)}, {"max", number_or_null(r.max)}}}});
  }
  summary["expectations"] = expectations;
  summary["ok"] = result.ok();
  result.summary = summary;

  const double wall = std::chrono::duration<double>(Clock::now() - wall_start_).count();
  const uint64_t events = world_.events_executed();
  result.run = {{"wall_seconds", wall},
                {"peak_rss_kb", peak_rss_kb()},
                {"ns3_events", events},
                {"events_per_second", wall > 0 ? static_cast<double>(events) / wall : 0.0},
                {"underlay_packets", world_.underlay_packets()},
                {"message_transfers", world_.message_transfers()}};

  if (!o_.out_dir.empty()) {
    namespace fs = std::filesystem;
    fs::create_directories(o_.out_dir);
    std::ofstream(fs::path(o_.out_dir) / "summary.json") << summary.dump(2) << "\n";
    std::ofstream(fs::path(o_.out_dir) / "run.json") << result.run.dump(2) << "\n";
    std::ofstream csv(fs::path(o_.out_dir) / "timeseries.csv");
    for (size_t c = 0; c < csv_columns().size(); ++c) csv << (c ? "," : "") << csv_columns()[c];
    csv << "\n";
    for (const std::string& row : timeseries_) csv << row << "\n";
    std::ofstream ev(fs::path(o_.out_dir) / "events.jsonl");
    for (const json& e : events_) ev << e.dump() << "\n";
  }
  return result;
}

}  // namespace

RunResult run_scenario(const Scenario& scenario, const RunOptions& options) {
  Run run(scenario, options);
  return run.go();
}

std::string render_summary(const RunResult& r) {
  const json& s = r.summary;
  std::ostringstream out;
  auto num = [](const json& v, int precision = 0) {
    if (!v.is_number()) return std::string("-");
    std::ostringstream o;
    o << std::fixed << std::setprecision(precision) << v.get<double>();
    return o.str();
  };
  out << "scenario " << s["scenario"].get<std::string>() << " (seed " << s["seed"] << ", "
      << s["nodes"] << " nodes, " << num(s["sim_seconds"], 1) << " s simulated, "
      << s["fidelity"].get<std::string>() << " streams)\n";
  const json& m = s["mesh"];
  out << "  mesh       " << (m["converged"].get<bool>() ? "converged" : "NOT converged");
  if (m["converged_at_s"].is_number()) out << " (first at " << num(m["converged_at_s"], 2) << " s)";
  out << ", " << num(m["connections"]) << " connections";
  if (m["groups"].is_number() && m["groups"].get<double>() > 1)
    out << " in " << num(m["groups"]) << " groups that cannot reach each other";
  out << ", gossip " << num(m["gossip_bytes"].get<double>() / 1e6, 2) << " MB\n";
  const json& i = s["ipam"];
  out << "  ipam       " << num(i["allocated"]) << " addresses allocated, " << num(i["pending"])
      << " pending, " << num(i["duplicates"]) << " duplicates, "
      << num(i["unreachable_owned_pct"], 1) << " % of the range owned by unreachable peers\n";
  const json& d = s["dataplane"];
  out << "  dataplane  " << num(d["delivered"]) << " of " << num(d["sent"]) << " delivered";
  if (d["latency_us"]["p50"].is_number()) {
    out << ", RTT p50 " << num(d["latency_us"]["p50"].get<double>() / 1000, 3) << " ms, p99 "
        << num(d["latency_us"]["p99"].get<double>() / 1000, 3) << " ms";
  }
  out << ", " << num(d["dropped"]) << " frames dropped";
  if (!d["dropped_by_reason"].empty()) {
    out << " (";
    bool first = true;
    for (const auto& [reason, n] : d["dropped_by_reason"].items()) {
      out << (first ? "" : ", ") << reason << " " << num(n);
      first = false;
    }
    out << ")";
  }
  out << "\n";
  for (const auto& [name, t] : s["traffic"].items()) {
    out << "  traffic    " << name << ": " << t["flows"] << " flows, " << num(t["delivered"])
        << " of " << num(t["sent"]) << " delivered";
    if (t["latency_us"]["p99"].is_number())
      out << ", RTT p99 " << num(t["latency_us"]["p99"].get<double>() / 1000, 3) << " ms";
    if (t["bytes_delivered"].is_number() && t["bytes_delivered"].get<double>() > 0) {
      out << ", " << num(t["bytes_delivered"]) << " bytes";
    }
    out << "\n";
  }
  if (!r.expectations.empty()) out << "expectations:\n";
  for (const ExpectationResult& e : r.expectations) {
    out << "  " << (e.ok ? "ok    " : "FAILED") << " " << e.name << ": ";
    if (e.value) {
      std::ostringstream v;
      v << std::setprecision(6) << *e.value;
      out << "value " << v.str();
    } else {
      out << "no value";
    }
    out << "\n";
  }
  if (r.stopped_early) {
    out << "STOPPED by " << r.stopped_by << " at " << num(s["sim_seconds"], 2) << " s simulated\n";
  }
  out << (r.ok()            ? "all expectations hold\n"
          : r.stopped_early ? "the run did not finish\n"
                            : "some expectations FAILED\n");
  return out.str();
}

}  // namespace loom::sim::scenario
