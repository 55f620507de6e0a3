// World over ns-3 (C++17). The only file that touches ns-3's globals.
#include "sim/world.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <map>
#include <queue>
#include <stdexcept>
#include <tuple>
#include <utility>

#include <ns3/address.h>
#include <ns3/bulk-send-application.h>
#include <ns3/config.h>
#include <ns3/data-rate.h>
#include <ns3/double.h>
#include <ns3/error-model.h>
#include <ns3/inet-socket-address.h>
#include <ns3/internet-stack-helper.h>
#include <ns3/ipv4-address-generator.h>
#include <ns3/ipv4-header.h>
#include <ns3/ipv4-list-routing-helper.h>
#include <ns3/ipv4-list-routing.h>
#include <ns3/ipv4-static-routing-helper.h>
#include <ns3/ipv4-static-routing.h>
#include <ns3/ipv4.h>
#include <ns3/mac48-address.h>
#include <ns3/node-container.h>
#include <ns3/node.h>
#include <ns3/onoff-application.h>
#include <ns3/packet-sink.h>
#include <ns3/packet.h>
#include <ns3/point-to-point-helper.h>
#include <ns3/pointer.h>
#include <ns3/ppp-header.h>
#include <ns3/random-variable-stream.h>
#include <ns3/rng-seed-manager.h>
#include <ns3/simulator.h>
#include <ns3/tcp-socket-factory.h>
#include <ns3/udp-echo-client.h>
#include <ns3/udp-echo-server.h>
#include <ns3/udp-socket-factory.h>
#include <ns3/uinteger.h>
#include <ns3/v4ping.h>

#include "sim/message_network.h"
#include "sim/ns3_host.h"
#include "sim/ns3_scheduler.h"
#include "sim/pod_net_device.h"
#include "sim/static_routes.h"
#include "sim/underlay_routing.h"

namespace loom::sim {

namespace {

// ns-3's Simulator is process-wide: at most one World at a time.
bool g_world_alive = false;

constexpr size_t kNone = static_cast<size_t>(-1);
// ns-3's default TCP segment size, restored when a World goes (pods' is
// their MTU less 40 bytes of headers while one exists).
constexpr uint32_t kNs3DefaultSegmentSize = 536;
constexpr double kArpDeadSeconds = 1;  // ns-3's default is 100
constexpr uint16_t kEchoPort = 7;

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

// Which host owns an underlay address, and which group each host is in
// (World::set_partition). Shared by the World and its links' error models.
struct Partition {
  std::vector<std::pair<size_t, size_t>> link_ends;  // per link: (a, b)
  std::vector<uint32_t> group;                       // per host; empty: none

  size_t host_of(uint32_t address) const {
    if ((address & kUnderlayMask) != kUnderlayBase) return kNone;
    const size_t link = (address - kUnderlayBase) / 4;
    if (link >= link_ends.size()) return kNone;
    switch (address & 3) {
      case 1:
        return link_ends[link].first;
      case 2:
        return link_ends[link].second;
      default:
        return kNone;
    }
  }
  uint32_t group_of(size_t host) const { return host < group.size() ? group[host] : 0; }
  // True when a and b are underlay hosts in different groups.
  bool separates(uint32_t a, uint32_t b) const {
    const size_t ha = host_of(a);
    const size_t hb = host_of(b);
    return ha != kNone && hb != kNone && group_of(ha) != group_of(hb);
  }
};

// A point-to-point device's receive error model: the link's loss, its
// down state and the partition, in one model (a device takes one).
class UnderlayErrorModel : public ns3::ErrorModel {
 public:
  static ns3::TypeId GetTypeId() {
    static ns3::TypeId tid = ns3::TypeId("loom::sim::UnderlayErrorModel")
                                 .SetParent<ns3::ErrorModel>()
                                 .SetGroupName("Loom");
    return tid;
  }
  UnderlayErrorModel() : random_(ns3::CreateObject<ns3::UniformRandomVariable>()) {}
  int64_t AssignStreams(int64_t stream) {
    random_->SetStream(stream);
    return 1;
  }
  void set(double loss, bool up) {
    loss_ = loss;
    up_ = up;
  }
  void set_partition(std::shared_ptr<const Partition> partition) {
    partition_ = std::move(partition);
  }

