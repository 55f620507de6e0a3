// Reading scenario files (docs/scenarios.md). Every error names the file,
// the JSON path (RFC 6901 style: /events/3/nodes/0) and the reason; unknown
// fields are errors, so that a typo is not silently a default.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "model/dataplane/forwarder.h"
#include "model/ipam/address.h"
#include "model/policy/policy_parser.h"
#include "sim/scenario/scenario.h"

namespace loom::sim::scenario {

using nlohmann::json;

std::string node_name(size_t i) {
  std::string name = "n";
  name += std::to_string(i);
  return name;
}

const PodGroup* Scenario::pod_group(const std::string& group) const {
  for (const PodGroup& g : pod_groups) {
    if (g.name == group) return &g;
  }
  return nullptr;
}

const std::vector<std::string>& metric_names() {
  static const std::vector<std::string> names{
      "mesh.converged",
      "mesh.converged_at_s",
      "mesh.topology_agreement",
      "mesh.connections",
      "mesh.groups",
      "mesh.peers_running",
      "mesh.gossip_bytes",
      "ipam.allocated",
      "ipam.pending",
      "ipam.duplicates",
      "ipam.invariant_violations",
      "ipam.ring_disagreements",
      "ipam.unreachable_owned_pct",
      "dataplane.sent",
      "dataplane.delivered",
      "dataplane.dropped",
      "dataplane.delivery_ratio",
      "dataplane.latency_us.p50",
      "dataplane.latency_us.p99",
      "policy.denied",
  };
  return names;
}

bool known_metric(const Scenario& s, const std::string& metric) {
  const auto& names = metric_names();
  if (std::find(names.begin(), names.end(), metric) != names.end()) return true;
  if (metric.rfind("dataplane.dropped.", 0) == 0) {
    for (size_t i = 0; i < dataplane::kDropReasons; ++i) {
      if (metric == std::string("dataplane.dropped.") +
                        dataplane::to_string(static_cast<dataplane::Drop>(i))) {
        return true;
      }
    }
    return false;
  }
  for (const Traffic& t : s.traffic) {
    const std::string prefix = "traffic." + t.name + ".";
    if (metric.rfind(prefix, 0) != 0) continue;
    const std::string rest = metric.substr(prefix.size());
    return rest == "sent" || rest == "delivered" || rest == "delivery_ratio" ||
           rest == "latency_us.p50" || rest == "latency_us.p99" || rest == "bytes_delivered" ||
           rest == "completed_at_s";
  }
  return false;
}

namespace {

Time seconds_to_time(double s) {
  return std::chrono::duration_cast<Time>(std::chrono::duration<double>(s));
}

// One JSON object being read: typed getters that name the path, and a check
// that nothing unknown was given.
class Obj {
 public:
  Obj(const json& value, std::string path, const std::string& file)
      : v_(value), path_(std::move(path)), file_(file) {
    if (!v_.is_object()) fail("expected an object");
  }

  [[noreturn]] void fail(const std::string& reason) const { fail_at(path_, reason); }
  [[noreturn]] void fail_at(const std::string& path, const std::string& reason) const {
    throw BadInput(file_ + ": " + (path.empty() ? "/" : path) + ": " + reason);
  }
  std::string at(const std::string& key) const { return path_ + "/" + key; }
  const std::string& path() const { return path_; }
  const std::string& file() const { return file_; }

  // Whether the field is given. null is refused (leave a field out for
  // its default), except where null_ok says it means something.
  bool has(const std::string& key, bool null_ok = false) {
    seen_.insert(key);
    if (!v_.contains(key)) return false;
    if (v_.at(key).is_null()) {
      if (!null_ok)
        fail_at(at(key), "null is not a value here (leave the field out for its default)");
      return false;
    }
    return true;
  }
  bool present_null(const std::string& key) {
    seen_.insert(key);
    return v_.contains(key) && v_.at(key).is_null();
  }
  const json& raw(const std::string& key) {
    seen_.insert(key);
    return v_.at(key);
  }
  Obj object(const std::string& key) { return Obj(raw(key), at(key), file_); }

