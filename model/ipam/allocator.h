// Allocator: Weave's IP address allocator on one Host and the mesh's
// "IPallocation" gossip channel (weave:ipam/allocator.go, allocate.go,
// claim.go, prime.go, status.go, http.go; weave-protocol.md 2.5-2.9;
// docs/ipam.md, "The allocator").
//
// It brings the pure pieces together: the Ring (who owns which range), the
// Space (which of our addresses are in use), Paxos (agreeing on the ring's
// first split), and the record of which ident holds which address. Like
// Weave's actor it is single-threaded: every call, gossip message and timer
// runs to completion. Operations that cannot finish yet (no ring, no free
// space, the owner of a claimed address not heard from) wait in pending
// queues, primes then claims then allocates, retried on every ring change
// and every 5 s tick.
//
// Wiring, as weaver does it:
//   Allocator alloc(host, config, view);
//   alloc.set_gossip(mesh.register_channel(Allocator::kChannel, alloc));
//   alloc.start();
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/host.h"
#include "model/ipam/address.h"
#include "model/ipam/codec.h"
#include "model/ipam/paxos.h"
#include "model/ipam/peer_view.h"
#include "model/ipam/ring.h"
#include "model/ipam/space.h"
#include "model/ipam/status.h"
#include "model/mesh/gossip.h"

namespace loom::ipam {

// --ipalloc-init: how the ring is first made.
struct InitMode {
  enum class Kind {
    consensus,  // deferred Paxos among electors on first allocate/claim/prime
    seed,       // every peer builds the same ring from this list at once
    observer,   // never votes; asks electors for a ring
  };
  Kind kind = Kind::consensus;
  // consensus=N: the quorum is N/2 + 1. None: guessed from our targets.
  std::optional<unsigned> peer_count;
  std::vector<PeerName> seed;  // seed= only
};

// "consensus", "consensus=3", "seed=aa:..:01,aa:..:02", "observer"; the
// error names what was wrong.
Result<InitMode> parse_init_mode(std::string_view text);

// An address claimed before IPAM could start (weave:ipam PreClaim).
struct PreClaim {
  std::string ident;
  bool is_container = true;
  Cidr cidr;  // the address and its subnet's prefix
};

struct AllocatorConfig {
  PeerName name;
  mesh::PeerUID uid = 0;  // the mesh's UID: Paxos tells incarnations apart by it
  std::string nickname;
  Cidr universe;  // --ipalloc-range (Weave's script default 10.32.0.0/12)
  // --ipalloc-default-subnet; none: the universe.
  std::optional<Cidr> default_subnet;
  InitMode init;
  std::vector<PreClaim> pre_claims;

  Time tick = std::chrono::seconds(5);                     // Weave's tickInterval
  Time container_died_timeout = std::chrono::seconds(30);  // containerDiedTimeout
  // A claim whose owner has no route is refused after this many tries
  // (weave-protocol.md 2.7, "more than 5 tries").
  unsigned claim_no_route_tries = 5;
};

// An ident that is not a container (Weave's api.NoContainerID; the value
// is ours): its allocations are filed under the address itself.
inline constexpr const char* kNoContainerId = "_";

// What one peer's allocator holds, for the invariant checker (invariants.h).
struct AllocatorSnapshot {
  PeerName name;
  std::string nickname;
  std::optional<Ring> ring;               // none while it has no ring
  std::vector<Range> space;               // Space: every address we hold, in use or free
  std::vector<Range> allocated;           // of those, in use
  std::map<Address, std::string> idents;  // allocated address -> ident (in the universe)
};

class Allocator final : public mesh::Gossiper {
 public:
  static constexpr const char* kChannel = "IPallocation";

  // Unicast message types (weave:ipam/allocator.go).
  enum MessageType : uint8_t { kSpaceRequest = 0, kRingUpdate = 1, kSpaceRequestDenied = 2 };

  using AllocateDone = std::function<void(Result<Address>)>;
  using ClaimDone = std::function<void(Result<void>)>;
  using PrimeDone = std::function<void()>;

