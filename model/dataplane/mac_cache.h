// MacCache: which peer owns each MAC address (weave:router/mac_cache.go;
// weave-protocol.md 3.2). Learnt from traffic only: a frame captured from a
// local pod binds its source MAC to us, a frame arriving over the overlay
// binds its source MAC to the peer that captured it.
//
// Entries age out max_age after they were last seen; "last seen" is
// refreshed at most every max_age / 10 (Weave's cheap path), and expire() is
// meant to run every max_age / 10 (the DataPlane's timer does).
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "model/host.h"
#include "model/mesh/peer_name.h"
#include "model/wire/mac.h"

namespace loom::dataplane {

using mesh::PeerName;

class MacCache {
 public:
  struct Learnt {
    bool added = false;  // a MAC we did not know
    std::optional<PeerName>
        conflict;  // add(): bound elsewhere, unchanged; add_forced(): moved from
  };
  struct Entry {
    wire::MacAddress mac;
    PeerName peer;
    Time last_seen{};
  };

  explicit MacCache(Time max_age = std::chrono::minutes(10)) : max_age_(max_age) {}

  // Weave's Add: binds mac to peer unless it is bound to another peer, which
  // is reported as the conflict (and nothing changes).
  Learnt add(const wire::MacAddress& mac, PeerName peer, Time now) {
    return enter(mac, peer, now, false);
  }
  // Weave's AddForced: binds mac to peer; conflict says where it was before.
  Learnt add_forced(const wire::MacAddress& mac, PeerName peer, Time now) {
    return enter(mac, peer, now, true);
  }
  std::optional<PeerName> lookup(const wire::MacAddress& mac) const;

  // Removes entries not seen for max_age; returns them sorted by MAC.
  std::vector<Entry> expire(Time now);
  // Forgets every MAC of peer (Weave: the peer was garbage-collected).
  size_t remove_peer(PeerName peer);

  size_t size() const { return table_.size(); }
  Time max_age() const { return max_age_; }
  // Every entry, sorted by MAC (for status).
  std::vector<Entry> entries() const;

 private:
  struct Value {
    PeerName peer;
    Time last_seen;
  };
  static uint64_t key(const wire::MacAddress& mac);
  Learnt enter(const wire::MacAddress& mac, PeerName peer, Time now, bool force);

  Time max_age_;
  // Only looked up; iteration (expire, entries) is sorted before use.
  std::unordered_map<uint64_t, Value> table_;
};

}  // namespace loom::dataplane
