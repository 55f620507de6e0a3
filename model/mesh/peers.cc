#include "model/mesh/peers.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace loom::mesh {
namespace {

constexpr size_t kMaxNickname = 255;
constexpr uint64_t kHashMultiplier = 0x9E3779B97F4A7C15ULL;

std::string cut_nickname(std::string_view nickname) {
  return std::string(nickname.substr(0, std::min(nickname.size(), kMaxNickname)));
}

bool by_remote(const PeerConnection& c, PeerName name) { return c.remote < name; }

// splitmix64's finaliser.
uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

}  // namespace

const PeerConnection* Peer::connection(PeerName remote) const {
  auto it = std::lower_bound(connections.begin(), connections.end(), remote, by_remote);
  return it != connections.end() && it->remote == remote ? &*it : nullptr;
}

PeerNameSet merge_names(const PeerNameSet& a, const PeerNameSet& b) {
  PeerNameSet out;
  out.reserve(a.size() + b.size());
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

Peers::Peers(PeerName ourselves, std::string nickname, PeerUID uid, ShortID short_id,
             bool has_short_id)
    : ourselves_(ourselves) {
  assert(!ourselves.is_unknown());
  Peer self;
  self.name = ourselves;
  self.nickname = cut_nickname(nickname);
  self.uid = uid;
  self.short_id = short_id;
  self.has_short_id = has_short_id;
  peers_.push_back(std::move(self));
  admit(peers_.back());
  rebuild_index();
}

uint64_t Peers::summary_hash(const Peer& p) {
  const uint64_t id = uint64_t{p.short_id} | (p.has_short_id ? uint64_t{1} << 16 : 0);
  return mix(p.name.value ^ mix(p.uid ^ mix(p.version ^ mix(id))));
}

void Peers::bump_local_version() {
  Peer& self = peers_[local_index()];
  retire(self);
  self.version++;
  admit(self);
}

void Peers::rebuild_index() {
  size_t capacity = 16;
  slot_bits_ = 4;
  while (capacity < peers_.size() * 2) {
    capacity *= 2;
    ++slot_bits_;
  }
  slots_.assign(capacity, 0);
  slot_index_.assign(capacity, 0);
  for (size_t i = 0; i < peers_.size(); ++i) {
    const uint64_t key = peers_[i].name.value + 1;
    size_t s = static_cast<size_t>((key * kHashMultiplier) >> (64 - slot_bits_));
    while (slots_[s] != 0) s = (s + 1) & (capacity - 1);
    slots_[s] = key;
    slot_index_[s] = static_cast<uint32_t>(i);
    if (peers_[i].name == ourselves_) local_ = i;
  }
}

size_t Peers::index_of(PeerName name) const {
  const uint64_t key = name.value + 1;
  const size_t mask = slots_.size() - 1;
  size_t s = static_cast<size_t>((key * kHashMultiplier) >> (64 - slot_bits_));
  while (slots_[s] != 0) {
    if (slots_[s] == key) return slot_index_[s];
    s = (s + 1) & mask;
  }
  return npos;
}

const Peer* Peers::find(PeerName name) const {
  const size_t i = index_of(name);
  return i == npos ? nullptr : &peers_[i];
}

Result<MergeResult> Peers::merge(ByteView update) {
  auto view = TopologyUpdateView::decode(update);
  if (!view) return view.error();
  return merge(*view);
}

Result<MergeResult> Peers::merge(const TopologyUpdateView& update) {
  MergeResult result;
  // Resolve each interned name once: index in peers_, or npos.
  std::vector<size_t> resolved(update.name_count());
  for (size_t i = 0; i < resolved.size(); ++i) resolved[i] = index_of(update.name(i));
  const size_t known = peers_.size();

  auto add_peer = [&](PeerName name) {
    Peer p;
    p.name = name;
    peers_.push_back(std::move(p));
    admit(peers_.back());
    maybe_garbage_ = true;  // unreachable unless a connection leads to it
    return peers_.size() - 1;
  };
  // Replaces a peer's connections with a record's, making placeholders for
  // remotes we have never heard of.
  auto take_connections = [&](size_t record, size_t index) {
    std::vector<PeerConnection> connections;
    connections.reserve(update.connection_count(record));
    update.for_each_connection(record, [&](size_t name_index, const PeerConnection& c) {
      if (resolved[name_index] == npos) resolved[name_index] = add_peer(c.remote);
      connections.push_back(c);
    });
    // Both lists are sorted by remote: did any old connection go?
    const std::vector<PeerConnection>& old = peers_[index].connections;
    for (size_t o = 0, n = 0; o < old.size() && !maybe_garbage_; ++o) {
      while (n < connections.size() && connections[n].remote < old[o].remote) ++n;
      if (n == connections.size() || connections[n].remote != old[o].remote) maybe_garbage_ = true;
    }
    peers_[index].connections = std::move(connections);
  };

  result.received.reserve(update.record_count());
  for (size_t r = 0; r < update.record_count(); ++r) {
    const size_t name_index = update.record_name_index(r);
    const PeerSummary s = update.summary(r);
    result.received.push_back(s.name);
    size_t index = resolved[name_index];
    if (index == local_) {
      // An old incarnation of us: outbid it so our current state wins.
      Peer& self = peers_[local_];
      if (s.uid != self.uid && s.version >= self.version) {
        retire(self);
        self.version = s.version + 1;
        admit(self);
        result.ourselves_bumped = true;
      }
      continue;
    }
    if (index == npos) {
      index = resolved[name_index] = add_peer(s.name);
    } else {
      const Peer& old = peers_[index];
      const bool newer =
          s.version > old.version ||
          (s.version == old.version &&
           (s.uid > old.uid || (s.uid == old.uid && s.has_short_id && !old.has_short_id)));
      if (!newer) continue;
    }
    Peer& p = peers_[index];
    if (p.has_short_id != s.has_short_id || (s.has_short_id && p.short_id != s.short_id)) {
      result.short_ids_changed = true;
    }
    retire(p);
    p.version = s.version;
    p.uid = s.uid;
    p.nickname.assign(s.nickname);
    p.short_id = s.short_id;
    p.has_short_id = s.has_short_id;
    admit(p);
    take_connections(r, index);
    result.changed.push_back(s.name);
  }
  if (peers_.size() != known) {
    std::sort(peers_.begin(), peers_.end(),
              [](const Peer& a, const Peer& b) { return a.name < b.name; });
    rebuild_index();
  }
  for (PeerNameSet* set : {&result.received, &result.changed}) {
    std::sort(set->begin(), set->end());
    set->erase(std::unique(set->begin(), set->end()), set->end());
  }

  // Weave GCs inside applyUpdate; what was removed is not news.
  const size_t short_ids_before = static_cast<size_t>(
      std::count_if(peers_.begin(), peers_.end(), [](const Peer& p) { return p.has_short_id; }));
  result.removed = garbage_collect();
  if (!result.removed.empty()) {
    PeerNameSet kept;
    std::set_difference(result.changed.begin(), result.changed.end(), result.removed.begin(),
                        result.removed.end(), std::back_inserter(kept));
    result.changed = std::move(kept);
    const size_t short_ids_after = static_cast<size_t>(
        std::count_if(peers_.begin(), peers_.end(), [](const Peer& p) { return p.has_short_id; }));
    if (short_ids_after != short_ids_before) result.short_ids_changed = true;
  }
  return result;
}

PeerNameSet Peers::garbage_collect() {
  if (!maybe_garbage_) return {};
  maybe_garbage_ = false;
  // Reachability from us over every connection, established or not.
  std::vector<char> reached(peers_.size(), 0);
  std::vector<size_t> queue{local_};
  queue.reserve(peers_.size());
  reached[local_] = 1;
  // Usually everyone is reachable, and found long before every connection
  // is looked at: then there is nothing to collect.
  for (size_t head = 0; head < queue.size() && queue.size() < peers_.size(); ++head) {
    for (const PeerConnection& c : peers_[queue[head]].connections) {
      const size_t i = index_of(c.remote);
      if (i != npos && !reached[i]) {
        reached[i] = 1;
        queue.push_back(i);
      }
    }
  }
  if (queue.size() == peers_.size()) return {};
  PeerNameSet removed;
  size_t out = 0;
  for (size_t i = 0; i < peers_.size(); ++i) {
    if (!reached[i] && peers_[i].local_refs == 0) {
      removed.push_back(peers_[i].name);
      retire(peers_[i]);
      continue;
    }
    if (out != i) peers_[out] = std::move(peers_[i]);
    ++out;
  }
  if (!removed.empty()) {
    peers_.resize(out);
    rebuild_index();
  }
  return removed;
}

Bytes Peers::encode_all() const {
  PeerNameSet names;
  names.reserve(peers_.size());
  for (const Peer& p : peers_) names.push_back(p.name);
  return encode(names);
}

Bytes Peers::encode(const PeerNameSet& names) const {
  // Records: the named peers we know, in name order.
  std::vector<size_t> records;
  records.reserve(names.size());
  for (PeerName n : names) {
    const size_t i = index_of(n);
    if (i != npos) records.push_back(i);
  }
  std::sort(records.begin(), records.end());
  records.erase(std::unique(records.begin(), records.end()), records.end());

  // The name table: record names and every remote they mention. Known peers
  // are marked by index (already in name order); remotes we no longer know
  // are collected aside.
  std::vector<char> in_table(peers_.size(), 0);
  std::vector<PeerName> strangers;
  size_t size = 1 + 2 + 2;
  for (size_t i : records) {
    in_table[i] = 1;
    const Peer& p = peers_[i];
    size += 2 + 8 + 8 + 2 + 1 + p.nickname.size() + 2 +
            p.connections.size() * TopologyUpdateView::kConnectionSize;
    for (const PeerConnection& c : p.connections) {
      const size_t r = index_of(c.remote);
      if (r != npos) {
        in_table[r] = 1;
      } else {
        strangers.push_back(c.remote);
      }
    }
  }
  std::sort(strangers.begin(), strangers.end());
  strangers.erase(std::unique(strangers.begin(), strangers.end()), strangers.end());
  std::vector<PeerName> table;
  table.reserve(records.size() + strangers.size());
  for (size_t i = 0; i < peers_.size(); ++i) {
    if (in_table[i]) table.push_back(peers_[i].name);
  }
  const size_t known_in_table = table.size();
  table.insert(table.end(), strangers.begin(), strangers.end());
  if (!strangers.empty())
    std::inplace_merge(table.begin(), table.begin() + static_cast<ptrdiff_t>(known_in_table),
                       table.end());
  // Table position of each known peer.
  std::vector<uint32_t> position(peers_.size(), 0);
  for (size_t i = 0, t = 0; i < peers_.size(); ++i) {
    if (!in_table[i]) continue;
    while (table[t] != peers_[i].name) ++t;
    position[i] = static_cast<uint32_t>(t);
  }
  size += table.size() * PeerName::kWireSize;

  auto index_in_table = [&](PeerName n) -> size_t {
    const size_t i = index_of(n);
    if (i != npos) return position[i];
    return static_cast<size_t>(std::lower_bound(table.begin(), table.end(), n) - table.begin());
  };
  TopologyUpdateWriter writer(table, records.size(), size);
  for (size_t i : records) writer.add(peers_[i].summary(), peers_[i].connections, index_in_table);
  return std::move(writer).finish();
}

void Peers::add_reference(PeerName name, std::string_view nickname, PeerUID uid) {
  size_t i = index_of(name);
  if (i == npos) {
    Peer p;
    p.name = name;
    p.nickname = cut_nickname(nickname);
    p.uid = uid;
    auto it = std::lower_bound(peers_.begin(), peers_.end(), name,
                               [](const Peer& a, PeerName n) { return a.name < n; });
    i = static_cast<size_t>(it - peers_.begin());
    admit(p);
    peers_.insert(it, std::move(p));
    rebuild_index();
  }
  peers_[i].local_refs++;
}

void Peers::drop_reference(PeerName name) {
  const size_t i = index_of(name);
  if (i != npos && peers_[i].local_refs > 0 && --peers_[i].local_refs == 0) maybe_garbage_ = true;
}

bool Peers::add_connection(PeerName remote, Endpoint address, bool outbound, bool established) {
  if (remote == ourselves_ || remote.is_unknown()) return false;
  if (index_of(remote) == npos) {
    add_reference(remote, "", 0);  // a placeholder; add_reference first to name it
    peers_[index_of(remote)].local_refs--;
  }
  auto& conns = peers_[local_].connections;
  auto it = std::lower_bound(conns.begin(), conns.end(), remote, by_remote);
  if (it != conns.end() && it->remote == remote) return false;
  conns.insert(it, PeerConnection{remote, address, outbound, established});
  bump_local_version();
  return true;
}

bool Peers::establish_connection(PeerName remote) {
  auto& conns = peers_[local_].connections;
  auto it = std::lower_bound(conns.begin(), conns.end(), remote, by_remote);
  if (it == conns.end() || it->remote != remote || it->established) return false;
  it->established = true;
  bump_local_version();
  return true;
}

bool Peers::delete_connection(PeerName remote) {
  auto& conns = peers_[local_].connections;
  auto it = std::lower_bound(conns.begin(), conns.end(), remote, by_remote);
  if (it == conns.end() || it->remote != remote) return false;
  conns.erase(it);
  maybe_garbage_ = true;
  bump_local_version();
  return true;
}

void Peers::set_short_id(ShortID id) {
  Peer& self = peers_[local_];
  retire(self);
  self.short_id = static_cast<ShortID>(id & ((1u << kShortIDBits) - 1));
  self.has_short_id = true;
  self.version++;
  admit(self);
}

}  // namespace loom::mesh
