// World over ns-3 (C++17). The only file that touches ns-3's globals.
#include "sim/world.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <queue>
#include <stdexcept>
#include <utility>

#include <ns3/data-rate.h>
#include <ns3/error-model.h>
#include <ns3/internet-stack-helper.h>
#include <ns3/ipv4-address-generator.h>
#include <ns3/ipv4-routing-table-entry.h>
#include <ns3/ipv4-static-routing-helper.h>
#include <ns3/ipv4-static-routing.h>
#include <ns3/ipv4.h>
#include <ns3/mac48-address.h>
#include <ns3/node-container.h>
#include <ns3/node.h>
#include <ns3/point-to-point-helper.h>
#include <ns3/pointer.h>
#include <ns3/rng-seed-manager.h>
#include <ns3/simulator.h>
#include <ns3/v4ping.h>

#include "sim/message_network.h"
#include "sim/ns3_host.h"
#include "sim/pod_net_device.h"

namespace loom::sim {

namespace {

// ns-3's Simulator is process-wide: at most one World at a time.
bool g_world_alive = false;

// Underlay links get consecutive /30s from 172.16.0.0/12, clear of Weave's
// default allocation range (10.32.0.0/12).
constexpr uint32_t kUnderlayBase = 0xAC100000;
constexpr uint32_t kUnderlayMask = 0xFFF00000;  // /12
constexpr size_t kNone = static_cast<size_t>(-1);
constexpr size_t kMaxLinks = size_t{1} << 18;
constexpr uint32_t kLinkMask = 0xFFFFFFFC;

uint32_t prefix_mask(uint8_t prefix_len) {
  return prefix_len == 0 ? 0 : ~uint32_t{0} << (32 - prefix_len);
}

void reset_ns3_globals() {
  ns3::Mac48Address::ResetAllocationIndex();
  ns3::Ipv4AddressGenerator::Reset();
}

uint32_t add_interface(ns3::Ptr<ns3::Node> node, ns3::Ptr<ns3::NetDevice> device, uint32_t address,
                       uint8_t prefix_len) {
  auto ipv4 = node->GetObject<ns3::Ipv4>();
  const uint32_t index = ipv4->AddInterface(device);
  ipv4->AddAddress(index, ns3::Ipv4InterfaceAddress(ns3::Ipv4Address(address),
                                                    ns3::Ipv4Mask(prefix_mask(prefix_len))));
  ipv4->SetMetric(index, 1);
  ipv4->SetUp(index);
  return index;
}

}  // namespace

class World::Impl {
 public:
  struct HostRecord {
    std::string name;
    ns3::Ptr<ns3::Node> node;
    std::unique_ptr<MemoryStore> store;  // outlives a restart of the host
    std::unique_ptr<Ns3Host> host;       // null while stopped
    Ipv4 address;                        // its address on its first link
    uint64_t restarts = 0;
    std::vector<std::pair<size_t, size_t>> adjacency;  // (link, neighbour), in link order
  };
  struct LinkRecord {
    size_t a;
    size_t b;
    uint32_t network;  // a is network+1, b is network+2
    uint32_t if_a;
    uint32_t if_b;
    ns3::Ptr<ns3::NetDevice> device_a;
    ns3::Ptr<ns3::NetDevice> device_b;
    // Receive error models, one per device; made on first need (loss, down).
    ns3::Ptr<ns3::RateErrorModel> errors_a;
    ns3::Ptr<ns3::RateErrorModel> errors_b;
    double loss;
    bool up;
  };
  struct PodRecord {
    size_t host;
    ns3::Ptr<ns3::Node> node;
    ns3::Ptr<PodNetDevice> device;
  };
  struct PingRecord {
    PingStats stats;
    ns3::Ptr<ns3::V4Ping> app;
  };

  explicit Impl(WorldOptions world_options) : options(std::move(world_options)) {
    stack.SetIpv6StackInstall(false);
    stack.SetRoutingHelper(ns3::Ipv4StaticRoutingHelper());
    if (options.streams == StreamFidelity::message) {
      messages = std::make_unique<MessageNetwork>(
          options.seed, [this](size_t from, size_t to) { return path(from, to); });
    }
  }

