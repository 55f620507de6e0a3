// World: one ns-3 simulation of Loom hosts, links and pods.
//
// The facade that the simulator program and the tests use. It holds no ns-3
// type (ns-3 3.37's headers compile only as C++17; this header is valid C++17
// and C++20), so everything ns-3 lives behind World::Impl in world.cc.
//
// ns-3's Simulator is a process-wide singleton, hence: one World at a time.
// Creating a second while one exists aborts with a message; destroying a World
// resets ns-3's globals so that the next one starts from the same state.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/host.h"

namespace loom::sim {

// One point-to-point link between two hosts.
struct LinkSpec {
  std::string rate = "1Gbps";  // ns-3 DataRate syntax: "10Mbps", "1Gbps", "100kb/s"
  loom::Time delay = std::chrono::milliseconds(1);  // propagation delay, each way
  double loss = 0.0;  // packet error rate on the link, each direction, in [0, 1]
};

// How Host::listen/connect streams are simulated.
enum class StreamFidelity {
  tcp,      // ns-3's TCP: every segment simulated
  message,  // one transfer per write() along the path (docs/backend-sim.md)
};

// Where host log lines go: one line, without newline. Null means stderr.
using LogSink = std::function<void(std::string_view line)>;

struct WorldOptions {
  uint64_t seed = 1;  // drives ns-3's RNG run number and every host's Random
  StreamFidelity streams = StreamFidelity::tcp;
  loom::LogFilter log_filter;  // default warn; see log_filter_from_env()
  LogSink log_sink;
  size_t pod_mtu = 1376;  // MTU of pod devices, reported by Host::bridge().mtu()
};

// LOOM_LOG from the environment ("mesh=debug,*=info"); the default filter
// (warn) when unset; an error naming the variable when malformed.
loom::Result<loom::LogFilter> log_filter_from_env();

// What a pod's ping or UDP echo measured: one round-trip time per echo
// reply received.
struct PingStats {
  int sent = 0;
  std::vector<loom::Time> rtts;
};

// What a pod application (World::onoff, World::bulk_tcp) sent, and what the
// destination pod's sink received from it. For TCP, "packets" are the
// application's writes into its socket and the sink's reads, not segments.
struct AppStats {
  uint64_t packets_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t packets_received = 0;
  uint64_t bytes_received = 0;
  // bulk_tcp: when the sink had received every byte (nullopt until then).
  std::optional<loom::Time> last_byte_at;
};

class World {
 public:
  explicit World(WorldOptions options = {});
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  // A host: an ns-3 node with an IPv4 stack, wrapped as a loom::Host.
  // Its name shows in log lines.
  size_t add_host(std::string name);
  // A point-to-point link with a fresh /30 from 172.16.0.0/12 (a gets .1,
  // b gets .2). A host's address() is its address on its first link.
  // Returns the link's index (0, 1, ... in the order links are added).
  // Throws std::invalid_argument on a bad index, rate or loss.
  size_t link(size_t a, size_t b, const LinkSpec& spec = {});
  size_t link_count() const;
  // Static shortest-path routes between every pair of hosts (BFS over the
  // links, ties to the first link added). Run implicitly before running
  // whenever links changed since the last call.
  void finalize_routes();
  // The links a packet from host a to host b crosses, in order, on the
  // static routes (empty when a == b or b is unreachable).
  std::vector<size_t> path(size_t a, size_t b) const;

  // Throws std::out_of_range for an unknown index, std::logic_error while
  // the host is stopped.
  loom::Host& host(size_t index);
  size_t host_count() const;
  // A host's address on its first link, running or stopped.
  Ipv4 host_address(size_t index) const;

  // --- Faults (docs/backend-sim.md, "Faults"). Bad indices throw
  // std::out_of_range, bad values std::invalid_argument.

  // A down link drops every packet, both ways, that arrives while it is
  // down (in flight or sent later); up again, it carries traffic as before.
  // Routes are not recomputed: a partition is a cut, not a reroute. TCP
  // connections over it see what they would see in reality: retransmissions,
  // then a timeout if the cut lasts (idle ones notice nothing).
  void set_link_up(size_t link, bool up);
  // Packet error rate in [0, 1], each direction, from now on (replaces
  // LinkSpec::loss; a down link stays down).
  void set_link_loss(size_t link, double loss);
  bool link_up(size_t link) const;
  // Partitions by host group: group_of_host[h] is host h's group. From now
  // on no packet whose source and destination hosts (by the IPv4 header's
  // addresses, any interface of theirs) are in different groups gets
  // through: UDP, TCP segments and, at message fidelity, transfers. Hosts in
  // the middle (routers, hubs) forward as usual whatever their group. An
  // empty vector, or every host in one group, heals. Hosts added afterwards
  // are in group 0. Throws std::invalid_argument unless the vector is empty
  // or has one entry per host.
  void set_partition(const std::vector<uint32_t>& group_of_host);
  // A host firewall rule: datagrams arriving for UDP `port` on the host are
  // dropped while blocked (outgoing ones still leave). For the data plane's
  // fallback tests (block 6784 and fastdp falls back to sleeve). Applies to
  // the running incarnation: a restarted host starts unblocked. Throws
  // std::logic_error while the host is stopped.
  void set_udp_port_blocked(size_t host, uint16_t port, bool blocked);