 private:
  bool DoCorrupt(ns3::Ptr<ns3::Packet> packet) override {
    if (!up_) return true;
    if (partition_ && !partition_->group.empty() && crosses_partition(packet)) return true;
    return loss_ > 0 && random_->GetValue() < loss_;
  }
  void DoReset() override {}
  // The packet still has its PPP header here.
  bool crosses_partition(ns3::Ptr<ns3::Packet> packet) const {
    ns3::Ptr<ns3::Packet> copy = packet->Copy();
    ns3::PppHeader ppp;
    copy->RemoveHeader(ppp);
    if (ppp.GetProtocol() != 0x0021) return false;  // not IPv4
    ns3::Ipv4Header ip;
    copy->PeekHeader(ip);
    return partition_->separates(ip.GetSource().Get(), ip.GetDestination().Get());
  }

  ns3::Ptr<ns3::UniformRandomVariable> random_;
  std::shared_ptr<const Partition> partition_;
  double loss_ = 0;
  bool up_ = true;
};

// Pods' TCP segment size: their MTU less IPv4 and TCP headers and the 12
// bytes of the timestamp option ns-3's TCP puts on every segment (without
// them every full segment is fragmented, and a NetworkPolicy with ports
// sees port-less later fragments).
uint32_t pod_segment_size(size_t pod_mtu) {
  return pod_mtu > 576 ? static_cast<uint32_t>(pod_mtu - 52) : kNs3DefaultSegmentSize;
}

uint32_t read_u32(ns3::Ptr<const ns3::Packet> packet) {
  uint8_t b[4] = {0, 0, 0, 0};
  packet->CopyData(b, 4);
  return uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3];
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
    ns3::Ptr<UnderlayRouting> routing;  // its static routes, above its Ipv4StaticRouting
  };
  struct LinkRecord {
    size_t a;
    size_t b;
    uint32_t network;  // a is network+1, b is network+2
    uint32_t if_a;
    uint32_t if_b;
    ns3::Ptr<ns3::NetDevice> device_a;
    ns3::Ptr<ns3::NetDevice> device_b;
    // Receive error models, one per device; made on first need (loss,
    // down, a partition).
    ns3::Ptr<UnderlayErrorModel> errors_a;
    ns3::Ptr<UnderlayErrorModel> errors_b;
    double loss;
    bool up;
  };
  struct PodRecord {
    size_t host;
    ns3::Ptr<ns3::Node> node;
    ns3::Ptr<PodNetDevice> device;
    bool detached = false;  // detach_pod: unplugged for good
    Ipv4 address;
    bool echo_server = false;  // a UdpEchoServer on port 7
  };
  struct PingRecord {
    PingStats stats;
    ns3::Ptr<ns3::Application> app;
    std::vector<bool> answered;  // udp_echo: per sequence number
    std::vector<Time> sent_at;   // udp_echo: per sequence number
  };
  struct AppRecord {
    AppStats stats;
    ns3::Ptr<ns3::Application> app;
    Ipv4 source;         // the sending pod's address
    uint64_t bytes = 0;  // bulk_tcp: how many
  };
  // A PacketSink on (pod, port, tcp), and the apps sending to it.
  struct SinkRecord {
    ns3::Ptr<ns3::PacketSink> sink;
    std::vector<size_t> apps;
    std::map<std::pair<uint32_t, uint16_t>, size_t> app_of_source;  // (address, port)
  };

  explicit Impl(WorldOptions world_options)
      : options(std::move(world_options)), partition(std::make_shared<Partition>()) {
    stack.SetIpv6StackInstall(false);
    stack.SetRoutingHelper(ns3::Ipv4StaticRoutingHelper());
    // Hosts: an UnderlayRouting (added by add_host) above the static
    // routing, which keeps the interface routes.
    host_stack.SetIpv6StackInstall(false);
    ns3::Ipv4ListRoutingHelper list;
    list.Add(ns3::Ipv4StaticRoutingHelper(), 0);
    host_stack.SetRoutingHelper(list);
    if (options.streams == StreamFidelity::message) {
      messages = std::make_unique<MessageNetwork>(
          options.seed, [this](size_t from, size_t to) { return path(from, to); });
    }
  }

