// The wire and storage forms of IPAM's state: the ring, the Paxos claims,
// the gossip message that carries them, and the range in a space request.
//
// A compact binary format of Loom's own (docs/ipam.md, "Encoding"); Weave
// gob-encodes Go structs, which we do not reproduce, so Loom peers talk
// only to Loom peers. Integers are little-endian; peer names are 6 bytes,
// big-endian like their printed form. Every decoder is bounded and
// validating: it checks each length against the bytes left, rejects
// trailing bytes, and says which field was wrong. A decoded ring also
// satisfies the ring invariants.
#pragma once

#include <map>
#include <optional>
#include <string>

#include <boost/container/flat_map.hpp>

#include "model/bytes.h"
#include "model/ipam/paxos.h"
#include "model/ipam/ring.h"
#include "model/result.h"

namespace loom::ipam {

inline constexpr uint8_t kCodecFormat = 1;

//   u8 format  u32 universe start  u32 universe end  6B holder's name
//   u16 S, S seed names (6B, none zero, order kept)
//   u16 N, N owner names (6B, strictly increasing, none zero)
//   u32 E, E entries of 14 bytes: u32 token, u16 owner index, u32 version, u32 free
Bytes encode_ring(const Ring& ring);
Result<Ring> decode_ring(ByteView bytes);

//   u8 format  u16 K, K nodes in strictly increasing (name, UID) order:
//     6B name  u64 UID
//     promise, accepted, value origin: each u64 round, 6B name, u64 UID
//     u16 V, V value names (6B, none zero)
Bytes encode_paxos(const paxos::GossipState& state);
Result<paxos::GossipState> decode_paxos(ByteView bytes);

// What the "IPallocation" channel gossips (Weave's gossipState, less its
// backward-compatibility timestamp). Paxos while there is no ring, the ring
// once there is; neither from an observer asking for a ring.
// Peer names and nicknames, sorted by name.
using Nicknames = boost::container::flat_map<PeerName, std::string>;

struct IpamGossip {
  Nicknames nicknames;
  paxos::GossipState paxos;  // empty: absent (gob omits empty maps too)
  std::optional<Ring> ring;
};

//   u8 format  u8 flags (bit 0 paxos, bit 1 ring, others zero)
//   u16 M, M nicknames: 6B name (strictly increasing, none zero), u8 length, bytes
//   [u32 length, paxos encoding]  [u32 length, ring encoding]
Bytes encode_gossip(const IpamGossip& gossip);
// The same from the parts, without copying them into an IpamGossip (a null
// or empty Paxos state and a null ring are absent).
Bytes encode_gossip(const Nicknames& nicknames, const paxos::GossipState* paxos, const Ring* ring);
Result<IpamGossip> decode_gossip(ByteView bytes);

// A space request's range: u32 start, u32 end, start < end.
Bytes encode_range(const Range& range);
Result<Range> decode_range(ByteView bytes);

}  // namespace loom::ipam
