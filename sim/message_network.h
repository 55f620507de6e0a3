// MessageNetwork: the underlay as the message-level stream transport sees it.
//
// One per World at StreamFidelity::message. It mirrors the World's links
// (rate, delay, loss, up) and moves whole messages along the static route
// between two hosts: store-and-forward at each link, serialised at the
// link's rate behind whatever the link is already sending in that direction
// (FIFO, a "busy until" time per link direction), then propagated. Loss is
// the path's packet loss, drawn once per message from a seeded Random.
// docs/backend-sim.md, "Message fidelity", says what is and is not modelled.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "model/host.h"
#include "model/random.h"

namespace loom::sim {

class MessageStreamTransport;

class MessageNetwork {
 public:
  // The links (World indices) from host `from` to host `to`, in order.
  using PathFinder = std::function<std::vector<size_t>(size_t from, size_t to)>;
  MessageNetwork(uint64_t seed, PathFinder paths);

  // World::link: link `index` joins host a (address_a) and host b.
  void add_link(size_t a, size_t b, Ipv4 address_a, Ipv4 address_b, uint64_t bits_per_second,
                Time delay, double loss);
  void set_link_up(size_t link, bool up) { links_.at(link).up = up; }
  void set_link_loss(size_t link, double loss) { links_.at(link).loss = loss; }

  // World::set_partition: transfers between hosts of different groups are
  // lost (empty: no partition; hosts beyond the vector are in group 0).
  void set_partition(std::vector<uint32_t> group_of_host) { groups_ = std::move(group_of_host); }
  // Transfers sent so far (send() calls that found a path).
  uint64_t transfers() const { return transfers_; }

  // The host owning an underlay address.
  std::optional<size_t> host_of(Ipv4 address) const;

  struct Transfer {
    Time first_hop_done;  // its last byte has left the sending host
    Time arrival;         // its last byte has reached the receiving host
    bool lost;            // dropped on the way (loss, or a down link)
  };
  // Sends `payload` bytes (plus TCP/IP headers per 1460-byte segment) from
  // host `from` to host `to` now, reserving each link on the path in turn.
  // nullopt when there is no path.
  std::optional<Transfer> send(size_t from, size_t to, size_t payload);
  // One-way propagation along the path (a RST, which queues behind nothing).
  Time propagation(size_t from, size_t to);

  // Each running host's transport, for connects to find their listener.
  void attach(size_t host, MessageStreamTransport* transport) { transports_[host] = transport; }
  void detach(size_t host, const MessageStreamTransport* transport);
  MessageStreamTransport* transport(size_t host) const;

 private:
  struct Link {
    size_t a;
    size_t b;
    uint64_t bits_per_second;
    Time delay;
    double loss;
    bool up;
    Time busy_until[2];  // per direction: 0 is a -> b
  };
  struct Hop {
    size_t link;
    int direction;
  };
  const std::vector<Hop>* path(size_t from, size_t to);

  Random random_;
  PathFinder paths_;
  std::vector<Link> links_;
  std::map<uint32_t, size_t> hosts_by_address_;
  std::unordered_map<uint64_t, std::vector<Hop>> path_cache_;  // from << 32 | to
  std::map<size_t, MessageStreamTransport*> transports_;
  std::vector<uint32_t> groups_;
  uint64_t transfers_ = 0;
};

}  // namespace loom::sim