  // Breadth-first from a, as finalize_routes() goes (ties to the link
  // added first): the link each host is reached by. Kept per source until
  // a link is added: message fidelity asks for a path per new pair of
  // hosts, and a thousand peers dial each other.
  const std::vector<size_t>& tree(size_t a) const {
    if (trees.size() < hosts.size()) trees.resize(hosts.size());
    std::vector<size_t>& via = trees[a];
    if (via.size() == hosts.size()) return via;
    via.assign(hosts.size(), kNone);
    std::queue<size_t> frontier;
    frontier.push(a);
    while (!frontier.empty()) {
      const size_t u = frontier.front();
      frontier.pop();
      for (const auto& [link, v] : hosts[u].adjacency) {
        if (v == a || via[v] != kNone) continue;
        via[v] = link;
        frontier.push(v);
      }
    }
    return via;
  }
  mutable std::vector<std::vector<size_t>> trees;  // cleared when a link is added

  // The links from a to b along tree(a).
  std::vector<size_t> path(size_t a, size_t b) const {
    std::vector<size_t> out;
    if (a == b) return out;
    const std::vector<size_t>& via = tree(a);
    if (via[b] == kNone) return out;
    for (size_t at = b; at != a;
         at = links[via[at]].a == at ? links[via[at]].b : links[via[at]].a) {
      out.push_back(via[at]);
    }
    std::reverse(out.begin(), out.end());
    return out;
  }

