// Bare ns-3 on a scenario's underlay, for the cost of Loom on top of it.
//
// Builds the underlay `./loom sim` builds for a rack topology (a core
// router, one top-of-rack router per --rack-size hosts, hosts behind them;
// or, with --rack-size 0, every host on one switch), addressed and routed
// exactly as sim::World does (sim/static_routes.h), with plain ns-3: no Loom
// host, engine or pod. Then sends --packets UDP datagrams of --bytes between
// uniformly random pairs of hosts, spread evenly over --seconds of virtual
// time, and reports wall time, peak RSS, ns-3 events and the underlay's hop
// transmissions, counted as World::underlay_packets() counts them (one per
// point-to-point transmission). Run it with the packet count a scenario
// reports for the ratio of Loom's cost to ns-3's own.
//
// Not a Google Benchmark program: `./loom bench` runs it with its (small)
// defaults and it ignores --benchmark_* flags.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <sys/resource.h>

#include <ns3/data-rate.h>
#include <ns3/inet-socket-address.h>
#include <ns3/internet-stack-helper.h>
#include <ns3/ipv4-static-routing-helper.h>
#include <ns3/ipv4-static-routing.h>
#include <ns3/ipv4.h>
#include <ns3/node.h>
#include <ns3/packet.h>
#include <ns3/point-to-point-helper.h>
#include <ns3/rng-seed-manager.h>
#include <ns3/simulator.h>
#include <ns3/socket.h>
#include <ns3/string.h>
#include <ns3/udp-socket-factory.h>

#include "sim/ns3_scheduler.h"
#include "sim/static_routes.h"

namespace {

using loom::sim::link_network;

constexpr uint16_t kPort = 6784;

struct Options {
  size_t hosts = 100;
  size_t rack_size = 25;
  std::string rate = "1Gbps";
  std::string uplink_rate;  // default: rate
  double host_delay_ms = 0.5;
  double uplink_delay_ms = 1.0;
  uint64_t packets = 100000;
  uint32_t bytes = 1000;
  double seconds = 10;
  uint64_t seed = 1;
  std::string json;
};

struct Link {
  size_t a;
  size_t b;
  uint32_t if_a;
  uint32_t if_b;
};

class Underlay {
 public:
  Underlay() {
    stack_.SetIpv6StackInstall(false);
    stack_.SetRoutingHelper(ns3::Ipv4StaticRoutingHelper());
  }

  size_t add_node() {
    auto node = ns3::CreateObject<ns3::Node>();
    stack_.Install(node);
    nodes_.push_back(node);
    return nodes_.size() - 1;
  }

  void link(size_t a, size_t b, const std::string& rate, double delay_ms) {
    ns3::PointToPointHelper p2p;
    p2p.SetDeviceAttribute("DataRate", ns3::StringValue(rate));
    p2p.SetChannelAttribute(
        "Delay", ns3::TimeValue(ns3::MicroSeconds(static_cast<int64_t>(delay_ms * 1000 + 0.5))));
    ns3::NetDeviceContainer devices = p2p.Install(nodes_[a], nodes_[b]);
    const uint32_t network = link_network(links_.size());
    Link l{a, b, add_interface(a, devices.Get(0), network + 1),
           add_interface(b, devices.Get(1), network + 2)};
    for (uint32_t i = 0; i < 2; ++i) {
      devices.Get(i)->TraceConnectWithoutContext(
          "PhyTxBegin", ns3::MakeCallback(&Underlay::count_transmission, this));
    }
    links_.push_back(l);
  }

  void route() {
    std::vector<std::pair<size_t, size_t>> ends;
    for (const Link& l : links_) ends.emplace_back(l.a, l.b);
    const auto routes = loom::sim::static_routes(nodes_.size(), ends);
    const ns3::Ipv4StaticRoutingHelper helper;
    for (size_t s = 0; s < nodes_.size(); ++s) {
      auto routing = helper.GetStaticRouting(nodes_[s]->GetObject<ns3::Ipv4>());
      for (const loom::sim::StaticRoute& r : routes[s]) {
        const Link& hop = links_[r.via];
        const bool s_is_a = hop.a == s;
        const uint32_t gateway = link_network(r.via) + (s_is_a ? 2 : 1);
        routing->AddNetworkRouteTo(ns3::Ipv4Address(r.network), ns3::Ipv4Mask(r.mask),
                                   ns3::Ipv4Address(gateway), s_is_a ? hop.if_a : hop.if_b);
      }
    }
  }

  ns3::Ptr<ns3::Node> node(size_t i) const { return nodes_[i]; }
  uint64_t transmissions() const { return transmissions_; }

