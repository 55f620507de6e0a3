#include "model/dataplane/mac_cache.h"

#include <algorithm>

namespace loom::dataplane {
namespace {

wire::MacAddress from_key(uint64_t k) {
  wire::MacAddress mac;
  for (int i = 5; i >= 0; --i) {
    mac.bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(k);
    k >>= 8;
  }
  return mac;
}

}  // namespace

uint64_t MacCache::key(const wire::MacAddress& mac) {
  uint64_t k = 0;
  for (uint8_t b : mac.bytes) k = (k << 8) | b;
  return k;
}

MacCache::Learnt MacCache::enter(const wire::MacAddress& mac, PeerName peer, Time now, bool force) {
  auto [it, inserted] = table_.try_emplace(key(mac), Value{peer, now});
  if (inserted) return Learnt{true, std::nullopt};
  Value& v = it->second;
  if (v.peer != peer) {
    if (!force) return Learnt{false, v.peer};
    const PeerName was = v.peer;
    v.peer = peer;
    v.last_seen = now;
    return Learnt{false, was};
  }
  if (now > v.last_seen + max_age_ / 10) v.last_seen = now;
  return Learnt{};
}

std::optional<PeerName> MacCache::lookup(const wire::MacAddress& mac) const {
  auto it = table_.find(key(mac));
  if (it == table_.end()) return std::nullopt;
  return it->second.peer;
}

std::vector<MacCache::Entry> MacCache::expire(Time now) {
  std::vector<Entry> out;
  for (auto it = table_.begin(); it != table_.end();) {
    if (now > it->second.last_seen + max_age_) {
      out.push_back(Entry{from_key(it->first), it->second.peer, it->second.last_seen});
      it = table_.erase(it);
    } else {
      ++it;
    }
  }
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.mac < b.mac; });
  return out;
}

size_t MacCache::remove_peer(PeerName peer) {
  return std::erase_if(table_, [&](const auto& kv) { return kv.second.peer == peer; });
}

std::vector<MacCache::Entry> MacCache::entries() const {
  std::vector<Entry> out;
  out.reserve(table_.size());
  for (const auto& [k, v] : table_) out.push_back(Entry{from_key(k), v.peer, v.last_seen});
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.mac < b.mac; });
  return out;
}

}  // namespace loom::dataplane