  // Breadth-first from a, as finalize_routes() goes (ties to the link
  // added first); the links back from b.
  std::vector<size_t> path(size_t a, size_t b) const {
    std::vector<size_t> via(hosts.size(), kNone);  // the link each host is reached by
    std::queue<size_t> frontier;
    frontier.push(a);
    while (!frontier.empty() && via[b] == kNone && a != b) {
      const size_t u = frontier.front();
      frontier.pop();
      for (const auto& [link, v] : hosts[u].adjacency) {
        if (v == a || via[v] != kNone) continue;
        via[v] = link;
        frontier.push(v);
      }
    }
    std::vector<size_t> out;
    if (a == b || via[b] == kNone) return out;
    for (size_t at = b; at != a;
         at = links[via[at]].a == at ? links[via[at]].b : links[via[at]].a) {
      out.push_back(via[at]);
    }
    std::reverse(out.begin(), out.end());
    return out;
  }

  ns3::Ptr<ns3::Node> new_node() {
    auto node = ns3::CreateObject<ns3::Node>();
    stack.Install(node);
    // Fixed stream numbers: ns-3's automatic ones keep counting across
    // Worlds in one process.
    next_stream += stack.AssignStreams(ns3::NodeContainer(node), next_stream);
    return node;
  }

  void check_done() {
    if (done != nullptr && (*done)()) ns3::Simulator::Stop();
  }

  // Runs the simulation until target (absolute), or until stopped earlier.
  void run_to(ns3::Time target) {
    if (routes_dirty) finalize_routes();
    const ns3::Time now = ns3::Simulator::Now();
    if (target < now) return;
    ns3::EventId stop = ns3::Simulator::Schedule(target - now, [this] {
      ++control_events;
      ns3::Simulator::Stop();
    });
    ns3::Simulator::Run();
    if (!stop.IsExpired()) ns3::Simulator::Remove(stop);
  }

  void finalize_routes();

  void make_host(size_t index) {
    HostRecord& record = hosts[index];
    Ns3HostConfig config;
    config.name = record.name;
    config.index = index;
    config.seed = options.seed;
    config.incarnation = record.restarts;
    config.log_filter = &options.log_filter;
    config.log_sink = &options.log_sink;
    config.pod_mtu = options.pod_mtu;
    config.streams = options.streams;
    config.messages = messages.get();
    config.after_callback = [this] { check_done(); };
    record.host = std::make_unique<Ns3Host>(record.node, *record.store, std::move(config));
    record.host->set_address(record.address);
    for (const PodRecord& pod : pods) {
      if (pod.host == index) record.host->pods().attach(pod.device);
    }
  }

  HostRecord& host_record(size_t index) {
    if (index >= hosts.size()) throw std::out_of_range("no host " + std::to_string(index));
    return hosts[index];
  }

  LinkRecord& link_record(size_t index) {
    if (index >= links.size()) throw std::out_of_range("no link " + std::to_string(index));
    return links[index];
  }

  ns3::Ptr<ns3::RateErrorModel> new_error_model(ns3::Ptr<ns3::NetDevice> device) {
    auto errors = ns3::CreateObject<ns3::RateErrorModel>();
    errors->SetUnit(ns3::RateErrorModel::ERROR_UNIT_PACKET);
    next_stream += errors->AssignStreams(next_stream);
    device->SetAttribute("ReceiveErrorModel", ns3::PointerValue(errors));
    return errors;
  }

  // Puts a link's loss and up/down state into its devices' error models.
  void apply_faults(LinkRecord& link) {
    if (!link.errors_a) {
      if (link.up && link.loss == 0) return;  // never needed one
      link.errors_a = new_error_model(link.device_a);
      link.errors_b = new_error_model(link.device_b);
    }
    // Rate 1 drops every packet (a uniform draw in [0, 1) is below it).
    const double rate = link.up ? link.loss : 1.0;
    for (const auto& errors : {link.errors_a, link.errors_b}) errors->SetRate(rate);
  }