 private:
  uint32_t add_interface(size_t node, ns3::Ptr<ns3::NetDevice> device, uint32_t address) {
    auto ipv4 = nodes_[node]->GetObject<ns3::Ipv4>();
    const uint32_t index = ipv4->AddInterface(device);
    ipv4->AddAddress(index, ns3::Ipv4InterfaceAddress(ns3::Ipv4Address(address),
                                                      ns3::Ipv4Mask(loom::sim::kLinkMask)));
    ipv4->SetMetric(index, 1);
    ipv4->SetUp(index);
    return index;
  }
  void count_transmission(ns3::Ptr<const ns3::Packet>) { ++transmissions_; }

  ns3::InternetStackHelper stack_;
  std::vector<ns3::Ptr<ns3::Node>> nodes_;
  std::vector<Link> links_;
  uint64_t transmissions_ = 0;
};

// The datagrams: number k leaves at k * seconds / packets, from and to
// random distinct hosts; each send schedules the next.
class Traffic {
 public:
  Traffic(const Options& o, std::vector<ns3::Ptr<ns3::Socket>> sockets,
          std::vector<ns3::Ipv4Address> addresses)
      : options_(o),
        sockets_(std::move(sockets)),
        addresses_(std::move(addresses)),
        random_(o.seed),
        pick_(0, sockets_.size() - 1) {
    for (auto& socket : sockets_) {
      socket->SetRecvCallback(ns3::MakeCallback(&Traffic::receive, this));
    }
  }
  void start() {
    if (options_.packets > 0) ns3::Simulator::Schedule(ns3::Seconds(0), &Traffic::send, this);
  }
  uint64_t sent() const { return sent_; }
  uint64_t received() const { return received_; }

 private:
  void send() {
    const size_t from = pick_(random_);
    size_t to = pick_(random_);
    while (to == from) to = pick_(random_);
    sockets_[from]->SendTo(ns3::Create<ns3::Packet>(options_.bytes), 0,
                           ns3::InetSocketAddress(addresses_[to], kPort));
    ++sent_;
    if (sent_ < options_.packets) {
      const double next =
          options_.seconds * static_cast<double>(sent_) / static_cast<double>(options_.packets);
      ns3::Simulator::Schedule(ns3::Seconds(next) - ns3::Simulator::Now(), &Traffic::send, this);
    }
  }
  void receive(ns3::Ptr<ns3::Socket> socket) {
    while (socket->Recv()) ++received_;
  }