  // Kills the host's process. Destroy the host's engines FIRST (they hold
  // host(i) and cancel into it), then call stop_host. Every TCP connection
  // of the host is reset, as a dying process's kernel resets them: each peer
  // gets a RST and its stream's on_close ("broken") one propagation delay
  // later. Listeners, pending connects, UDP sockets and timers go with it;
  // afterwards the node's stack answers connects with a RST (refused), as a
  // machine whose daemon died does. host(i) throws until start_host.
  // Throws std::logic_error if the host is already stopped.
  void stop_host(size_t host);
  // Starts a stopped host again: a fresh Host on the same node and address,
  // with the same pods, whose Random is a new incarnation (derived from the
  // seed, the index and the number of restarts: a restarted peer draws a new
  // UID, reproducibly). Its store survives unless keep_store is false (a
  // wiped disk). Throws std::logic_error if the host is running.
  void start_host(size_t host, bool keep_store = true);
  bool host_running(size_t host) const;

  // A pod behind host's bridge(): its own ns-3 node and IPv4 stack, one
  // device with address/prefix_len. Its frames reach the host's FramePort
  // receiver; FramePort::send() reaches it by destination MAC (broadcast
  // and multicast reach every pod of the host).
  size_t add_pod(size_t host, loom::Ipv4 address, uint8_t prefix_len);
  // Moves a pod, with its MAC, address and stack, behind another host's
  // bridge(), as a container migrated with its identity (Weave: a MAC move).
  void move_pod(size_t pod, size_t host);
  size_t pod_count() const;
  // Unplugs a pod from its host's bridge for good (a deleted pod: its
  // address may be handed out again). Restarts of the host leave it out.
  void detach_pod(size_t pod);
  // ns-3's V4Ping from a pod: count echoes, interval apart, starting now.
  // Replies arriving within one interval of the last echo are counted.
  // Returns an id for ping_stats().
  size_t ping(size_t pod, loom::Ipv4 destination, int count,
              loom::Time interval = std::chrono::seconds(1));
  const PingStats& ping_stats(size_t ping) const;

  // --- Pod applications, from ns-3's applications module. Destination
  // pods are found by address (the latest attached pod with it); with none,
  // nothing answers and nothing is received. All start now, and may be
  // started while the simulation runs.

  // ns-3's UdpEchoClient from a pod: count datagrams of payload_bytes (at
  // least 4: a sequence number), interval apart, to destination port 7,
  // where the World installs a UdpEchoServer on the destination pod on first
  // use. Every reply is counted, however late. Returns an id for
  // ping_stats() (the same ids as ping()); sent counts datagrams sent so far.
  size_t udp_echo(size_t pod, loom::Ipv4 destination, int count, loom::Time interval,
                  size_t payload_bytes);
  // ns-3's OnOffApplication over UDP, always on: packet_bytes datagrams at
  // rate (ns-3 DataRate syntax) for duration, to destination:port, where the
  // World installs a UDP PacketSink on demand. Returns an id for app_stats().
  size_t onoff(size_t pod, loom::Ipv4 destination, uint16_t port, const std::string& rate,
               size_t packet_bytes, loom::Time duration);
  // ns-3's BulkSendApplication: one TCP connection carrying `bytes` bytes to
  // destination:port, where the World installs a TCP PacketSink on demand.
  // Pods' TCP segments fit the pod MTU. Returns an id for app_stats().
  size_t bulk_tcp(size_t pod, loom::Ipv4 destination, uint16_t port, uint64_t bytes);
  AppStats app_stats(size_t app) const;

  // --- Observing the underlay.

  // Writes one pcap file (link type PPP) per underlay link of the host,
  // `<path_prefix>-<host>-<link>.pcap`, holding every packet the host sends
  // on it and every one it receives (after loss and cuts), from now on,
  // links added later included. Returns the paths. The files are complete
  // once the World is destroyed. Fastdp's VXLAN is on UDP 6784: decode with
  // `tshark -d udp.port==6784,vxlan -r FILE` (docs/backend-sim.md). Throws
  // std::invalid_argument if a file cannot be written, std::logic_error on a
  // second call for the same host.
  std::vector<std::string> enable_pcap(size_t host, const std::string& path_prefix);
  // Packets transmitted on point-to-point links so far, one per hop.
  uint64_t underlay_packets() const;
  // Message-fidelity transfers so far (StreamFidelity::message: each SYN,
  // SYN-ACK, write, FIN and retransmission sent along a path); 0 at tcp.
  uint64_t message_transfers() const;

  loom::Time now() const;
  // Runs the events due up to time t (those already scheduled for t
  // included); afterwards now() == t. A t in the past does nothing.
  void run_until(loom::Time t);
  void run_for(loom::Time d);
  // Runs until done() holds (checked after every callback into engine code
  // and every ping reply) or virtual time reaches limit, or nothing is left
  // to run. Returns done().
  bool run_until(const std::function<bool()>& done, loom::Time limit);
  // Checks pred every `step` of virtual time (for a predicate too costly to
  // check after every callback) until it holds or limit passes; returns the
  // time it first held, or nullopt.
  std::optional<loom::Time> poll_until(const std::function<bool()>& pred, loom::Time limit,
                                       loom::Time step);
  // ns-3 events executed so far, not counting the World's own stop events.
  uint64_t events_executed() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace loom::sim
