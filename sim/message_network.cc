#include "sim/message_network.h"

#include <algorithm>

#include <ns3/simulator.h>

#include "sim/ns3_host.h"

namespace loom::sim {

namespace {

// What TCP would put on the wire for a payload: 40 bytes of IPv4 and TCP
// header per 1460-byte segment (at least one segment: a SYN, a FIN).
constexpr size_t kSegmentSize = 1460;
constexpr size_t kHeaderBytes = 40;

size_t wire_bytes(size_t payload) {
  const size_t segments = std::max<size_t>(1, (payload + kSegmentSize - 1) / kSegmentSize);
  return payload + segments * kHeaderBytes;
}

// The loss draws get a Random stream of their own, far from the hosts'.
constexpr uint64_t kLossStream = uint64_t{1} << 62;

}  // namespace

MessageNetwork::MessageNetwork(uint64_t seed, PathFinder paths)
    : random_(Random::stream(seed, kLossStream)), paths_(std::move(paths)) {}

void MessageNetwork::add_link(size_t a, size_t b, Ipv4 address_a, Ipv4 address_b,
                              uint64_t bits_per_second, Time delay, double loss) {
  links_.push_back(Link{a, b, bits_per_second, delay, loss, true, {Time::zero(), Time::zero()}});
  hosts_by_address_.emplace(address_a.value, a);
  hosts_by_address_.emplace(address_b.value, b);
  path_cache_.clear();  // a new link may shorten a path
}

std::optional<size_t> MessageNetwork::host_of(Ipv4 address) const {
  auto it = hosts_by_address_.find(address.value);
  if (it == hosts_by_address_.end()) return std::nullopt;
  return it->second;
}

const std::vector<MessageNetwork::Hop>* MessageNetwork::path(size_t from, size_t to) {
  const uint64_t key = uint64_t{from} << 32 | to;
  auto it = path_cache_.find(key);
  if (it != path_cache_.end()) return &it->second;
  std::vector<Hop> hops;
  size_t at = from;
  for (size_t link : paths_(from, to)) {
    const Link& l = links_.at(link);
    hops.push_back(Hop{link, l.a == at ? 0 : 1});
    at = l.a == at ? l.b : l.a;
  }
  if (at != to) return nullptr;  // unreachable
  return &path_cache_.emplace(key, std::move(hops)).first->second;
}

std::optional<MessageNetwork::Transfer> MessageNetwork::send(size_t from, size_t to,
                                                             size_t payload) {
  const auto* hops = path(from, to);
  if (hops == nullptr) return std::nullopt;
  const Time now = from_ns3(ns3::Simulator::Now());
  // Overflows past 2 GB a message; Weave's largest are megabytes.
  const uint64_t bits = uint64_t{wire_bytes(payload)} * 8;
  Transfer transfer{now, now, false};
  double delivered = 1.0;
  Time at = now;
  for (size_t i = 0; i < hops->size(); ++i) {
    Link& link = links_[(*hops)[i].link];
    Time& busy = link.busy_until[(*hops)[i].direction];
    const Time start = std::max(at, busy);
    // Rounded up to the nanosecond, as ns-3's DataRate does.
    const auto ns = (bits * 1'000'000'000 + link.bits_per_second - 1) / link.bits_per_second;
    busy = start + Time(static_cast<int64_t>(ns));
    if (i == 0) transfer.first_hop_done = busy;
    at = busy + link.delay;
    if (!link.up) transfer.lost = true;
    delivered *= 1.0 - link.loss;
  }
  transfer.arrival = at;
  ++transfers_;
  auto group = [&](size_t host) { return host < groups_.size() ? groups_[host] : 0u; };
  if (!groups_.empty() && group(from) != group(to)) transfer.lost = true;
  // One draw per message on a lossy path (none on a clean one, which keeps
  // the draws of a run independent of its clean links).
  if (!transfer.lost && delivered < 1.0) transfer.lost = random_.unit() >= delivered;
  return transfer;
}

Time MessageNetwork::propagation(size_t from, size_t to) {
  Time total = Time::zero();
  if (const auto* hops = path(from, to)) {
    for (const Hop& hop : *hops) total += links_[hop.link].delay;
  }
  return total;
}

void MessageNetwork::detach(size_t host, const MessageStreamTransport* transport) {
  auto it = transports_.find(host);
  if (it != transports_.end() && it->second == transport) transports_.erase(it);
}

MessageStreamTransport* MessageNetwork::transport(size_t host) const {
  auto it = transports_.find(host);
  return it == transports_.end() ? nullptr : it->second;
}

}  // namespace loom::sim