  const Options& options_;
  std::vector<ns3::Ptr<ns3::Socket>> sockets_;
  std::vector<ns3::Ipv4Address> addresses_;
  std::mt19937_64 random_;
  std::uniform_int_distribution<size_t> pick_;
  uint64_t sent_ = 0;
  uint64_t received_ = 0;
};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"Bare ns-3 on a scenario's rack underlay: random UDP datagrams between hosts"};
  app.add_option("--hosts", o.hosts, "hosts (not counting routers)")->check(CLI::Range(2, 100000));
  app.add_option("--rack-size", o.rack_size, "hosts per top-of-rack router (0: one switch)");
  app.add_option("--rate", o.rate, "host links' rate (ns-3 DataRate)");
  app.add_option("--uplink-rate", o.uplink_rate, "top-of-rack uplinks' rate (default: --rate)");
  app.add_option("--host-delay-ms", o.host_delay_ms, "host links' one-way delay")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--uplink-delay-ms", o.uplink_delay_ms, "uplinks' one-way delay")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--packets", o.packets, "datagrams to send");
  app.add_option("--bytes", o.bytes, "UDP payload per datagram")->check(CLI::Range(1, 65507));
  app.add_option("--seconds", o.seconds, "virtual seconds to spread them over")
      ->check(CLI::PositiveNumber);
  app.add_option("--seed", o.seed, "seed of the host pairs and ns-3's run number");
  app.add_option("--json", o.json, "also write the figures to this file");
  app.allow_extras();  // ./loom bench passes Google Benchmark's flags to every bench_*
  CLI11_PARSE(app, argc, argv);
  for (const std::string& extra : app.remaining()) {
    if (extra.rfind("--benchmark_", 0) != 0) {
      std::cerr << "bench_bare_ns3: unknown argument '" << extra << "' (see --help)\n";
      return 2;
    }
  }
  if (o.uplink_rate.empty()) o.uplink_rate = o.rate;
  for (const std::string* rate : {&o.rate, &o.uplink_rate}) {
    ns3::DataRateValue value;
    if (!value.DeserializeFromString(*rate, ns3::MakeDataRateChecker())) {
      std::cerr << "bench_bare_ns3: bad rate '" << *rate << "' (expected e.g. 1Gbps)\n";
      return 2;
    }
  }

  const auto start = std::chrono::steady_clock::now();
  loom::sim::use_heap_scheduler();  // as sim::World does
  ns3::RngSeedManager::SetSeed(1);
  ns3::RngSeedManager::SetRun(o.seed);

  // The order sim/scenario/runner.cc builds it in: the hub first, then each
  // host, its rack's router (and uplink) when the rack is new, its link.
  Underlay underlay;
  const size_t hub = underlay.add_node();
  std::vector<size_t> hosts;
  std::vector<size_t> racks;
  for (size_t i = 0; i < o.hosts; ++i) {
    const size_t host = underlay.add_node();
    hosts.push_back(host);
    if (o.rack_size == 0) {
      underlay.link(hub, host, o.rate, o.host_delay_ms);
      continue;
    }
    const size_t rack = i / o.rack_size;
    while (racks.size() <= rack) {
      const size_t tor = underlay.add_node();
      underlay.link(hub, tor, o.uplink_rate, o.uplink_delay_ms);
      racks.push_back(tor);
    }
    underlay.link(racks[rack], host, o.rate, o.host_delay_ms);
  }
  underlay.route();

  std::vector<ns3::Ptr<ns3::Socket>> sockets;
  std::vector<ns3::Ipv4Address> addresses;
  for (size_t host : hosts) {
    auto node = underlay.node(host);
    // A host's address is its first link's (World::host_address).
    const ns3::Ipv4Address address = node->GetObject<ns3::Ipv4>()->GetAddress(1, 0).GetLocal();
    auto socket = ns3::Socket::CreateSocket(node, ns3::UdpSocketFactory::GetTypeId());
    socket->Bind(ns3::InetSocketAddress(address, kPort));
    sockets.push_back(socket);
    addresses.push_back(address);
  }
  Traffic traffic(o, std::move(sockets), std::move(addresses));
  traffic.start();
  const double build_seconds = seconds_since(start);

  const auto run_start = std::chrono::steady_clock::now();
  // One virtual second after the last datagram leaves for the stragglers.
  ns3::Simulator::Stop(ns3::Seconds(o.seconds + 1));
  ns3::Simulator::Run();
  const double run_seconds = seconds_since(run_start);
  const uint64_t events = ns3::Simulator::GetEventCount();
  const uint64_t sent = traffic.sent();
  const uint64_t received = traffic.received();
  const uint64_t hops = underlay.transmissions();

  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double peak_rss_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;
  // CPU time as well as wall time: on a shared machine wall time includes
  // waiting for a core.
  const double cpu_seconds =
      static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
      static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  const double wall = seconds_since(start);

  nlohmann::ordered_json out = {
      {"hosts", o.hosts},
      {"rack_size", o.rack_size},
      {"routers", racks.size() + 1},
      {"packets", o.packets},
      {"bytes", o.bytes},
      {"virtual_seconds", o.seconds},
      {"seed", o.seed},
      {"wall_seconds", wall},
      {"build_wall_seconds", build_seconds},
      {"run_wall_seconds", run_seconds},
      {"cpu_seconds", cpu_seconds},
      {"peak_rss_mib", peak_rss_mib},
      {"ns3_events", events},
      {"events_per_second", static_cast<double>(events) / run_seconds},
      {"underlay_packets", hops},
      {"datagrams_sent", sent},
      {"datagrams_received", received},
  };
  std::printf(
      "bare ns-3: %zu hosts, rack size %zu (%zu routers), %llu datagrams of %u bytes over %g s\n"
      "  wall            %.2f s (build %.2f s, run %.2f s), CPU %.2f s\n"
      "  peak RSS        %.1f MiB\n"
      "  ns-3 events     %llu (%.3g per wall second of run)\n"
      "  underlay hops   %llu (one per point-to-point transmission)\n"
      "  delivered       %llu of %llu\n",
      o.hosts, o.rack_size, racks.size() + 1, static_cast<unsigned long long>(o.packets), o.bytes,
      o.seconds, wall, build_seconds, run_seconds, cpu_seconds, peak_rss_mib,
      static_cast<unsigned long long>(events), static_cast<double>(events) / run_seconds,
      static_cast<unsigned long long>(hops), static_cast<unsigned long long>(received),
      static_cast<unsigned long long>(sent));
  ns3::Simulator::Destroy();
  if (!o.json.empty()) {
    std::ofstream file(o.json);
    file << out.dump(2) << '\n';
    if (!file) {
      std::cerr << "bench_bare_ns3: cannot write " << o.json << '\n';
      return 1;
    }
  }
  return 0;
}