  // host and view outlive the allocator. Call set_gossip, then start.
  Allocator(Host& host, AllocatorConfig config, const PeerView& view);
  ~Allocator() override;
  Allocator(const Allocator&) = delete;
  Allocator& operator=(const Allocator&) = delete;

  // The channel to send on (mesh.register_channel(kChannel, *this)).
  void set_gossip(mesh::Gossip& gossip) { gossip_ = &gossip; }
  // Loads persisted data (used only when its peer name and range match
  // ours; then the seed is ignored), makes the seed's ring if there is none,
  // and starts the tick. Fails on a store that cannot be read back.
  Result<void> start();

  // --- Operations. A done callback runs once, perhaps before the call
  // returns; it may call the allocator. While shutting down every new
  // operation is cancelled.

  // An address for ident in subnet: the one ident already holds there, or
  // the lowest free one we own, or (none free) one after asking a donor for
  // space. Waits while there is no ring.
  void allocate(const std::string& ident, Cidr subnet, bool is_container, AllocateDone done);
  // In the default subnet.
  void allocate(const std::string& ident, AllocateDone done);
  // Exactly cidr.addr for ident. Outside the universe it is only recorded;
  // owned by another peer, we ask that peer for it. no_error_on_unknown:
  // report success at once while the ring is unknown or the owner cannot be
  // reached, and keep trying.
  void claim(const std::string& ident, Cidr cidr, bool is_container, bool no_error_on_unknown,
             ClaimDone done);
  // `weave prime`: done once there is a ring (starting consensus if need be).
  void prime(PrimeDone done);
  // Releases one address of ident.
  Result<void> free(const std::string& ident, Address address);
  // Releases every address of ident (Weave's Delete).
  Result<void> release(const std::string& ident);
  // The addresses ident holds in r.
  std::vector<Cidr> lookup(const std::string& ident, Range r) const;

  // Container events (weave's updater interface): a died container's
  // addresses are freed after container_died_timeout unless it restarts;
  // a destroyed one's at once. Pending operations of a died one are
  // cancelled.
  void container_died(const std::string& ident);
  void container_destroyed(const std::string& ident);
  void container_started(const std::string& ident);
  // Frees container records whose ident is not in ids (startup pruning).
  void prune_owned(const std::vector<std::string>& ids);

  // `weave reset` (DELETE /peer): cancel everything, transfer our ranges
  // to an heir (Version + 100), broadcast once. No acknowledgement.
  void shutdown();
  // `weave rmpeer` (DELETE /peer/{id}): takes over every range of the peer
  // (by nickname or name), Version + 100, and broadcasts. Returns the free
  // addresses gained; 0 for an unknown peer or ourselves.
  Count admin_takeover_ranges(const std::string& peer_name_or_nickname);
  // The reply DELETE /peer/{id} gives: "N IPs taken over from X\n".
  std::string rmpeer(const std::string& peer_name_or_nickname);

  // The mesh removed a peer from its topology: forget its nickname unless
  // it still owns ranges (Weave's PeerGone).
  void peer_gone(PeerName peer);

  // --- Gossiper (the "IPallocation" channel).
  Result<void> on_gossip_unicast(PeerName src, ByteView msg) override;
  Result<std::unique_ptr<mesh::GossipData>> on_gossip_broadcast(PeerName src,
                                                                ByteView update) override;
  std::unique_ptr<mesh::GossipData> gossip() override;
  Result<std::unique_ptr<mesh::GossipData>> on_gossip(ByteView msg) override;

  // --- Inspection.
  IpamStatus status() const;
  AllocatorSnapshot snapshot() const;
  const Ring& ring() const { return ring_; }
  const Space& space() const { return space_; }
  PeerName name() const { return config_.name; }
  const AllocatorConfig& config() const { return config_; }
  bool awaiting_consensus() const { return awaiting_consensus_; }
  bool shutting_down() const { return shutting_down_; }
  const Nicknames& nicknames() const { return nicknames_; }
  // Every ident's addresses (CIDRs), as persisted under ownedAddresses.
  struct Owned {
    bool is_container = false;
    std::vector<Cidr> cidrs;
    friend bool operator==(const Owned&, const Owned&) = default;
  };
  const std::map<std::string, Owned>& owned() const { return owned_; }
  size_t pending_allocates() const { return pending_allocates_.size(); }
  size_t pending_claims() const { return pending_claims_.size(); }
  // Our full state as the channel sends it (Weave's encode()).
  Bytes encode_state() const;