  ns3::Ptr<ns3::Node> new_node(bool underlay_host = false) {
    auto node = ns3::CreateObject<ns3::Node>();
    (underlay_host ? host_stack : stack).Install(node);
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
      if (pod.host == index && !pod.detached) record.host->pods().attach(pod.device);
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

  ns3::Ptr<UnderlayErrorModel> new_error_model(ns3::Ptr<ns3::NetDevice> device) {
    auto errors = ns3::CreateObject<UnderlayErrorModel>();
    next_stream += errors->AssignStreams(next_stream);
    errors->set_partition(partition);
    device->SetAttribute("ReceiveErrorModel", ns3::PointerValue(errors));
    return errors;
  }

  // Puts a link's loss and up/down state into its devices' error models.
  void apply_faults(LinkRecord& link) {
    if (!link.errors_a) {
      if (link.up && link.loss == 0 && partition->group.empty()) return;  // never needed one
      link.errors_a = new_error_model(link.device_a);
      link.errors_b = new_error_model(link.device_b);
    }
    for (const auto& errors : {link.errors_a, link.errors_b}) errors->set(link.loss, link.up);
  }

  // The latest attached pod with this address (kNone if none).
  size_t pod_at(Ipv4 address) const {
    for (size_t i = pods.size(); i-- > 0;) {
      if (!pods[i].detached && pods[i].address == address) return i;
    }
    return kNone;
  }

  PodRecord& pod_record(size_t index) {
    if (index >= pods.size()) throw std::out_of_range("no pod " + std::to_string(index));
    return pods[index];
  }

  // Starts an application on a pod's node now.
  static void start(ns3::Ptr<ns3::Node> node, ns3::Ptr<ns3::Application> app,
                    ns3::Time stop = ns3::Time()) {
    app->SetStartTime(ns3::Seconds(0));
    if (!stop.IsZero()) app->SetStopTime(stop);
    node->AddApplication(app);
  }

  // The sink on destination:port (tcp or UDP) that app `id` sends to,
  // installed on first use; none when no pod has the address.
  void attach_to_sink(size_t id, Ipv4 destination, uint16_t port, bool tcp);
  void sink_received(SinkRecord& sink, ns3::Ptr<const ns3::Packet> packet,
                     const ns3::Address& from);

  void enable_pcap_on(size_t host, size_t link);

  WorldOptions options;
  ns3::InternetStackHelper stack;       // pods
  ns3::InternetStackHelper host_stack;  // underlay hosts
  int64_t next_stream = 0;
  std::vector<HostRecord> hosts;
  std::vector<LinkRecord> links;
  std::vector<PodRecord> pods;
  std::deque<PingRecord> pings;  // deque: ping_stats() references stay valid
  std::deque<AppRecord> apps;
  std::map<std::tuple<size_t, uint16_t, bool>, SinkRecord> sinks;  // (pod, port, tcp)
  std::map<size_t, std::string> pcap_prefix;                       // by host
  std::shared_ptr<Partition> partition;
  uint64_t underlay_tx = 0;  // PhyTxBegin on every point-to-point device
  bool routes_dirty = false;
  const std::function<bool()>* done = nullptr;
  uint64_t control_events = 0;
  // The underlay as StreamFidelity::message sees it (null at tcp).
  std::unique_ptr<MessageNetwork> messages;
};

// Static shortest-path routes (sim/static_routes.h), installed in each
// host's UnderlayRouting (replacing an earlier call's); they answer as they
// would after its interface routes in its Ipv4StaticRouting.
void World::Impl::finalize_routes() {
  routes_dirty = false;
  std::vector<std::pair<size_t, size_t>> ends;
  ends.reserve(links.size());
  for (const LinkRecord& l : links) ends.emplace_back(l.a, l.b);
  const auto routes = static_routes(hosts.size(), ends);
  for (size_t s = 0; s < hosts.size(); ++s) {
    std::vector<UnderlayRouting::Route> installed;
    installed.reserve(routes[s].size());
    for (const StaticRoute& route : routes[s]) {
      const LinkRecord& hop = links[route.via];
      const bool s_is_a = hop.a == s;
      const uint32_t gateway = hop.network + (s_is_a ? 2 : 1);
      installed.push_back(
          UnderlayRouting::Route{route.network, route.mask, gateway, s_is_a ? hop.if_a : hop.if_b});
    }
    hosts[s].routing->set_routes(installed);
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
  use_heap_scheduler();
  ns3::RngSeedManager::SetSeed(1);
  ns3::RngSeedManager::SetRun(options.seed);
  // Pods' TCP (bulk_tcp): segments that fit the pod MTU. Hosts' streams set
  // their own (tcp_stream_transport.cc).
  ns3::Config::SetDefault("ns3::TcpSocket::SegmentSize",
                          ns3::UintegerValue(pod_segment_size(options.pod_mtu)));
  // A neighbour that did not answer ARP: ns-3 keeps the entry dead for
  // 100 s and drops everything for it meanwhile; Linux resolves again on
  // the next packet. A pod that pinged across a partition would otherwise
  // stay deaf for 100 s after the heal.
  ns3::Config::SetDefault("ns3::ArpCache::DeadTimeout",
                          ns3::TimeValue(ns3::Seconds(kArpDeadSeconds)));
  impl_ = std::make_unique<Impl>(std::move(options));
}

World::~World() {
  // Hosts first (they cancel their timers and drop their sockets), then
  // ns-3's simulation; no event runs in between.
  for (auto& record : impl_->hosts) record.host.reset();
  impl_.reset();
  ns3::Simulator::Destroy();
  reset_ns3_globals();
  ns3::Config::SetDefault("ns3::TcpSocket::SegmentSize",
                          ns3::UintegerValue(kNs3DefaultSegmentSize));
  ns3::Config::SetDefault("ns3::ArpCache::DeadTimeout", ns3::TimeValue(ns3::Seconds(100)));
  g_world_alive = false;
}

size_t World::add_host(std::string name) {
  Impl::HostRecord record;
  record.name = std::move(name);
  record.node = impl_->new_node(/*underlay_host=*/true);
  {
    auto list = ns3::DynamicCast<ns3::Ipv4ListRouting>(
        record.node->GetObject<ns3::Ipv4>()->GetRoutingProtocol());
    int16_t priority = 0;
    auto below = ns3::DynamicCast<ns3::Ipv4StaticRouting>(list->GetRoutingProtocol(0, priority));
    record.routing = ns3::CreateObject<UnderlayRouting>(below);
    list->AddRoutingProtocol(record.routing, 10);
  }
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
  if (impl_->links.size() >= kMaxUnderlayLinks) throw std::invalid_argument("link: too many links");

  ns3::PointToPointHelper p2p;
  p2p.SetDeviceAttribute("DataRate", rate);
  p2p.SetChannelAttribute("Delay", ns3::TimeValue(to_ns3(spec.delay)));
  ns3::NetDeviceContainer devices = p2p.Install(hosts[a].node, hosts[b].node);
  // No TrafficControlHelper: without a root queue disc the device's own
  // DropTail queue is the only one (FqCoDel is 5x slower).
  Impl::LinkRecord record{};
  record.a = a;
  record.b = b;
  record.network = link_network(impl_->links.size());
  record.device_a = devices.Get(0);
  record.device_b = devices.Get(1);
  record.loss = spec.loss;
  record.up = true;
  impl_->partition->link_ends.emplace_back(a, b);
  impl_->apply_faults(record);
  Impl* impl = impl_.get();
  for (const auto& device : {record.device_a, record.device_b}) {
    device->TraceConnectWithoutContext(
        "PhyTxBegin", ns3::Callback<void, ns3::Ptr<const ns3::Packet>>(
                          [impl](ns3::Ptr<const ns3::Packet>) { ++impl->underlay_tx; }));
  }
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
  impl_->trees.clear();
  for (size_t end : {a, b}) {
    if (impl_->pcap_prefix.count(end) != 0) impl_->enable_pcap_on(end, index);
  }
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
  record.address = address;
  impl_->pods.push_back(record);
  return impl_->pods.size() - 1;
}

size_t World::pod_count() const { return impl_->pods.size(); }

void World::detach_pod(size_t pod) {
  if (pod >= impl_->pods.size()) throw std::out_of_range("no pod " + std::to_string(pod));
  Impl::PodRecord& record = impl_->pods[pod];
  if (record.detached) return;
  if (auto& from = impl_->hosts[record.host].host) from->pods().detach(record.device);
  record.detached = true;
}

Ipv4 World::host_address(size_t index) const {
  if (index >= impl_->hosts.size()) throw std::out_of_range("no host " + std::to_string(index));
  return impl_->hosts[index].address;
}

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
  auto app = ns3::CreateObject<ns3::V4Ping>();
  record.app = app;
  app->SetAttribute("Remote", ns3::Ipv4AddressValue(to_ns3(destination)));
  app->SetAttribute("Interval", ns3::TimeValue(to_ns3(interval)));
  Impl* impl = impl_.get();
  app->TraceConnectWithoutContext("Rtt", ns3::Callback<void, ns3::Time>([impl, id](ns3::Time rtt) {
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

size_t World::udp_echo(size_t pod, Ipv4 destination, int count, Time interval,
                       size_t payload_bytes) {
  Impl::PodRecord& source = impl_->pod_record(pod);
  if (count < 1 || interval <= Time::zero()) {
    throw std::invalid_argument("udp_echo: count and interval must be positive");
  }
  if (payload_bytes < 4 || payload_bytes > 65507) {
    throw std::invalid_argument("udp_echo: payload_bytes must be in [4, 65507] (got " +
                                std::to_string(payload_bytes) + ")");
  }
  if (const size_t target = impl_->pod_at(destination);
      target != kNone && !impl_->pods[target].echo_server) {
    auto server = ns3::CreateObject<ns3::UdpEchoServer>();
    server->SetAttribute("Port", ns3::UintegerValue(kEchoPort));
    Impl::start(impl_->pods[target].node, server);
    impl_->pods[target].echo_server = true;
  }
  const size_t id = impl_->pings.size();
  impl_->pings.emplace_back();
  Impl::PingRecord& record = impl_->pings.back();
  record.answered.assign(static_cast<size_t>(count), false);
  record.sent_at.assign(static_cast<size_t>(count), Time::zero());
  auto client = ns3::CreateObject<ns3::UdpEchoClient>();
  record.app = client;
  client->SetAttribute("MaxPackets", ns3::UintegerValue(static_cast<uint32_t>(count)));
  client->SetAttribute("Interval", ns3::TimeValue(to_ns3(interval)));
  client->SetRemote(to_ns3(destination), kEchoPort);
  // Each datagram starts with its sequence number, so that a reply finds
  // its request even after a loss; the Tx trace sets the next one's.
  std::vector<uint8_t> fill(payload_bytes, 0);
  const auto size = static_cast<uint32_t>(payload_bytes);
  client->SetFill(fill.data(), size, size);
  Impl* impl = impl_.get();
  ns3::UdpEchoClient* raw = ns3::PeekPointer(client);
  client->TraceConnectWithoutContext(
      "Tx", ns3::Callback<void, ns3::Ptr<const ns3::Packet>>(
                [impl, id, raw, fill, size](ns3::Ptr<const ns3::Packet> packet) mutable {
                  Impl::PingRecord& r = impl->pings[id];
                  const uint32_t seq = read_u32(packet);
                  if (seq < r.sent_at.size()) r.sent_at[seq] = from_ns3(ns3::Simulator::Now());
                  ++r.stats.sent;
                  const uint32_t next = seq + 1;
                  fill[0] = static_cast<uint8_t>(next >> 24);
                  fill[1] = static_cast<uint8_t>(next >> 16);
                  fill[2] = static_cast<uint8_t>(next >> 8);
                  fill[3] = static_cast<uint8_t>(next);
                  raw->SetFill(fill.data(), size, size);
                }));
  client->TraceConnectWithoutContext(
      "Rx", ns3::Callback<void, ns3::Ptr<const ns3::Packet>>(
                [impl, id](ns3::Ptr<const ns3::Packet> packet) {
                  Impl::PingRecord& r = impl->pings[id];
                  const uint32_t seq = read_u32(packet);
                  if (seq >= r.answered.size() || r.answered[seq]) return;
                  r.answered[seq] = true;
                  r.stats.rtts.push_back(from_ns3(ns3::Simulator::Now()) - r.sent_at[seq]);
                  impl->check_done();
                }));
  Impl::start(source.node, client);
  return id;
}

void World::Impl::attach_to_sink(size_t id, Ipv4 destination, uint16_t port, bool tcp) {
  const size_t target = pod_at(destination);
  if (target == kNone) return;
  auto [it, made] = sinks.try_emplace(std::make_tuple(target, port, tcp));
  SinkRecord& sink = it->second;
  sink.apps.push_back(id);
  if (!made) return;
  sink.sink = ns3::CreateObject<ns3::PacketSink>();
  sink.sink->SetAttribute("Protocol", ns3::TypeIdValue(tcp ? ns3::TcpSocketFactory::GetTypeId()
                                                           : ns3::UdpSocketFactory::GetTypeId()));
  sink.sink->SetAttribute(
      "Local", ns3::AddressValue(ns3::InetSocketAddress(ns3::Ipv4Address::GetAny(), port)));
  SinkRecord* raw = &sink;  // std::map: stable
  sink.sink->TraceConnectWithoutContext(
      "Rx", ns3::Callback<void, ns3::Ptr<const ns3::Packet>, const ns3::Address&>(
                [this, raw](ns3::Ptr<const ns3::Packet> packet, const ns3::Address& from) {
                  sink_received(*raw, packet, from);
                }));
  start(pods[target].node, sink.sink);
}

void World::Impl::sink_received(SinkRecord& sink, ns3::Ptr<const ns3::Packet> packet,
                                const ns3::Address& from) {
  if (!ns3::InetSocketAddress::IsMatchingType(from)) return;
  const auto source = ns3::InetSocketAddress::ConvertFrom(from);
  const auto key = std::make_pair(source.GetIpv4().Get(), source.GetPort());
  auto it = sink.app_of_source.find(key);
  if (it == sink.app_of_source.end()) {
    // First data from this source: which of the sink's apps has that port?
    for (size_t id : sink.apps) {
      if (apps[id].source.value != key.first) continue;
      ns3::Ptr<ns3::Socket> socket;
      if (auto onoff = ns3::DynamicCast<ns3::OnOffApplication>(apps[id].app)) {
        socket = onoff->GetSocket();
      } else if (auto bulk = ns3::DynamicCast<ns3::BulkSendApplication>(apps[id].app)) {
        socket = bulk->GetSocket();
      }
      ns3::Address local;
      if (!socket || socket->GetSockName(local) != 0) continue;
      if (ns3::InetSocketAddress::ConvertFrom(local).GetPort() != key.second) continue;
      it = sink.app_of_source.emplace(key, id).first;
      break;
    }
    if (it == sink.app_of_source.end()) return;  // not one of ours
  }
  AppRecord& app = apps[it->second];
  ++app.stats.packets_received;
  app.stats.bytes_received += packet->GetSize();
  if (app.bytes != 0 && !app.stats.last_byte_at && app.stats.bytes_received >= app.bytes) {
    app.stats.last_byte_at = from_ns3(ns3::Simulator::Now());
  }
  check_done();
}

size_t World::onoff(size_t pod, Ipv4 destination, uint16_t port, const std::string& rate,
                    size_t packet_bytes, Time duration) {
  Impl::PodRecord& source = impl_->pod_record(pod);
  ns3::DataRateValue data_rate;
  if (rate.empty() || rate.find_first_of(" \t\n") != std::string::npos ||
      !data_rate.DeserializeFromString(rate, ns3::MakeDataRateChecker()) ||
      data_rate.Get().GetBitRate() == 0) {
    throw std::invalid_argument("onoff: bad rate '" + rate + "' (expected e.g. 10Mbps)");
  }
  if (packet_bytes < 1 || packet_bytes > 65507) {
    throw std::invalid_argument("onoff: packet_bytes must be in [1, 65507]");
  }
  if (duration <= Time::zero()) throw std::invalid_argument("onoff: duration must be positive");
  const size_t id = impl_->apps.size();
  impl_->apps.emplace_back();
  Impl::AppRecord& record = impl_->apps.back();
  record.source = source.address;
  auto app = ns3::CreateObject<ns3::OnOffApplication>();
  record.app = app;
  app->SetAttribute("Protocol", ns3::TypeIdValue(ns3::UdpSocketFactory::GetTypeId()));
  app->SetAttribute("Remote", ns3::AddressValue(ns3::InetSocketAddress(to_ns3(destination), port)));
  app->SetAttribute("DataRate", data_rate);
  app->SetAttribute("PacketSize", ns3::UintegerValue(static_cast<uint32_t>(packet_bytes)));
  // Always on: on for longer than the app runs, never off.
  auto on = ns3::CreateObject<ns3::ConstantRandomVariable>();
  on->SetAttribute("Constant", ns3::DoubleValue(to_ns3(duration).GetSeconds() + 1));
  auto off = ns3::CreateObject<ns3::ConstantRandomVariable>();
  off->SetAttribute("Constant", ns3::DoubleValue(0));
  app->SetAttribute("OnTime", ns3::PointerValue(on));
  app->SetAttribute("OffTime", ns3::PointerValue(off));
  Impl* impl = impl_.get();
  app->TraceConnectWithoutContext("Tx", ns3::Callback<void, ns3::Ptr<const ns3::Packet>>(
                                            [impl, id](ns3::Ptr<const ns3::Packet> p) {
                                              ++impl->apps[id].stats.packets_sent;
                                              impl->apps[id].stats.bytes_sent += p->GetSize();
                                            }));
  impl_->attach_to_sink(id, destination, port, false);
  Impl::start(source.node, app, to_ns3(duration));
  return id;
}

size_t World::bulk_tcp(size_t pod, Ipv4 destination, uint16_t port, uint64_t bytes) {
  Impl::PodRecord& source = impl_->pod_record(pod);
  if (bytes == 0) throw std::invalid_argument("bulk_tcp: bytes must be positive");
  const size_t id = impl_->apps.size();
  impl_->apps.emplace_back();
  Impl::AppRecord& record = impl_->apps.back();
  record.source = source.address;
  record.bytes = bytes;
  auto app = ns3::CreateObject<ns3::BulkSendApplication>();
  record.app = app;
  app->SetAttribute("Protocol", ns3::TypeIdValue(ns3::TcpSocketFactory::GetTypeId()));
  app->SetAttribute("Remote", ns3::AddressValue(ns3::InetSocketAddress(to_ns3(destination), port)));
  app->SetAttribute("MaxBytes", ns3::UintegerValue(bytes));
  app->SetAttribute("SendSize", ns3::UintegerValue(pod_segment_size(impl_->options.pod_mtu)));
  Impl* impl = impl_.get();
  app->TraceConnectWithoutContext("Tx", ns3::Callback<void, ns3::Ptr<const ns3::Packet>>(
                                            [impl, id](ns3::Ptr<const ns3::Packet> p) {
                                              ++impl->apps[id].stats.packets_sent;
                                              impl->apps[id].stats.bytes_sent += p->GetSize();
                                            }));
  impl_->attach_to_sink(id, destination, port, true);
  Impl::start(source.node, app);
  return id;
}

AppStats World::app_stats(size_t app) const {
  if (app >= impl_->apps.size()) throw std::out_of_range("no app " + std::to_string(app));
  return impl_->apps[app].stats;
}

void World::set_partition(const std::vector<uint32_t>& group_of_host) {
  if (!group_of_host.empty() && group_of_host.size() != impl_->hosts.size()) {
    throw std::invalid_argument("set_partition: " + std::to_string(group_of_host.size()) +
                                " groups for " + std::to_string(impl_->hosts.size()) +
                                " hosts (give one per host, or none to heal)");
  }
  std::vector<uint32_t> groups = group_of_host;
  const bool one_group =
      std::all_of(groups.begin(), groups.end(), [&](uint32_t g) { return g == groups.front(); });
  if (one_group) groups.clear();
  impl_->partition->group = groups;
  for (auto& link : impl_->links) impl_->apply_faults(link);
  if (impl_->messages) impl_->messages->set_partition(std::move(groups));
}

void World::Impl::enable_pcap_on(size_t host, size_t link) {
  const LinkRecord& record = links[link];
  const std::string path =
      pcap_prefix.at(host) + "-" + std::to_string(host) + "-" + std::to_string(link) + ".pcap";
  ns3::PointToPointHelper helper;
  helper.EnablePcap(path, record.a == host ? record.device_a : record.device_b, false, true);
}

std::vector<std::string> World::enable_pcap(size_t host, const std::string& path_prefix) {
  impl_->host_record(host);  // throws for an unknown host
  if (impl_->pcap_prefix.count(host) != 0) {
    throw std::logic_error("enable_pcap: already enabled for host " + std::to_string(host));
  }
  if (path_prefix.empty()) throw std::invalid_argument("enable_pcap: empty path prefix");
  std::vector<std::pair<size_t, std::string>> files;
  for (const auto& [link, neighbour] : impl_->hosts[host].adjacency) {
    (void)neighbour;
    files.emplace_back(
        link, path_prefix + "-" + std::to_string(host) + "-" + std::to_string(link) + ".pcap");
  }
  // ns-3 aborts the process on a file it cannot open: check first.
  const std::string probe = path_prefix + "-" + std::to_string(host) + "-probe.pcap";
  if (!std::ofstream(probe, std::ios::binary)) {
    throw std::invalid_argument("enable_pcap: cannot write " + probe);
  }
  std::remove(probe.c_str());
  impl_->pcap_prefix[host] = path_prefix;
  std::vector<std::string> paths;
  for (const auto& [link, path] : files) {
    impl_->enable_pcap_on(host, link);
    paths.push_back(path);
  }
  return paths;
}

uint64_t World::underlay_packets() const { return impl_->underlay_tx; }

uint64_t World::message_transfers() const {
  return impl_->messages ? impl_->messages->transfers() : 0;
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

std::optional<Time> World::poll_until(const std::function<bool()>& pred, Time limit, Time step) {
  while (now() <= limit) {
    if (pred()) return now();
    run_for(step);
  }
  return std::nullopt;
}

uint64_t World::events_executed() const {
  return ns3::Simulator::GetEventCount() - impl_->control_events;
}

}  // namespace loom::sim