  std::string string(const std::string& key, std::string fallback) {
    if (!has(key)) return fallback;
    const json& x = v_.at(key);
    if (!x.is_string()) fail_at(at(key), "expected a string");
    return x.get<std::string>();
  }
  bool boolean(const std::string& key, bool fallback) {
    if (!has(key)) return fallback;
    const json& x = v_.at(key);
    if (!x.is_boolean()) fail_at(at(key), "expected true or false");
    return x.get<bool>();
  }
  double number(const std::string& key, double fallback, double min, double max) {
    if (!has(key)) return fallback;
    const json& x = v_.at(key);
    if (!x.is_number()) fail_at(at(key), "expected a number");
    const double d = x.get<double>();
    if (!std::isfinite(d) || d < min || d > max) {
      std::ostringstream out;
      out << d << " is out of range [" << min << ", " << max << "]";
      fail_at(at(key), out.str());
    }
    return d;
  }
  uint64_t integer(const std::string& key, uint64_t fallback, uint64_t min, uint64_t max) {
    if (!has(key)) return fallback;
    const json& x = v_.at(key);
    if (!x.is_number_integer() ||
        (x.is_number_integer() && !x.is_number_unsigned() && x.get<int64_t>() < 0)) {
      fail_at(at(key), "expected a non-negative integer");
    }
    const uint64_t n = x.get<uint64_t>();
    if (n < min || n > max) {
      std::ostringstream out;
      out << n << " is out of range [" << min << ", " << max << "]";
      fail_at(at(key), out.str());
    }
    return n;
  }
  // Seconds as "<key>" (a number of seconds) into a Time.
  Time duration(const std::string& key, Time fallback, double min_s = 0, double max_s = 1e7) {
    if (!has(key)) return fallback;
    return seconds_to_time(number(key, 0, min_s, max_s));
  }
  template <typename E>
  E choice(const std::string& key, E fallback,
           const std::vector<std::pair<std::string, E>>& options) {
    if (!has(key)) return fallback;
    const std::string s = string(key, "");
    for (const auto& [text, value] : options) {
      if (text == s) return value;
    }
    std::string known;
    for (const auto& [text, value] : options) known += (known.empty() ? "" : ", ") + text;
    fail_at(at(key), "'" + s + "' is not one of: " + known);
  }
  // Every key given must have been asked for.
  void done() const {
    for (const auto& [key, value] : v_.items()) {
      if (seen_.count(key) == 0) fail_at(at(key), "unknown field");
    }
  }

 private:
  const json& v_;
  std::string path_;
  const std::string& file_;
  std::set<std::string> seen_;
};

bool valid_rate(const std::string& rate) {
  static const std::regex pattern(
      R"(^[0-9]+(\.[0-9]+)?(bps|b/s|[kKMG]bps|[kKMG]b/s|Bps|B/s|[kKMG]Bps|[kKMG]B/s)$)");
  return std::regex_match(rate, pattern) && std::strtod(rate.c_str(), nullptr) > 0;
}

LinkSpec parse_link(Obj o, LinkSpec d) {
  LinkSpec l = d;
  l.rate = o.string("rate", d.rate);
  if (!valid_rate(l.rate)) {
    o.fail_at(o.at("rate"), "'" + l.rate + "' is not a data rate (e.g. 1Gbps, 100Mbps, 10kb/s)");
  }
  const double default_ms = std::chrono::duration<double, std::milli>(d.delay).count();
  l.delay = std::chrono::duration_cast<Time>(
      std::chrono::duration<double, std::milli>(o.number("delay_ms", default_ms, 0, 1e6)));
  l.loss = o.number("loss", d.loss, 0, 0.999);
  o.done();
  return l;
}

// Node selectors: 3, "n3", "2-5" (indices, inclusive), "rack:1", "all".
class NodeSet {
 public:
  NodeSet(size_t nodes, size_t rack_size, bool racks)
      : nodes_(nodes), rack_size_(rack_size), racks_(racks) {}