 private:
  struct AllocateOp;
  struct ClaimOp;
  struct PrimeOp;
  class GossipData;

  // Operation life cycle (allocator.go).
  bool try_allocate(AllocateOp& op);
  bool try_claim(ClaimOp& op);
  bool try_prime(PrimeOp& op);
  void try_pending_ops();
  bool have_pending_ops() const;
  void cancel_ops_for(const std::string& ident);
  void cancel_all_ops();
  void space_request_denied(PeerName sender, Range r);

  // Consensus and the ring.
  void establish_ring();
  void create_ring(const std::vector<PeerName>& peers);
  void ring_updated();
  void propose();
  unsigned quorum() const;
  Result<void> update(PeerName sender, ByteView msg);
  void donate_space(Range r, PeerName to);

  // Messages.
  Result<void> send_space_request(PeerName dest, Range r);
  Result<void> send_space_request_denied(PeerName dest, Range r);
  void send_ring_update(PeerName dest);
  void broadcast();

  // Space bookkeeping, after every action (Weave: assertInvariants and
  // reportFreeSpace at the end of each actor-loop iteration).
  void settle();
  void reconcile_space();
  void report_free_space();
  void publish_metrics();

  // Owned addresses.
  bool has_owned_by_container(const std::string& ident) const;
  void add_owned(const std::string& ident, Cidr cidr, bool is_container);
  std::vector<Cidr> remove_all_owned(const std::string& ident);
  bool remove_owned(const std::string& ident, Address address);
  std::string find_owner(Address address) const;
  std::vector<Cidr> owned_in_range(const std::string& ident, Range r) const;
  Result<void> delete_ident(const std::string& ident);
  void remove_dead_containers();

  // Peers and nicknames.
  bool is_known(PeerName peer) const;
  PeerName pick_peer_for_transfer() const;
  PeerName pick_peer_from_nicknames(const std::function<bool(PeerName)>& valid) const;
  std::optional<PeerName> lookup_peername(const std::string& name) const;
  void prune_nicknames();
  void merge_nicknames(Nicknames&& theirs);
  std::string annotate(const std::vector<PeerName>& names) const;
  std::string describe(PeerName peer) const;

  // Persistence (weave-protocol.md 2.9).
  Result<bool> load_persisted_data();
  void persist_ring();
  void persist_owned();

  void on_tick();

  Host& host_;
  AllocatorConfig config_;
  const PeerView& view_;
  mesh::Gossip* gossip_ = nullptr;
  // What our GossipData objects point at; reset when we go, so data still
  // queued on a connection encodes to nothing.
  std::shared_ptr<const Allocator*> self_;

  Ring ring_;
  Space space_;
  std::map<std::string, Owned> owned_;
  Nicknames nicknames_;
  std::optional<paxos::Participant> paxos_;
  bool awaiting_consensus_ = false;
  bool shutting_down_ = false;
  bool started_ = false;
  std::map<std::string, Time> dead_;  // containers heard dead, and when

  std::vector<std::unique_ptr<PrimeOp>> pending_primes_;
  std::vector<std::unique_ptr<ClaimOp>> pending_claims_;
  std::vector<std::unique_ptr<AllocateOp>> pending_allocates_;

  TimerId tick_timer_ = 0;

  // Metrics (Weave's names; weave:prog/weaver/metrics.go).
  Gauge& metric_ips_;
  Gauge& metric_max_ips_;
  Gauge& metric_unreachable_count_;
  Gauge& metric_unreachable_percentage_;
  Gauge& metric_pending_allocates_;
  Gauge& metric_pending_claims_;
  Counter& metric_merge_errors_;
};

}  // namespace loom::ipam
