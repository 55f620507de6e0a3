// Peers: the topology as one peer knows it (mesh:peers.go, local_peer.go;
// weave-protocol.md 1.4, 1.10). Every known peer, ourselves included, with
// the connections it last announced; Weave's merge rules for updates; local
// connection changes, which bump our version; garbage collection of
// unreachable peers.
//
// Pure data: no timers, no I/O. The caller (the topology gossiper) decides
// when to merge, when to GC and what to send.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/bytes.h"
#include "model/mesh/peer_name.h"
#include "model/mesh/topology_update.h"
#include "model/result.h"

namespace loom::mesh {

struct Peer {
  PeerName name;
  std::string nickname;  // at most 255 bytes (longer is cut)
  PeerUID uid = 0;       // 0: a placeholder, known only by name
  uint64_t version = 0;
  ShortID short_id = 0;
  bool has_short_id = false;
  std::vector<PeerConnection> connections;  // sorted by remote, one per remote
  uint32_t local_refs = 0;                  // local connections referring to it (GC)

  PeerSummary summary() const {
    return PeerSummary{name, nickname, uid, version, short_id, has_short_id};
  }
  // The connection to remote, or null.
  const PeerConnection* connection(PeerName remote) const;
};

// A set of peer names, sorted and unique: what an update is about.
using PeerNameSet = std::vector<PeerName>;
// Set union of two sorted sets (GossipData-style merge of pending updates).
PeerNameSet merge_names(const PeerNameSet& a, const PeerNameSet& b);

struct MergeResult {
  PeerNameSet received;  // Weave's origUpdate: every record's name
  PeerNameSet changed;   // Weave's newUpdate: names whose state changed
  PeerNameSet removed;   // garbage-collected after the merge
  // A record described an older incarnation of us: our version was raised
  // past it, and our record must be re-sent.
  bool ourselves_bumped = false;
  // A short ID was added, changed or freed (Weave's InvalidateShortIDs).
  bool short_ids_changed = false;
};

class Peers {
 public:
  Peers(PeerName ourselves, std::string nickname, PeerUID uid, ShortID short_id = 0,
        bool has_short_id = false);

  PeerName ourselves() const { return ourselves_; }
  const Peer& local() const { return peers_[local_index()]; }
  // Every known peer, sorted by name.
  const std::vector<Peer>& all() const { return peers_; }
  size_t size() const { return peers_.size(); }
  const Peer* find(PeerName name) const;

  // Decodes and merges an update (weave-protocol.md 1.4), then collects
  // garbage. Nothing changes when the bytes are invalid.
  Result<MergeResult> merge(ByteView update);
  Result<MergeResult> merge(const TopologyUpdateView& update);

  // Full gossip: every peer.
  Bytes encode_all() const;

  // A digest of the topology's identity: XOR over every known peer of a
  // hash of (name, UID, version, short ID). O(1), kept up to date by every
  // change. Two peers whose digests differ hold different topologies; equal
  // digests mean they know the same peers at the same versions (in a mesh
  // that keeps Weave's rules, the same records), up to a 2^-64 collision:
  // compare encode_all() where that must be certain.
  uint64_t digest() const { return digest_; }
  // Counts changes to what encode() could produce: equal generations of the
  // same Peers, equal encodings (a cache key for them).
  uint64_t generation() const { return generation_; }
  // The named peers that are known (others are left out).
  Bytes encode(const PeerNameSet& names) const;

  // --- Local changes (local_peer.go). Each that changes our connection set
  // bumps our version; the caller sends {ourselves, remote} afterwards.
  // A local connection's reference to a peer (fetchWithDefault): creates it
  // from the handshake's identity when unknown, and keeps it from GC.
  void add_reference(PeerName name, std::string_view nickname, PeerUID uid);
  void drop_reference(PeerName name);
  // False (and no change) when a connection to remote exists or remote is us.
  bool add_connection(PeerName remote, Endpoint address, bool outbound, bool established);
  // False when there is no such connection or it was established already.
  bool establish_connection(PeerName remote);
  // False when there is no such connection.
  bool delete_connection(PeerName remote);
  // Sets our short ID (a new pick after a collision); bumps our version.
  void set_short_id(ShortID id);

  // Removes peers unreachable from us over any connection and without a
  // local reference (weave-protocol.md 1.10). Returns them, sorted.
  PeerNameSet garbage_collect();

 private:
  size_t local_index() const { return local_; }
  void bump_local_version();
  // Every change to a peer's summary goes through these (digest_).
  void admit(const Peer& p) {
    digest_ ^= summary_hash(p);
    ++generation_;
  }
  void retire(const Peer& p) {
    digest_ ^= summary_hash(p);
    ++generation_;
  }
  static uint64_t summary_hash(const Peer& p);
  void rebuild_index();
  // Index in peers_ by name, or npos.
  size_t index_of(PeerName name) const;

  static constexpr size_t npos = static_cast<size_t>(-1);
  PeerName ourselves_;
  std::vector<Peer> peers_;  // sorted by name
  size_t local_ = 0;         // our index in peers_
  // Whether a peer may have become garbage since the last collection: set
  // by what can cut reachability (a connection gone, a reference dropped, a
  // peer added by a merge). Everything else only adds reachability, so a
  // collection would find nothing: skipping it saves an O(connections)
  // search per merge.
  bool maybe_garbage_ = false;
  uint64_t digest_ = 0;
  uint64_t generation_ = 0;
  // Open-addressing hash of name -> index into peers_ (lookups only; never
  // iterated, so its order cannot leak).
  std::vector<uint64_t> slots_;  // name.value + 1, 0 for empty
  std::vector<uint32_t> slot_index_;
  int slot_bits_ = 0;
};

}  // namespace loom::mesh