  WorldOptions options;
  ns3::InternetStackHelper stack;
  int64_t next_stream = 0;
  std::vector<HostRecord> hosts;
  std::vector<LinkRecord> links;
  std::vector<PodRecord> pods;
  std::deque<PingRecord> pings;  // deque: ping_stats() references stay valid
  bool routes_dirty = false;
  const std::function<bool()>* done = nullptr;
  uint64_t control_events = 0;
  // The underlay as StreamFidelity::message sees it (null at tcp).
  std::unique_ptr<MessageNetwork> messages;
};

// Static shortest-path routes: per host, one /30 route for every link not
// attached to it, through the first link of a breadth-first path. ns-3 scans
// a node's routes linearly for every packet it sends or forwards, so a host
// whose every such route leaves by the same link (a peer on a star, a rack
// switch under its core) gets one route for the whole underlay instead,
// unless following those aggregates from its gateway comes back to it: then
// a packet for an unused address would bounce until its TTL ran out.
void World::Impl::finalize_routes() {
  routes_dirty = false;
  const size_t n = hosts.size();
  // The link every route of host s leaves by, per destination link.
  auto routes_of = [&](size_t s) {
    std::vector<int> distance(n, -1);
    std::vector<size_t> first_link(n, 0);
    std::queue<size_t> frontier;
    distance[s] = 0;
    frontier.push(s);
    while (!frontier.empty()) {
      const size_t u = frontier.front();
      frontier.pop();
      for (const auto& [link, v] : hosts[u].adjacency) {
        if (distance[v] >= 0) continue;
        distance[v] = distance[u] + 1;
        first_link[v] = u == s ? link : first_link[u];
        frontier.push(v);
      }
    }
    // (destination link, first link); kNone when unreachable.
    std::vector<std::pair<size_t, size_t>> out;
    for (size_t t = 0; t < links.size(); ++t) {
      const LinkRecord& target = links[t];
      if (target.a == s || target.b == s) continue;  // directly connected
      size_t via = target.a;
      if (distance[via] < 0 || (distance[target.b] >= 0 && distance[target.b] < distance[via])) {
        via = target.b;
      }
      out.emplace_back(t, distance[via] < 0 ? kNone : first_link[via]);
    }
    return out;
  };
  // The link all of s's routes leave by, when it is one (and every link is
  // reachable); kNone otherwise.
  std::vector<size_t> aggregate(n, kNone);
  for (size_t s = 0; s < n; ++s) {
    const auto routes = routes_of(s);
    if (routes.empty()) continue;
    const size_t via = routes.front().second;
    if (std::all_of(routes.begin(), routes.end(),
                    [&](const auto& r) { return r.second == via && via != kNone; })) {
      aggregate[s] = via;
    }
  }
  auto other_end = [&](size_t s, size_t link) {
    return links[link].a == s ? links[link].b : links[link].a;
  };
  std::vector<size_t> loops;
  for (size_t s = 0; s < n; ++s) {
    if (aggregate[s] == kNone) continue;
    size_t at = other_end(s, aggregate[s]);
    for (size_t steps = 0; aggregate[at] != kNone; ++steps) {
      if (at == s || steps > n) {
        loops.push_back(s);
        break;
      }
      at = other_end(at, aggregate[at]);
    }
  }
  for (size_t s : loops) aggregate[s] = kNone;

  const ns3::Ipv4StaticRoutingHelper helper;
  for (size_t s = 0; s < n; ++s) {
    auto routing = helper.GetStaticRouting(hosts[s].node->GetObject<ns3::Ipv4>());
    // Forget an earlier call's routes; interface routes have no gateway.
    for (uint32_t i = routing->GetNRoutes(); i-- > 0;) {
      if (routing->GetRoute(i).GetGateway() != ns3::Ipv4Address::GetAny()) {
        routing->RemoveRoute(i);
      }
    }
    auto add = [&](uint32_t network, uint32_t mask, size_t via) {
      const LinkRecord& hop = links[via];
      const bool s_is_a = hop.a == s;
      const uint32_t gateway = hop.network + (s_is_a ? 2 : 1);
      routing->AddNetworkRouteTo(ns3::Ipv4Address(network), ns3::Ipv4Mask(mask),
                                 ns3::Ipv4Address(gateway), s_is_a ? hop.if_a : hop.if_b);
    };
    if (aggregate[s] != kNone) {
      add(kUnderlayBase, kUnderlayMask, aggregate[s]);
      continue;
    }
    for (const auto& [target, via] : routes_of(s)) {
      if (via != kNone) add(links[target].network, kLinkMask, via);
    }
  }
}

World::World(WorldOptions options) {
  if (g_world_alive) {
    std::fputs(
        "loom::sim::World: only one World may exist at a time (ns-3's Simulator is global); "
        "destroy the first before creating another\n",
        stderr);
    std::abort();
  }
  g_world_alive = true;
  reset_ns3_globals();
  ns3::RngSeedManager::SetSeed(1);
  ns3::RngSeedManager::SetRun(options.seed);
  impl_ = std::make_unique<Impl>(std::move(options));
}

World::~World() {
  // Hosts first (they cancel their timers and drop their sockets), then
  // ns-3's simulation; no event runs in between.
  for (auto& record : impl_->hosts) record.host.reset();
  impl_.reset();
  ns3::Simulator::Destroy();
  reset_ns3_globals();
  g_world_alive = false;
}

size_t World::add_host(std::string name) {
  Impl::HostRecord record;
  record.name = std::move(name);
  record.node = impl_->new_node();
  record.store = std::make_unique<MemoryStore>();
  impl_->hosts.push_back(std::move(record));
  impl_->make_host(impl_->hosts.size() - 1);
  return impl_->hosts.size() - 1;
}

size_t World::link(size_t a, size_t b, const LinkSpec& spec) {
  auto& hosts = impl_->hosts;
  if (a >= hosts.size() || b >= hosts.size() || a == b) {
    throw std::invalid_argument("link: bad host indices " + std::to_string(a) + ", " +
                                std::to_string(b));
  }
  if (!(spec.loss >= 0.0 && spec.loss <= 1.0)) {
    throw std::invalid_argument("link: loss must be in [0, 1]");
  }
  if (spec.delay < Time::zero()) throw std::invalid_argument("link: negative delay");
  ns3::DataRateValue rate;
  if (spec.rate.empty() || spec.rate.find_first_of(" \t\n") != std::string::npos ||
      !rate.DeserializeFromString(spec.rate, ns3::MakeDataRateChecker())) {
    throw std::invalid_argument("link: bad rate '" + spec.rate + "' (expected e.g. 1Gbps)");
  }
  if (impl_->links.size() >= kMaxLinks) throw std::invalid_argument("link: too many links");

  ns3::PointToPointHelper p2p;
  p2p.SetDeviceAttribute("DataRate", rate);
  p2p.SetChannelAttribute("Delay", ns3::TimeValue(to_ns3(spec.delay)));
  ns3::NetDeviceContainer devices = p2p.Install(hosts[a].node, hosts[b].node);
  // No TrafficControlHelper: without a root queue disc the device's own
  // DropTail queue is the only one (FqCoDel is 5x slower).
  Impl::LinkRecord record{};
  record.a = a;
  record.b = b;
  record.network = kUnderlayBase + static_cast<uint32_t>(4 * impl_->links.size());
  record.device_a = devices.Get(0);
  record.device_b = devices.Get(1);
  record.loss = spec.loss;
  record.up = true;
  impl_->apply_faults(record);
  record.if_a = add_interface(hosts[a].node, devices.Get(0), record.network + 1, 30);
  record.if_b = add_interface(hosts[b].node, devices.Get(1), record.network + 2, 30);
  for (auto [end, address] : {std::pair{a, record.network + 1}, std::pair{b, record.network + 2}}) {
    Impl::HostRecord& host = hosts[end];
    if (!host.address.is_any()) continue;
    host.address = Ipv4(address);
    if (host.host) host.host->set_address(host.address);
  }
  const size_t index = impl_->links.size();
  impl_->links.push_back(record);
  hosts[a].adjacency.emplace_back(index, b);
  hosts[b].adjacency.emplace_back(index, a);
  if (impl_->messages) {
    impl_->messages->add_link(a, b, Ipv4(record.network + 1), Ipv4(record.network + 2),
                              rate.Get().GetBitRate(), spec.delay, spec.loss);
  }
  impl_->routes_dirty = true;
  return index;
}

size_t World::link_count() const { return impl_->links.size(); }

void World::set_link_up(size_t link, bool up) {
  Impl::LinkRecord& record = impl_->link_record(link);
  record.up = up;
  impl_->apply_faults(record);
  if (impl_->messages) impl_->messages->set_link_up(link, up);
}

void World::set_link_loss(size_t link, double loss) {
  Impl::LinkRecord& record = impl_->link_record(link);
  if (!(loss >= 0.0 && loss <= 1.0)) {
    throw std::invalid_argument("set_link_loss: loss must be in [0, 1]");
  }
  record.loss = loss;
  impl_->apply_faults(record);
  if (impl_->messages) impl_->messages->set_link_loss(link, loss);
}

bool World::link_up(size_t link) const { return impl_->link_record(link).up; }

void World::set_udp_port_blocked(size_t host, uint16_t port, bool blocked) {
  Impl::HostRecord& record = impl_->host_record(host);
  if (!record.host) {
    throw std::logic_error("set_udp_port_blocked: host " + std::to_string(host) + " is stopped");
  }
  record.host->set_udp_port_blocked(port, blocked);
}

void World::stop_host(size_t host) {
  Impl::HostRecord& record = impl_->host_record(host);
  if (!record.host) {
    throw std::logic_error("stop_host: host " + std::to_string(host) + " is already stopped");
  }
  record.host->crash();
  record.host.reset();
}

void World::start_host(size_t host, bool keep_store) {
  Impl::HostRecord& record = impl_->host_record(host);
  if (record.host) {
    throw std::logic_error("start_host: host " + std::to_string(host) + " is running");
  }
  if (!keep_store) record.store->clear();
  ++record.restarts;
  impl_->make_host(host);
}

bool World::host_running(size_t host) const { return impl_->host_record(host).host != nullptr; }

void World::finalize_routes() { impl_->finalize_routes(); }

std::vector<size_t> World::path(size_t a, size_t b) const {
  impl_->host_record(a);  // throws for an unknown host
  impl_->host_record(b);
  return impl_->path(a, b);
}

Host& World::host(size_t index) {
  Impl::HostRecord& record = impl_->host_record(index);
  if (!record.host) {
    throw std::logic_error("host " + std::to_string(index) + " is stopped (start_host first)");
  }
  return *record.host;
}

size_t World::host_count() const { return impl_->hosts.size(); }

size_t World::add_pod(size_t host, Ipv4 address, uint8_t prefix_len) {
  if (host >= impl_->hosts.size()) throw std::out_of_range("no host " + std::to_string(host));
  if (prefix_len > 32) throw std::invalid_argument("add_pod: prefix length above 32");
  Impl::PodRecord record;
  record.host = host;
  record.node = impl_->new_node();
  record.device = ns3::CreateObject<PodNetDevice>();
  record.node->AddDevice(record.device);
  if (impl_->hosts[host].host) impl_->hosts[host].host->pods().attach(record.device);
  add_interface(record.node, record.device, address.value, prefix_len);
  impl_->pods.push_back(record);
  return impl_->pods.size() - 1;
}

size_t World::pod_count() const { return impl_->pods.size(); }

void World::move_pod(size_t pod, size_t host) {
  if (pod >= impl_->pods.size()) throw std::out_of_range("no pod " + std::to_string(pod));
  impl_->host_record(host);  // throws for an unknown host
  Impl::PodRecord& record = impl_->pods[pod];
  if (auto& from = impl_->hosts[record.host].host) from->pods().detach(record.device);
  record.host = host;
  if (auto& to = impl_->hosts[host].host) to->pods().attach(record.device);
}

size_t World::ping(size_t pod, Ipv4 destination, int count, Time interval) {
  if (pod >= impl_->pods.size()) throw std::out_of_range("no pod " + std::to_string(pod));
  if (count < 1 || interval <= Time::zero()) {
    throw std::invalid_argument("ping: count and interval must be positive");
  }
  const size_t id = impl_->pings.size();
  impl_->pings.emplace_back();
  Impl::PingRecord& record = impl_->pings.back();
  record.stats.sent = count;
  record.app = ns3::CreateObject<ns3::V4Ping>();
  record.app->SetAttribute("Remote", ns3::Ipv4AddressValue(to_ns3(destination)));
  record.app->SetAttribute("Interval", ns3::TimeValue(to_ns3(interval)));
  Impl* impl = impl_.get();
  record.app->TraceConnectWithoutContext("Rtt",
                                         ns3::Callback<void, ns3::Time>([impl, id](ns3::Time rtt) {
                                           impl->pings[id].stats.rtts.push_back(from_ns3(rtt));
                                           impl->check_done();
                                         }));
  // Start now; stop just before the echo after the last, so exactly count go.
  record.app->SetStartTime(ns3::Seconds(0));
  record.app->SetStopTime(to_ns3(interval * count) - ns3::NanoSeconds(1));
  impl_->pods[pod].node->AddApplication(record.app);
  return id;
}

const PingStats& World::ping_stats(size_t ping) const {
  if (ping >= impl_->pings.size()) throw std::out_of_range("no ping " + std::to_string(ping));
  return impl_->pings[ping].stats;
}

Time World::now() const { return from_ns3(ns3::Simulator::Now()); }

void World::run_until(Time t) { impl_->run_to(to_ns3(t)); }

void World::run_for(Time d) { impl_->run_to(ns3::Simulator::Now() + to_ns3(d)); }

bool World::run_until(const std::function<bool()>& done, Time limit) {
  if (done()) return true;
  impl_->done = &done;
  impl_->run_to(to_ns3(limit));
  impl_->done = nullptr;
  return done();
}

uint64_t World::events_executed() const {
  return ns3::Simulator::GetEventCount() - impl_->control_events;
}

}  // namespace loom::sim