  std::vector<size_t> resolve(Obj& parent, const std::string& key) {
    const json& v = parent.raw(key);
    const std::string path = parent.at(key);
    std::vector<size_t> out;
    if (v.is_array()) {
      for (size_t i = 0; i < v.size(); ++i) one(parent, v[i], path + "/" + std::to_string(i), out);
    } else {
      one(parent, v, path, out);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

 private:
  void one(Obj& o, const json& v, const std::string& path, std::vector<size_t>& out) {
    if (v.is_number_unsigned()) {
      const uint64_t i = v.get<uint64_t>();
      if (i >= nodes_)
        o.fail_at(path,
                  "no node " + std::to_string(i) + " (there are " + std::to_string(nodes_) + ")");
      out.push_back(i);
      return;
    }
    if (!v.is_string())
      o.fail_at(path, "expected a node index, \"nK\", \"A-B\", \"rack:K\" or \"all\"");
    const std::string s = v.get<std::string>();
    if (s == "all") {
      for (size_t i = 0; i < nodes_; ++i) out.push_back(i);
      return;
    }
    std::smatch m;
    static const std::regex single(R"(^n?([0-9]{1,9})$)");
    static const std::regex range(R"(^n?([0-9]{1,9})-n?([0-9]{1,9})$)");
    static const std::regex rack(R"(^rack:([0-9]{1,9})$)");
    if (std::regex_match(s, m, single)) {
      const size_t i = std::stoul(m[1]);
      if (i >= nodes_)
        o.fail_at(path, "no node " + s + " (there are " + std::to_string(nodes_) + ")");
      out.push_back(i);
    } else if (std::regex_match(s, m, range)) {
      const size_t a = std::stoul(m[1]);
      const size_t b = std::stoul(m[2]);
      if (a > b || b >= nodes_) {
        o.fail_at(path, "range " + s + " is not within 0-" + std::to_string(nodes_ - 1));
      }
      for (size_t i = a; i <= b; ++i) out.push_back(i);
    } else if (std::regex_match(s, m, rack)) {
      if (!racks_) o.fail_at(path, "rack selectors need a racks underlay");
      const size_t r = std::stoul(m[1]);
      const size_t first = r * rack_size_;
      if (first >= nodes_) o.fail_at(path, "no rack " + m[1].str());
      for (size_t i = first; i < std::min(nodes_, first + rack_size_); ++i) out.push_back(i);
    } else {
      o.fail_at(path,
                "'" + s + "' is not a node selector (3, \"n3\", \"2-5\", \"rack:1\", \"all\")");
    }
  }

  size_t nodes_;
  size_t rack_size_;
  bool racks_;
};

std::string read_file(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw BadInput(what + ": cannot open " + path + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string resolve_path(const std::string& base_dir, const std::string& p) {
  if (p.empty() || p[0] == '/' || base_dir.empty()) return p;
  return (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

void parse_underlay(Obj o, Scenario& s, const std::string& base_dir) {
  Underlay& u = s.underlay;
  u.kind = o.choice<Underlay::Kind>("kind", Underlay::Kind::lan,
                                    {{"lan", Underlay::Kind::lan},
                                     {"racks", Underlay::Kind::racks},
                                     {"graph", Underlay::Kind::graph}});
  LinkSpec host_default;
  host_default.rate = "1Gbps";
  host_default.delay = std::chrono::microseconds(500);
  LinkSpec uplink_default;
  uplink_default.rate = "10Gbps";
  uplink_default.delay = std::chrono::milliseconds(1);
  u.host_link = o.has("link") ? parse_link(o.object("link"), host_default) : host_default;
  u.uplink = o.has("uplink") ? parse_link(o.object("uplink"), uplink_default) : uplink_default;
  if (u.kind == Underlay::Kind::graph) {
    if (!o.has("file")) o.fail_at(o.at("file"), "a graph underlay needs a file");
    u.file = o.string("file", "");
    const std::string path = resolve_path(base_dir, u.file);
    const std::string where = o.file() + ": " + o.at("file");
    json g;
    try {
      g = json::parse(read_file(path, where));
    } catch (const json::parse_error& e) {
      throw BadInput(path + ": not valid JSON: " + e.what());
    }
    Obj graph(g, "", path);
    std::set<std::string> names;
    auto add_names = [&](const std::string& key, std::vector<std::string>& into) {
      if (!graph.has(key)) return;
      const json& list = graph.raw(key);
      if (!list.is_array()) graph.fail_at("/" + key, "expected an array of names");
      for (size_t i = 0; i < list.size(); ++i) {
        const std::string p = "/" + key + "/" + std::to_string(i);
        if (!list[i].is_string() || list[i].get<std::string>().empty())
          graph.fail_at(p, "expected a name");
        const std::string name = list[i].get<std::string>();
        if (!names.insert(name).second) graph.fail_at(p, "'" + name + "' is named twice");
        into.push_back(name);
      }
    };
    add_names("routers", u.routers);
    add_names("hosts", u.host_names);
    if (u.host_names.empty()) graph.fail_at("/hosts", "a graph needs at least one host");
    if (!graph.has("links") || !graph.raw("links").is_array())
      graph.fail_at("/links", "expected an array of links");
    const json& links = graph.raw("links");
    for (size_t i = 0; i < links.size(); ++i) {
      Obj l(links[i], "/links/" + std::to_string(i), path);
      Underlay::GraphLink gl;
      gl.a = l.string("a", "");
      gl.b = l.string("b", "");
      for (const std::string* end : {&gl.a, &gl.b}) {
        if (names.count(*end) == 0)
          l.fail_at(l.at(end == &gl.a ? "a" : "b"),
                    "'" + *end + "' is no router or host of the graph");
      }
      if (gl.a == gl.b) l.fail("a link joins two different nodes");
      LinkSpec d = u.host_link;
      gl.spec.rate = l.string("rate", d.rate);
      if (!valid_rate(gl.spec.rate))
        l.fail_at(l.at("rate"), "'" + gl.spec.rate + "' is not a data rate (e.g. 1Gbps)");
      gl.spec.delay =
          std::chrono::duration_cast<Time>(std::chrono::duration<double, std::milli>(l.number(
              "delay_ms", std::chrono::duration<double, std::milli>(d.delay).count(), 0, 1e6)));
      gl.spec.loss = l.number("loss", d.loss, 0, 0.999);
      l.done();
      u.links.push_back(gl);
    }
    graph.done();
    u.hosts = u.host_names.size();
    if (o.has("hosts")) o.fail_at(o.at("hosts"), "a graph underlay takes its hosts from the file");
  } else {
    u.hosts = o.integer("hosts", 3, 1, 100000);
    u.rack_size = o.integer("rack_size", 20, 1, 64);
    if (u.kind == Underlay::Kind::lan && u.hosts > 64) {
      o.fail_at(o.at("hosts"),
                "a lan puts every host on one switch; past 64 hosts use \"kind\": \"racks\" (ns-3 "
                "scans every interface of a node per packet)");
    }
  }
  o.done();
}

IpamInit parse_init(Obj& o, const std::string& key, const std::string& text, NodeSet& nodes) {
  IpamInit init;
  if (text == "consensus") return init;
  std::smatch m;
  static const std::regex consensus(R"(^consensus=([0-9]{1,9})$)");
  if (std::regex_match(text, m, consensus)) {
    const unsigned long n = std::stoul(m[1]);
    if (n < 1 || n > 100000) o.fail_at(o.at(key), "consensus=N needs 1 <= N <= 100000");
    init.peer_count = static_cast<unsigned>(n);
    return init;
  }
  if (text == "observer") {
    init.kind = IpamInit::Kind::observer;
    return init;
  }
  if (text.rfind("seed=", 0) == 0) {
    init.kind = IpamInit::Kind::seed;
    json list = json::array();
    std::stringstream in(text.substr(5));
    std::string item;
    while (std::getline(in, item, ',')) list.push_back(item);
    json wrapper = {{"seed", list}};
    Obj w(wrapper, o.at(key), o.file());
    init.seed = nodes.resolve(w, "seed");
    if (init.seed.empty()) o.fail_at(o.at(key), "seed= names no node");
    return init;
  }
  o.fail_at(o.at(key), "'" + text + "' is not consensus, consensus=N, seed=NODES or observer");
}

// A "weave" object onto settings (which hold the defaults or the base).
void parse_weave(Obj o, WeaveSettings& w, NodeSet& nodes) {
  if (o.present_null("password")) w.password.reset();
  if (o.has("password", true)) {
    const json& p = o.raw("password");
    if (!p.is_string()) o.fail_at(o.at("password"), "expected a string (or null for none)");
    w.password = p.get<std::string>();
    if (w.password->empty()) w.password.reset();
  }
  w.mesh.conn_limit = o.integer("conn_limit", w.mesh.conn_limit, 0, 100000);
  w.mesh.discovery = o.boolean("discovery", w.mesh.discovery);
  if (o.has("peers")) {
    const json& p = o.raw("peers");
    if (p.is_string() && (p == "all" || p == "none" || p == "rack")) {
      w.targets = p == "all"    ? WeaveSettings::Targets::all
                  : p == "none" ? WeaveSettings::Targets::none
                                : WeaveSettings::Targets::rack;
      w.target_nodes.clear();
    } else {
      w.targets = WeaveSettings::Targets::list;
      w.target_nodes = nodes.resolve(o, "peers");
    }
  }
  if (o.has("ipalloc_range")) {
    w.ipalloc_range = o.string("ipalloc_range", "");
    auto range = ipam::parse_allocation_range(w.ipalloc_range);
    if (!range.ok()) o.fail_at(o.at("ipalloc_range"), range.error().message);
  }
  if (o.has("ipalloc_init")) {
    w.ipalloc_init = parse_init(o, "ipalloc_init", o.string("ipalloc_init", ""), nodes);
  }
  if (o.has("data_path")) {
    const json& d = o.raw("data_path");
    std::vector<std::string> overlays;
    if (d.is_string()) overlays.push_back(d.get<std::string>());
    if (d.is_array()) {
      for (const json& x : d) overlays.push_back(x.is_string() ? x.get<std::string>() : "");
    }
    if (overlays.empty())
      o.fail_at(o.at("data_path"), "expected \"fastdp\", \"sleeve\" or a list of them");
    for (const std::string& x : overlays) {
      if (x != "fastdp" && x != "sleeve")
        o.fail_at(o.at("data_path"), "'" + x + "' is not fastdp or sleeve");
    }
    w.dataplane.overlays = overlays;
  }
  w.start_at = o.duration("start_at_s", w.start_at);
  if (o.has("mesh")) {
    Obj m = o.object("mesh");
    mesh::MeshConfig& c = w.mesh;
    c.gossip_interval = m.duration("gossip_interval_s", c.gossip_interval, 0.001);
    c.topology_update_delay = m.duration("topology_update_delay_s", c.topology_update_delay);
    c.route_recalculation_delay =
        m.duration("route_recalculation_delay_s", c.route_recalculation_delay);
    c.gc_delay = m.duration("gc_delay_s", c.gc_delay);
    c.heartbeat_interval = m.duration("heartbeat_interval_s", c.heartbeat_interval, 0.001);
    c.read_timeout = m.duration("read_timeout_s", c.read_timeout, 0.001);
    c.handshake_timeout = m.duration("handshake_timeout_s", c.handshake_timeout, 0.001);
    c.initial_backoff = m.duration("initial_backoff_s", c.initial_backoff, 0.001);
    c.backoff_factor = m.number("backoff_factor", c.backoff_factor, 1, 100);
    c.max_backoff = m.duration("max_backoff_s", c.max_backoff, 0.001);
    c.reset_backoff_after = m.duration("reset_backoff_after_s", c.reset_backoff_after);
    c.accept_bucket_capacity =
        m.integer("accept_bucket_capacity", c.accept_bucket_capacity, 1, 1000000);
    c.accept_token_interval =
        m.duration("accept_token_interval_s", c.accept_token_interval, 0.000001);
    c.protocol_min_version =
        static_cast<int>(m.integer("protocol_min_version", c.protocol_min_version, 1, 2));
    c.protocol_max_version =
        static_cast<int>(m.integer("protocol_max_version", c.protocol_max_version, 1, 2));
    if (c.protocol_min_version > c.protocol_max_version) {
      m.fail_at(m.at("protocol_min_version"), "is above protocol_max_version");
    }
    m.done();
  }
  if (o.has("ipam")) {
    Obj m = o.object("ipam");
    w.ipam_tick = m.duration("tick_s", w.ipam_tick, 0.001);
    m.done();
  }
  if (o.has("dataplane")) {
    Obj m = o.object("dataplane");
    dataplane::DataPlaneConfig& c = w.dataplane;
    c.fastdp_mtu = m.integer("fastdp_mtu", c.fastdp_mtu, 576, 9000);
    c.fast_heartbeat = m.duration("fast_heartbeat_s", c.fast_heartbeat, 0.001);
    c.slow_heartbeat = m.duration("slow_heartbeat_s", c.slow_heartbeat, 0.001);
    c.max_missed_heartbeats =
        static_cast<int>(m.integer("max_missed_heartbeats", c.max_missed_heartbeats, 1, 1000));
    c.pmtu_discovery = m.boolean("pmtu_discovery", c.pmtu_discovery);
    m.done();
  }
  o.done();
}

PodGroup parse_pod_group(Obj o, NodeSet& nodes) {
  PodGroup g;
  g.name = o.string("name", "");
  static const std::regex dns_label(R"(^[a-z0-9]([-a-z0-9]*[a-z0-9])?$)");
  if (!std::regex_match(g.name, dns_label) || g.name.size() > 40) {
    o.fail_at(o.at("name"),
              "'" + g.name + "' is not a lower-case DNS label of at most 40 characters");
  }
  g.namespace_name = o.string("namespace", "default");
  if (!std::regex_match(g.namespace_name, dns_label)) {
    o.fail_at(o.at("namespace"), "'" + g.namespace_name + "' is not a lower-case DNS label");
  }
  if (o.has("labels")) {
    const json& l = o.raw("labels");
    if (!l.is_object()) o.fail_at(o.at("labels"), "expected an object of string labels");
    for (const auto& [k, v] : l.items()) {
      if (!v.is_string()) o.fail_at(o.at("labels") + "/" + k, "expected a string");
      g.labels[k] = v.get<std::string>();
    }
  }
  g.per_node = o.integer("per_node", 1, 1, 250);
  if (o.has("nodes")) {
    g.nodes = nodes.resolve(o, "nodes");
  } else {
    NodeSet* n = &nodes;
    json all = {{"nodes", "all"}};
    Obj w(all, o.path(), o.file());
    g.nodes = n->resolve(w, "nodes");
  }
  if (o.has("ports")) {
    const json& ports = o.raw("ports");
    if (!ports.is_array()) o.fail_at(o.at("ports"), "expected an array");
    for (size_t i = 0; i < ports.size(); ++i) {
      Obj p(ports[i], o.at("ports") + "/" + std::to_string(i), o.file());
      PodPort port;
      port.name = p.string("name", "");
      port.port = static_cast<uint16_t>(p.integer("port", 0, 1, 65535));
      if (port.port == 0) p.fail_at(p.at("port"), "required");
      port.protocol = p.string("protocol", "TCP");
      if (port.protocol != "TCP" && port.protocol != "UDP" && port.protocol != "SCTP") {
        p.fail_at(p.at("protocol"), "'" + port.protocol + "' is not TCP, UDP or SCTP");
      }
      p.done();
      g.ports.push_back(port);
    }
  }
  o.done();
  return g;
}

}  // namespace

Scenario parse_scenario(const std::string& text, const std::string& file,
                        const std::string& base_dir, std::optional<uint64_t> seed_override) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    throw BadInput(file + ": not valid JSON: " + e.what());
  }
  Scenario s;
  s.file = file;
  Obj root(doc, "", file);
  if (root.has("$schema") && !root.raw("$schema").is_string())
    root.fail_at("/$schema", "expected a string");
  std::string stem = std::filesystem::path(file).stem().string();
  for (char& c : stem) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') c = '-';
  }
  s.name = root.string("name", stem.empty() ? "scenario" : stem);
  static const std::regex name_pattern(R"(^[A-Za-z0-9._-]+$)");
  if (!std::regex_match(s.name, name_pattern)) {
    root.fail_at(
        "/name",
        "'" + s.name +
            "' may hold only letters, digits, '.', '_' and '-' (it names the results folder)");
  }
  s.description = root.string("description", "");
  s.seed = root.integer("seed", 1, 0, UINT64_MAX);
  if (seed_override) s.seed = *seed_override;
  s.duration = root.duration("duration_s", std::chrono::seconds(60), 0.001, 1e6);
  s.fidelity = root.choice<StreamFidelity>(
      "fidelity", StreamFidelity::tcp,
      {{"tcp", StreamFidelity::tcp}, {"message", StreamFidelity::message}});
  s.start_spread = root.duration("start_spread_s", std::chrono::seconds(1), 0, 3600);
  s.sample_interval = root.duration("sample_interval_s", std::chrono::seconds(1), 0.01, 3600);
  if (!root.has("underlay"))
    root.fail_at("/underlay", "required (the hosts and how they are linked)");
  parse_underlay(root.object("underlay"), s, base_dir);
  const Underlay& u = s.underlay;

  // Nodes added by events extend the index space: count them first so that
  // selectors in overrides and pods may name them.
  size_t added = 0;
  if (root.has("events") && root.raw("events").is_array()) {
    for (const json& e : root.raw("events")) {
      if (e.is_object() && e.value("do", "") == "add_nodes" && e.contains("count") &&
          e["count"].is_number_unsigned()) {
        added += std::min<uint64_t>(e["count"].get<uint64_t>(), 100000);
      }
    }
  }
  if (u.kind == Underlay::Kind::graph && added > 0) {
    root.fail_at("/events",
                 "add_nodes needs a lan or racks underlay (a graph has its hosts in its file)");
  }
  const size_t total = u.hosts + added;
  if (u.kind == Underlay::Kind::lan && total > 64) {
    root.fail_at("/events",
                 "add_nodes would put more than 64 hosts on the lan's one switch; use racks");
  }
  NodeSet nodes(total, u.rack_size, u.kind == Underlay::Kind::racks);

  WeaveSettings base;
  if (root.has("weave")) parse_weave(root.object("weave"), base, nodes);
  std::vector<WeaveSettings> all(total, base);
  if (root.has("overrides")) {
    const json& list = root.raw("overrides");
    if (!list.is_array())
      root.fail_at("/overrides", "expected an array of {\"nodes\": ..., \"weave\": {...}}");
    for (size_t i = 0; i < list.size(); ++i) {
      Obj o(list[i], "/overrides/" + std::to_string(i), file);
      if (!o.has("nodes")) o.fail_at(o.at("nodes"), "required");
      const std::vector<size_t> which = nodes.resolve(o, "nodes");
      if (!o.has("weave")) o.fail_at(o.at("weave"), "required");
      WeaveSettings unused = base;  // an override of no node is still checked
      if (which.empty()) parse_weave(o.object("weave"), unused, nodes);
      for (size_t n : which) parse_weave(o.object("weave"), all[n], nodes);
      o.done();
    }
  }
  s.nodes.assign(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(u.hosts));
  for (size_t i = u.hosts; i < total; ++i) s.nodes.push_back(all[i]);
  // s.nodes holds the added nodes too: the runner starts them at their event.

  if (root.has("namespaces")) {
    Obj ns = root.object("namespaces");
    for (const auto& [name, value] : root.raw("namespaces").items()) {
      Obj one = ns.object(name);
      auto& labels = s.namespaces[name];
      if (one.has("labels")) {
        const json& l = one.raw("labels");
        if (!l.is_object()) one.fail_at(one.at("labels"), "expected an object of string labels");
        for (const auto& [k, v] : l.items()) {
          if (!v.is_string()) one.fail_at(one.at("labels") + "/" + k, "expected a string");
          labels[k] = v.get<std::string>();
        }
      }
      one.done();
    }
    ns.done();
  }

  if (root.has("pods")) {
    const json& list = root.raw("pods");
    if (!list.is_array()) root.fail_at("/pods", "expected an array of pod groups");
    for (size_t i = 0; i < list.size(); ++i) {
      Obj o(list[i], "/pods/" + std::to_string(i), file);
      PodGroup g = parse_pod_group(std::move(o), nodes);
      if (s.pod_group(g.name) != nullptr)
        root.fail_at("/pods/" + std::to_string(i) + "/name",
                     "pod group '" + g.name + "' is defined twice");
      s.namespaces[g.namespace_name];
      s.pod_groups.push_back(g);
      s.initial_pod_groups.push_back(g.name);
    }
  }

  if (root.has("traffic")) {
    const json& list = root.raw("traffic");
    if (!list.is_array()) root.fail_at("/traffic", "expected an array");
    std::set<std::string> names;
    for (size_t i = 0; i < list.size(); ++i) {
      Obj o(list[i], "/traffic/" + std::to_string(i), file);
      Traffic t;
      t.kind = o.choice<Traffic::Kind>("kind", Traffic::Kind::ping,
                                       {{"ping", Traffic::Kind::ping},
                                        {"udp_echo", Traffic::Kind::udp_echo},
                                        {"onoff", Traffic::Kind::onoff},
                                        {"bulk_tcp", Traffic::Kind::bulk_tcp}});
      std::string default_name = "t";
      default_name += std::to_string(i);
      t.name = o.string("name", default_name);
      static const std::regex pattern(R"(^[A-Za-z0-9_-]+$)");
      if (!std::regex_match(t.name, pattern))
        o.fail_at(o.at("name"), "may hold only letters, digits, '_' and '-'");
      if (!names.insert(t.name).second) o.fail_at(o.at("name"), "'" + t.name + "' is used twice");
      t.from = o.string("from", "");
      t.to = o.string("to", "");
      for (const char* key : {"from", "to"}) {
        const std::string& g = key[0] == 'f' ? t.from : t.to;
        if (g.empty()) o.fail_at(o.at(key), "required: a pod group");
      }
      if (o.has("pairs")) t.pairs = o.integer("pairs", 1, 1, 1000000);
      t.start = o.duration("start_s", t.start);
      if (t.start > s.duration)
        o.fail_at(o.at("start_s"), "is after the end of the run (duration_s)");
      t.count = static_cast<int>(o.integer("count", 10, 1, 10000000));
      t.interval = o.duration("interval_s", t.interval, 0.0001);
      t.payload_bytes =
          o.integer("payload_bytes", t.kind == Traffic::Kind::onoff ? 512 : 56, 8, 8900);
      t.port = static_cast<uint16_t>(o.integer("port", 5001, 1, 65535));
      t.rate = o.string("rate", t.rate);
      if (!valid_rate(t.rate))
        o.fail_at(o.at("rate"), "'" + t.rate + "' is not a data rate (e.g. 1Mbps)");
      t.duration = o.duration("duration_s", t.duration, 0.001);
      t.bytes = o.integer("bytes", t.bytes, 1, uint64_t{1} << 40);
      o.done();
      s.traffic.push_back(t);
    }
  }

  if (root.has("events")) {
    const json& list = root.raw("events");
    if (!list.is_array()) root.fail_at("/events", "expected an array");
    for (size_t i = 0; i < list.size(); ++i) {
      Obj o(list[i], "/events/" + std::to_string(i), file);
      Event e;
      e.where = o.path();
      if (!o.has("at_s")) o.fail_at(o.at("at_s"), "required: when, in simulated seconds");
      e.at = o.duration("at_s", Time{}, 0, 1e7);
      if (e.at > s.duration) o.fail_at(o.at("at_s"), "is after the end of the run (duration_s)");
      if (!o.has("do")) o.fail_at(o.at("do"), "required: what happens");
      using K = Event::Kind;
      e.kind = o.choice<K>("do", K::heal,
                           {{"partition", K::partition},
                            {"heal", K::heal},
                            {"kill", K::kill},
                            {"restart", K::restart},
                            {"rmpeer", K::rmpeer},
                            {"add_nodes", K::add_nodes},
                            {"set_loss", K::set_loss},
                            {"link_down", K::link_down},
                            {"link_up", K::link_up},
                            {"create_pods", K::create_pods},
                            {"delete_pods", K::delete_pods},
                            {"apply_policy", K::apply_policy},
                            {"delete_policy", K::delete_policy}});
      auto need = [&](const char* key) {
        if (!o.has(key)) o.fail_at(o.at(key), "required for this event");
      };
      switch (e.kind) {
        case K::partition: {
          need("groups");
          const json& g = o.raw("groups");
          if (!g.is_array() || g.size() < 2)
            o.fail_at(o.at("groups"), "expected at least two groups of nodes");
          std::set<size_t> used;
          for (size_t k = 0; k < g.size(); ++k) {
            json wrapper = {{"nodes", g[k]}};
            Obj w(wrapper, o.at("groups"), file);
            std::vector<size_t> members = nodes.resolve(w, "nodes");
            for (size_t n : members) {
              if (!used.insert(n).second) {
                o.fail_at(o.at("groups") + "/" + std::to_string(k),
                          node_name(n) + " is in two groups");
              }
            }
            e.groups.push_back(members);
          }
          break;
        }
        case K::heal:
          break;
        case K::kill:
        case K::link_down:
        case K::link_up:
          need("nodes");
          e.nodes = nodes.resolve(o, "nodes");
          break;
        case K::restart:
          need("nodes");
          e.nodes = nodes.resolve(o, "nodes");
          e.keep_store = o.choice<bool>("store", true, {{"keep", true}, {"wipe", false}});
          break;
        case K::set_loss:
          need("nodes");
          need("loss");
          e.nodes = nodes.resolve(o, "nodes");
          e.loss = o.number("loss", 0, 0, 0.999);
          break;
        case K::rmpeer: {
          need("on");
          need("peer");
          auto on = nodes.resolve(o, "on");
          auto peer = nodes.resolve(o, "peer");
          if (on.size() != 1 || peer.size() != 1)
            o.fail("rmpeer takes one node \"on\" and one \"peer\"");
          e.on = on[0];
          e.peer = peer[0];
          break;
        }
        case K::add_nodes:
          need("count");
          e.count = o.integer("count", 1, 1, 100000);
          break;
        case K::create_pods: {
          need("pods");
          PodGroup g = parse_pod_group(o.object("pods"), nodes);
          if (s.pod_group(g.name) != nullptr)
            o.fail_at(o.at("pods") + "/name", "pod group '" + g.name + "' is defined twice");
          s.namespaces[g.namespace_name];
          s.pod_groups.push_back(g);
          e.pod_group = g.name;
          break;
        }
        case K::delete_pods:
          need("group");
          e.pod_group = o.string("group", "");
          break;
        case K::apply_policy: {
          need("file");
          e.file = o.string("file", "");
          const std::string path = resolve_path(base_dir, e.file);
          auto parsed = policy::parse_policies(read_file(path, file + ": " + o.at("file")));
          if (!parsed.ok()) throw BadInput(path + ": " + parsed.error().message);
          e.policies = std::move(*parsed);
          s.uses_policy = true;
          break;
        }
        case K::delete_policy:
          need("name");
          e.policy = o.string("name", "");
          if (e.policy.find('/') == std::string::npos)
            o.fail_at(o.at("name"), "expected namespace/name");
          s.uses_policy = true;
          break;
      }
      o.done();
      s.events.push_back(std::move(e));
    }
  }
  // Pod groups a delete_pods names must exist (they may be created later).
  for (const Event& e : s.events) {
    if (e.kind == Event::Kind::delete_pods && s.pod_group(e.pod_group) == nullptr) {
      throw BadInput(file + ": " + e.where + "/group: no pod group '" + e.pod_group + "'");
    }
  }
  for (size_t i = 0; i < s.traffic.size(); ++i) {
    for (const std::string* g : {&s.traffic[i].from, &s.traffic[i].to}) {
      if (s.pod_group(*g) == nullptr) {
        throw BadInput(file + ": /traffic/" + std::to_string(i) +
                       (g == &s.traffic[i].from ? "/from" : "/to") + ": no pod group '" + *g + "'");
      }
    }
  }
  // Events in time order, file order within a time.
  std::stable_sort(s.events.begin(), s.events.end(),
                   [](const Event& a, const Event& b) { return a.at < b.at; });
  // add_nodes fills the index space in time order.
  size_t next_node = u.hosts;
  for (Event& e : s.events) {
    if (e.kind != Event::Kind::add_nodes) continue;
    for (size_t k = 0; k < e.count; ++k) e.nodes.push_back(next_node++);
  }

  if (root.has("expectations")) {
    const json& list = root.raw("expectations");
    if (!list.is_array()) root.fail_at("/expectations", "expected an array");
    for (size_t i = 0; i < list.size(); ++i) {
      Obj o(list[i], "/expectations/" + std::to_string(i), file);
      Expectation x;
      x.metric = o.string("metric", "");
      if (!known_metric(s, x.metric)) {
        o.fail_at(o.at("metric"),
                  "'" + x.metric + "' is not a metric (docs/scenarios.md, \"Metrics\")");
      }
      if (o.has("at_s")) x.at = o.duration("at_s", Time{}, 0, 1e7);
      if (x.at && *x.at > s.duration)
        o.fail_at(o.at("at_s"), "is after the end of the run (duration_s)");
      if (o.has("min")) x.min = o.number("min", 0, -1e18, 1e18);
      if (o.has("max")) x.max = o.number("max", 0, -1e18, 1e18);
      if (!x.min && !x.max) o.fail("an expectation needs a min, a max or both");
      std::ostringstream name;
      name << x.metric;
      if (x.min) name << " >= " << *x.min;
      if (x.max) name << " <= " << *x.max;
      if (x.at) name << " at " << std::chrono::duration<double>(*x.at).count() << " s";
      x.name = o.string("name", name.str());
      o.done();
      s.expectations.push_back(x);
    }
  }
  root.done();
  return s;
}

Scenario load_scenario(const std::string& file, std::optional<uint64_t> seed_override) {
  const std::string text = read_file(file, file);
  const std::string base = std::filesystem::path(file).parent_path().string();
  return parse_scenario(text, file, base, seed_override);
}

}  // namespace loom::sim::scenario
