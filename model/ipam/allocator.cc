#include "model/ipam/allocator.h"

#include <algorithm>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

namespace loom::ipam {
namespace {

constexpr const char* kLog = "ipam";

// Store keys (weave:ipam/allocator.go, weave:db).
constexpr const char* kNameKey = "peername";
constexpr const char* kRingKey = "ring";
constexpr const char* kOwnedKey = "ownedAddresses";

std::string as_string(const Bytes& b) { return {b.begin(), b.end()}; }

Error cancelled(const char* kind, const std::string& ident) {
  return make_error(std::string(kind) + " request for " + ident + " cancelled");
}

// The universe as a ring range; a placeholder for an invalid one, which
// start() then refuses.
Range universe_range(const Cidr& u) {
  if (!u.is_subnet() || u.prefix_len < 0 || u.prefix_len > 32 || u.size() < kMinSubnetSize ||
      uint64_t{u.addr} + u.size() > UINT32_MAX) {
    return Range{0, static_cast<Address>(kMinSubnetSize)};
  }
  return u.range();
}

// ownedAddresses as JSON, Weave's ownedData: {"ident": {"IsContainer":
// bool, "Cidrs": ["10.32.0.1/12", ...]}}.
// Written by hand: it is re-written on every allocation and release, and
// building a JSON object first costs ten times as much.
void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
  out += '"';
}

// "10.32.0.1/12", without Cidr::to_string's temporary strings.
void append_decimal(std::string& out, unsigned v) {  // v < 1000
  if (v >= 100) out += static_cast<char>('0' + v / 100);
  if (v >= 10) out += static_cast<char>('0' + v / 10 % 10);
  out += static_cast<char>('0' + v % 10);
}

void append_cidr(std::string& out, const Cidr& c) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    append_decimal(out, (c.addr >> shift) & 0xff);
    out += shift > 0 ? '.' : '/';
  }
  append_decimal(out, static_cast<unsigned>(c.prefix_len));
}

std::string encode_owned(const std::map<std::string, Allocator::Owned>& owned) {
  std::string out = "{";
  out.reserve(owned.size() * 96);
  for (const auto& [ident, d] : owned) {
    if (out.size() > 1) out += ',';
    append_json_string(out, ident);
    out += d.is_container ? ":{\"IsContainer\":true,\"Cidrs\":["
                          : ":{\"IsContainer\":false,\"Cidrs\":[";
    for (size_t i = 0; i < d.cidrs.size(); ++i) {
      if (i > 0) out += ',';
      out += '"';
      append_cidr(out, d.cidrs[i]);
      out += '"';
    }
    out += "]}";
  }
  out += '}';
  return out;
}

Result<std::map<std::string, Allocator::Owned>> decode_owned(std::string_view text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return make_error("not a JSON object");
  std::map<std::string, Allocator::Owned> out;
  for (const auto& [ident, d] : j.items()) {
    if (!d.is_object() || !d.contains("IsContainer") || !d["IsContainer"].is_boolean() ||
        !d.contains("Cidrs") || !d["Cidrs"].is_array()) {
      return make_error("entry \"" + ident + "\": want {\"IsContainer\": bool, \"Cidrs\": [...]}");
    }
    Allocator::Owned o;
    o.is_container = d["IsContainer"].get<bool>();
    for (const auto& c : d["Cidrs"]) {
      if (!c.is_string()) return make_error("entry \"" + ident + "\": a CIDR is not a string");
      auto cidr = Cidr::parse(c.get<std::string>());
      if (!cidr) return make_error("entry \"" + ident + "\": " + cidr.error().message);
      o.cidrs.push_back(*cidr);
    }
    out.emplace(ident, std::move(o));
  }
  return out;
}

// Runs try_op over a queue: what succeeds (or fails for good) leaves it.
// The queue may grow while it runs (a callback asking for more).
template <typename Op, typename Try>
void try_ops(std::vector<std::unique_ptr<Op>>& ops, Try try_op) {
  if (ops.empty()) return;
  std::vector<std::unique_ptr<Op>> current;
  current.swap(ops);
  std::vector<std::unique_ptr<Op>> keep;
  for (auto& op : current) {
    if (!try_op(*op)) keep.push_back(std::move(op));
  }
  for (auto& op : ops) keep.push_back(std::move(op));
  ops = std::move(keep);
}

}  // namespace

// ---- --ipalloc-init ---------------------------------------------------------

Result<InitMode> parse_init_mode(std::string_view text) {
  InitMode m;
  auto bad = [&](const std::string& why) {
    return make_error("invalid --ipalloc-init \"" + std::string(text) + "\": " + why);
  };
  if (text == "observer") {
    m.kind = InitMode::Kind::observer;
    return m;
  }
  if (text == "consensus") return m;
  if (text.substr(0, 10) == "consensus=") {
    const std::string_view n = text.substr(10);
    unsigned v = 0;
    if (n.empty() || n.size() > 6) return bad("want consensus=N with N a positive number");
    for (char c : n) {
      if (c < '0' || c > '9') return bad("want consensus=N with N a positive number");
      v = v * 10 + static_cast<unsigned>(c - '0');
    }
    if (v == 0) return bad("want consensus=N with N a positive number");
    m.peer_count = v;
    return m;
  }
  if (text.substr(0, 5) == "seed=") {
    m.kind = InitMode::Kind::seed;
    std::string_view rest = text.substr(5);
    while (true) {
      const size_t comma = rest.find(',');
      const std::string_view item = rest.substr(0, comma);
      auto name = PeerName::parse(item);
      if (!name || name->is_unknown()) {
        return bad("\"" + std::string(item) + "\" is not a peer name");
      }
      m.seed.push_back(*name);
      if (comma == std::string_view::npos) break;
      rest = rest.substr(comma + 1);
    }
    return m;
  }
  return bad("want consensus[=N], seed=NAME,... or observer");
}

// ---- Operations and gossip data --------------------------------------------

struct Allocator::AllocateOp {
  std::string ident;
  Cidr subnet;
  bool is_container = true;
  AllocateDone done;

  void finish(Result<Address> r) {
    if (!done) return;
    auto d = std::move(done);
    done = nullptr;
    d(std::move(r));
  }
};

struct Allocator::ClaimOp {
  std::string ident;
  Cidr cidr;
  bool is_container = true;
  bool no_error_on_unknown = false;
  ClaimDone done;
  unsigned no_route_tries = 0;

  // At most one result reaches the caller (Weave's sendResult); a later one
  // (a claim answered early with no_error_on_unknown) is only logged.
  void finish(Result<void> r, Log& log) {
    if (done) {
      auto d = std::move(done);
      done = nullptr;
      d(std::move(r));
    } else if (!r) {
      LOOM_LOG(log, kLog, error, r.error().message);
    }
  }
};

struct Allocator::PrimeOp {
  PrimeDone done;
};

// Weave's ipamGossipData: merging does nothing, encoding always gives the
// allocator's state at the time of sending.
class Allocator::GossipData final : public mesh::GossipData {
 public:
  explicit GossipData(std::weak_ptr<const Allocator*> alloc) : alloc_(std::move(alloc)) {}
  std::vector<Bytes> encode() const override {
    auto alloc = alloc_.lock();
    if (!alloc) return {};
    return {(*alloc)->encode_state()};
  }
  std::unique_ptr<mesh::GossipData> merge(const mesh::GossipData&) const override {
    return std::make_unique<GossipData>(alloc_);
  }

 private:
  std::weak_ptr<const Allocator*> alloc_;
};

// ---- Life cycle -------------------------------------------------------------

Allocator::Allocator(Host& host, AllocatorConfig config, const PeerView& view)
    : host_(host),
      config_(std::move(config)),
      view_(view),
      self_(std::make_shared<const Allocator*>(this)),
      ring_(universe_range(config_.universe), config_.name),
      metric_ips_(host.metrics().gauge("weave_ips", {{"state", "local-used"}})),
      metric_max_ips_(host.metrics().gauge("weave_max_ips")),
      metric_unreachable_count_(host.metrics().gauge("weave_ipam_unreachable_count")),
      metric_unreachable_percentage_(host.metrics().gauge("weave_ipam_unreachable_percentage")),
      metric_pending_allocates_(host.metrics().gauge("weave_ipam_pending_allocates")),
      metric_pending_claims_(host.metrics().gauge("weave_ipam_pending_claims")),
      metric_merge_errors_(host.metrics().counter("loom_ipam_merge_errors_total")) {
  if (config_.init.kind == InitMode::Kind::observer) {
    paxos_ = paxos::Participant::observer();
  } else {
    paxos_ = paxos::Participant::elector(config_.name, config_.uid);
  }
  nicknames_[config_.name] = config_.nickname;
  for (const PreClaim& c : config_.pre_claims) {
    auto op = std::make_unique<ClaimOp>();
    op->ident = c.ident;
    op->cidr = c.cidr;
    op->is_container = c.is_container;
    pending_claims_.push_back(std::move(op));
  }
}

Allocator::~Allocator() {
  self_.reset();
  host_.cancel(tick_timer_);
}

Result<void> Allocator::start() {
  if (started_) return make_error("IPAM: already started");
  const Cidr& u = config_.universe;
  if (!u.is_subnet() || u.size() < kMinSubnetSize || uint64_t{u.addr} + u.size() > UINT32_MAX) {
    return make_error("IPAM: invalid allocation range " + u.to_string());
  }
  if (config_.default_subnet && !u.range().overlaps(config_.default_subnet->range())) {
    return make_error("IPAM: default subnet " + config_.default_subnet->to_string() +
                      " is outside the allocation range " + u.to_string());
  }
  if (config_.init.kind == InitMode::Kind::seed && config_.init.seed.empty()) {
    return make_error("IPAM: seed mode with no seed peers");
  }
  auto loaded = load_persisted_data();
  if (!loaded) return loaded.error();
  started_ = true;
  const bool seeded = config_.init.kind == InitMode::Kind::seed;
  if (*loaded && seeded) {
    LOOM_LOG(host_.log(), kLog, info, "Found persisted IPAM data, ignoring supplied IPAM seed");
  } else if (*loaded) {
    LOOM_LOG(host_.log(), kLog, info, "Initialising with persisted data");
  } else if (seeded) {
    LOOM_LOG(host_.log(), kLog, info, "Initialising with supplied IPAM seed");
    create_ring(config_.init.seed);
  } else if (paxos_ && paxos_->is_elector()) {
    LOOM_LOG(host_.log(), kLog, info, "Initialising via deferred consensus");
  } else {
    LOOM_LOG(host_.log(), kLog, info,
             "Initialising as observer - awaiting IPAM data from another peer");
  }
  if (*loaded) {
    try_ops(pending_claims_, [this](ClaimOp& op) { return try_claim(op); });
  }
  tick_timer_ = host_.after(config_.tick, [this] { on_tick(); });
  settle();
  return {};
}

void Allocator::on_tick() {
  tick_timer_ = host_.after(config_.tick, [this] { on_tick(); });
  // Retry things in case messages got lost between here and recipients.
  if (awaiting_consensus_) {
    propose();
  } else if (have_pending_ops()) {
    if (ring_.empty()) {
      establish_ring();
    } else {
      try_pending_ops();
    }
  }
  remove_dead_containers();
  // Mesh tells us of no peer it garbage-collects (Weave registers PeerGone
  // with it); dropping the nicknames of unknown peers that own nothing on
  // each tick comes to the same within 5 s.
  prune_nicknames();
  settle();
}

// ---- The client API ---------------------------------------------------------

void Allocator::allocate(const std::string& ident, Cidr subnet, bool is_container,
                         AllocateDone done) {
  auto op = std::make_unique<AllocateOp>();
  op->ident = ident;
  op->subnet = subnet;
  op->is_container = is_container;
  op->done = std::move(done);
  if (shutting_down_) {
    op->finish(cancelled("Allocate", ident));
    return;
  }
  if (!subnet.is_subnet() || subnet.size() < kMinSubnetSize ||
      uint64_t{subnet.addr} + subnet.size() > UINT32_MAX) {
    op->finish(make_error("invalid subnet " + subnet.to_string()));
    return;
  }
  if (!try_allocate(*op)) pending_allocates_.push_back(std::move(op));
  settle();
}

void Allocator::allocate(const std::string& ident, AllocateDone done) {
  allocate(ident, config_.default_subnet.value_or(config_.universe), true, std::move(done));
}

void Allocator::claim(const std::string& ident, Cidr cidr, bool is_container,
                      bool no_error_on_unknown, ClaimDone done) {
  auto op = std::make_unique<ClaimOp>();
  op->ident = ident;
  op->cidr = cidr;
  op->is_container = is_container;
  op->no_error_on_unknown = no_error_on_unknown;
  op->done = std::move(done);
  if (shutting_down_) {
    op->finish(cancelled("Claim", ident), host_.log());
    return;
  }
  if (!try_claim(*op)) pending_claims_.push_back(std::move(op));
  settle();
}

void Allocator::prime(PrimeDone done) {
  auto op = std::make_unique<PrimeOp>();
  op->done = std::move(done);
  if (shutting_down_) {  // Weave's cancelled prime just returns
    if (op->done) op->done();
    return;
  }
  if (!try_prime(*op)) pending_primes_.push_back(std::move(op));
  settle();
}

Result<void> Allocator::free(const std::string& ident, Address address) {
  if (!remove_owned(ident, address)) {
    return make_error("Free: address " + format_address(address) + " not found for " + ident);
  }
  LOOM_LOG(host_.log(), kLog, debug, "Freed " << format_address(address) << " for " << ident);
  (void)space_.free(address);  // not ours when it was claimed outside the universe
  settle();
  return {};
}

Result<void> Allocator::release(const std::string& ident) {
  auto r = delete_ident(ident);
  settle();
  return r;
}

std::vector<Cidr> Allocator::lookup(const std::string& ident, Range r) const {
  return owned_in_range(ident, r);
}

void Allocator::container_died(const std::string& ident) {
  if (has_owned_by_container(ident)) {
    LOOM_LOG(host_.log(), kLog, debug, "Container " << ident << " died; noting to remove later");
    dead_[ident] = host_.now();
  }
  cancel_ops_for(ident);
  settle();
}

void Allocator::container_destroyed(const std::string& ident) {
  if (has_owned_by_container(ident)) {
    LOOM_LOG(host_.log(), kLog, debug, "Container " << ident << " destroyed; removing addresses");
    (void)delete_ident(ident);
    dead_.erase(ident);
  }
  settle();
}

void Allocator::container_started(const std::string& ident) { dead_.erase(ident); }

void Allocator::prune_owned(const std::vector<std::string>& ids) {
  const std::set<std::string> keep(ids.begin(), ids.end());
  bool changed = false;
  for (auto it = owned_.begin(); it != owned_.end();) {
    if (!it->second.is_container || keep.count(it->first) != 0) {
      ++it;
      continue;
    }
    for (const Cidr& c : it->second.cidrs) (void)space_.free(c.addr);
    LOOM_LOG(host_.log(), kLog, debug, "Deleting old entry " << it->first);
    it = owned_.erase(it);
    changed = true;
  }
  if (changed) persist_owned();
  settle();
}

void Allocator::shutdown() {
  LOOM_LOG(host_.log(), kLog, info, "Shutdown");
  shutting_down_ = true;
  cancel_all_ops();
  const PeerName heir = pick_peer_for_transfer();
  if (!heir.is_unknown()) {
    ring_.transfer(config_.name, heir);
    LOOM_LOG(host_.log(), kLog, info, "Transferred our ranges to " << describe(heir));
  }
  space_.clear();
  if (!heir.is_unknown()) {
    persist_ring();
    broadcast();
  }
  publish_metrics();
}

Count Allocator::admin_takeover_ranges(const std::string& peer_name_or_nickname) {
  const std::optional<PeerName> peer = lookup_peername(peer_name_or_nickname);
  if (!peer) {
    LOOM_LOG(host_.log(), kLog, warn,
             "attempt to take over range from unknown peer '" << peer_name_or_nickname << "'");
    return 0;
  }
  if (*peer == config_.name) {
    LOOM_LOG(host_.log(), kLog, warn, "attempt to take over range from ourself");
    return 0;
  }
  const std::vector<Range> moved = ring_.transfer(*peer, config_.name);
  if (moved.empty()) return 0;
  const uint64_t before = space_.num_free();
  ring_updated();
  const uint64_t after = space_.num_free();
  broadcast();
  settle();
  const auto gained = static_cast<Count>(after - before);
  LOOM_LOG(host_.log(), kLog, info, gained << " IPs taken over from " << describe(*peer));
  return gained;
}

std::string Allocator::rmpeer(const std::string& peer_name_or_nickname) {
  const Count n = admin_takeover_ranges(peer_name_or_nickname);
  return std::to_string(n) + " IPs taken over from " + peer_name_or_nickname + "\n";
}

void Allocator::peer_gone(PeerName peer) {
  const std::vector<PeerName> owners = ring_.peer_names();
  if (!std::binary_search(owners.begin(), owners.end(), peer) && peer != config_.name) {
    nicknames_.erase(peer);
  }
}

// ---- Operations -------------------------------------------------------------

bool Allocator::try_allocate(AllocateOp& op) {
  if (auto held = owned_in_range(op.ident, op.subnet.range()); !held.empty()) {
    dead_.erase(op.ident);  // if we had heard it died, resurrect it
    op.finish(held.front().addr);
    return true;
  }
  if (!ring_.universe().overlaps(op.subnet.range())) {
    op.finish(make_error("range " + op.subnet.to_string() +
                         " out of bounds: " + config_.universe.to_string()));
    return true;
  }
  establish_ring();
  if (const std::optional<Address> a = space_.allocate(op.subnet.host_range())) {
    // Without an ident, file it under the address (DELETE /ip/{address}).
    if (op.ident == kNoContainerId) op.ident = format_address(*a);
    LOOM_LOG(host_.log(), kLog, debug,
             "Allocated " << format_address(*a) << " for " << op.ident << " in "
                          << op.subnet.to_string());
    add_owned(op.ident, Cidr{*a, op.subnet.prefix_len}, op.is_container);
    op.finish(*a);
    return true;
  }
  // Out of space: ask a donor, the first one we can reach.
  const Range r = op.subnet.range();
  for (PeerName donor : ring_.choose_peers_to_ask_for_space(r.start, r.end, host_.random())) {
    if (auto sent = send_space_request(donor, r); sent) {
      LOOM_LOG(host_.log(), kLog, debug,
               "Decided to ask peer " << describe(donor) << " for space in range "
                                      << op.subnet.to_string());
      break;
    } else {
      LOOM_LOG(host_.log(), kLog, debug,
               "Problem asking peer " << describe(donor) << " for space: " << sent.error().message);
    }
  }
  return false;
}

bool Allocator::try_claim(ClaimOp& op) {
  const Address addr = op.cidr.addr;
  const std::string addr_text = format_address(addr);
  if (!ring_.contains(addr)) {
    // Not ours to manage: assume the user knows what they are doing.
    LOOM_LOG(
        host_.log(), kLog, info,
        "Address " << op.cidr.to_string() << " claimed by " << op.ident << " - not in our range");
    add_owned(op.ident, op.cidr, op.is_container);
    op.finish({}, host_.log());
    return true;
  }
  establish_ring();
  dead_.erase(op.ident);  // if we had heard it died, resurrect it

  const PeerName owner = ring_.owner(addr);
  if (owner.is_unknown()) {
    LOOM_LOG(host_.log(), kLog, info,
             "Claim " << op.cidr.to_string() << " for " << op.ident << ": is in the range "
                      << config_.universe.to_string()
                      << ", but the allocator is not initialized yet; will try later.");
    if (op.no_error_on_unknown) op.finish({}, host_.log());
    return false;
  }
  if (owner != config_.name) {
    LOOM_LOG(
        host_.log(), kLog, debug,
        "requesting address " << op.cidr.to_string() << " from other peer " << describe(owner));
    auto sent = send_space_request(owner, Range{addr, addr + 1});
    if (!sent) {
      if (op.no_error_on_unknown) {
        LOOM_LOG(host_.log(), kLog, info,
                 "Claim " << op.cidr.to_string() << " for " << op.ident << ": "
                          << sent.error().message << "; will try later.");
        op.finish({}, host_.log());
      } else if (++op.no_route_tries > config_.claim_no_route_tries) {
        const auto nick = nicknames_.find(owner);
        op.finish(make_error("address " + op.cidr.to_string() + " is owned by other peer " +
                             owner.to_string() +
                             (nick != nicknames_.end() ? " (" + nick->second + ")" : "")),
                  host_.log());
        return true;
      }
    }
    return false;
  }

  // We own it: make sure we have not given it to someone else.
  const std::string existing = find_owner(addr);
  const bool anonymous = op.ident == kNoContainerId;
  if (existing.empty()) {
    if (auto claimed = space_.claim(addr); claimed) {
      LOOM_LOG(host_.log(), kLog, debug, "Claimed " << op.cidr.to_string() << " for " << op.ident);
      add_owned(anonymous ? addr_text : op.ident, op.cidr, op.is_container);
      op.finish({}, host_.log());
    } else {
      op.finish(claimed.error(), host_.log());
    }
  } else if (existing == op.ident || (anonymous && existing == addr_text)) {
    op.finish({}, host_.log());  // the same ident claiming the same address again
  } else if (existing == addr_text) {
    op.finish(make_error("address " + op.cidr.to_string() + " already in use"), host_.log());
  } else if (anonymous) {
    op.finish({}, host_.log());  // cannot prove it is another container: let it have it
  } else {
    op.finish(make_error("address " + op.cidr.to_string() + " is already owned by " + existing),
              host_.log());
  }
  return true;
}

bool Allocator::try_prime(PrimeOp& op) {
  if (!ring_.empty()) {
    if (op.done) op.done();
    return true;
  }
  establish_ring();
  return false;
}

void Allocator::try_pending_ops() {
  // Primes first, then existing claims before new allocations.
  try_ops(pending_primes_, [this](PrimeOp& op) { return try_prime(op); });
  try_ops(pending_claims_, [this](ClaimOp& op) { return try_claim(op); });
  try_ops(pending_allocates_, [this](AllocateOp& op) { return try_allocate(op); });
  if (shutting_down_) cancel_all_ops();
}

bool Allocator::have_pending_ops() const {
  return !pending_primes_.empty() || !pending_claims_.empty() || !pending_allocates_.empty();
}

void Allocator::cancel_ops_for(const std::string& ident) {
  std::vector<std::unique_ptr<AllocateOp>> allocates;
  std::vector<std::unique_ptr<ClaimOp>> claims;
  for (auto it = pending_allocates_.begin(); it != pending_allocates_.end();) {
    if ((*it)->ident == ident) {
      allocates.push_back(std::move(*it));
      it = pending_allocates_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = pending_claims_.begin(); it != pending_claims_.end();) {
    if ((*it)->ident == ident) {
      claims.push_back(std::move(*it));
      it = pending_claims_.erase(it);
    } else {
      ++it;
    }
  }
  // Out of the queues before any callback runs.
  for (auto& op : allocates) op->finish(cancelled("Allocate", op->ident));
  for (auto& op : claims) op->finish(cancelled("Claim", op->ident), host_.log());
}

void Allocator::cancel_all_ops() {
  auto allocates = std::move(pending_allocates_);
  auto claims = std::move(pending_claims_);
  pending_allocates_.clear();
  pending_claims_.clear();
  auto primes = std::move(pending_primes_);
  pending_primes_.clear();
  for (auto& op : primes) {
    if (op->done) op->done();  // Weave's cancelled prime just returns
  }
  for (auto& op : claims) op->finish(cancelled("Claim", op->ident), host_.log());
  for (auto& op : allocates) op->finish(cancelled("Allocate", op->ident));
}

void Allocator::space_request_denied(PeerName sender, Range r) {
  std::vector<std::unique_ptr<ClaimOp>> denied;
  for (auto it = pending_claims_.begin(); it != pending_claims_.end();) {
    if (r.contains((*it)->cidr.addr)) {
      denied.push_back(std::move(*it));
      it = pending_claims_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& op : denied) {
    const auto nick = nicknames_.find(sender);
    op->finish(make_error("address " + op->cidr.to_string() + " is owned by other peer " +
                          sender.to_string() +
                          (nick != nicknames_.end() ? " (" + nick->second + ")" : "")),
               host_.log());
  }
}

// ---- Consensus and the ring -------------------------------------------------

void Allocator::establish_ring() {
  if (!ring_.empty() || awaiting_consensus_ || !paxos_) return;
  awaiting_consensus_ = true;
  paxos_->set_quorum(quorum());
  propose();
  if (auto c = paxos_ ? paxos_->consensus() : std::nullopt) {
    create_ring(c->value);  // a quorum of 1 decides at once
  }
}

void Allocator::create_ring(const std::vector<PeerName>& peers) {
  const std::vector<PeerName> value = paxos::normalize_consensus(peers);
  std::string list;
  for (PeerName p : value) {
    if (!list.empty()) list += ' ';
    list += p.to_string();
  }
  LOOM_LOG(host_.log(), kLog, info, "Creating ring for [" << list << "]");
  if (auto ok = ring_.claim_for_peers(value); !ok) {
    LOOM_LOG(host_.log(), kLog, error, ok.error().message);
    return;
  }
  ring_updated();
  broadcast();
}

void Allocator::ring_updated() {
  // With a ring we need Paxos no more.
  if (awaiting_consensus_) {
    awaiting_consensus_ = false;
    paxos_.reset();
  }
  persist_ring();
  space_.update_ranges(ring_.owned_ranges());
  reconcile_space();
  try_pending_ops();
}

void Allocator::propose() {
  if (!paxos_) return;
  LOOM_LOG(host_.log(), kLog, debug, "Paxos proposing");
  paxos_->propose();
  broadcast();
}

unsigned Allocator::quorum() const {
  if (config_.init.peer_count) return paxos::quorum_for_peer_count(*config_.init.peer_count);
  return paxos::quorum_for_targets(view_.target_count());
}

Result<void> Allocator::update(PeerName sender, ByteView msg) {
  auto data = decode_gossip(msg);
  if (!data) return data.error();
  merge_nicknames(std::move(data->nicknames));

  if (data->ring) {
    // Whoever sent a ring: merge it. This also ends our wait for consensus
    // if we had no ring yet.
    MergeError why{};
    auto merged = ring_.merge(
        *data->ring,
        [this](const std::vector<Range>& ranges) { return space_.has_allocations_in(ranges); },
        &why);
    if (!merged) {
      metric_merge_errors_.add();
      Error e = merged.error();
      if (why == MergeError::different_seeds) {
        e = make_error("IP allocation was seeded by different peers (received: " +
                       annotate(data->ring->seeds()) + ", ours: " + annotate(ring_.seeds()) + ")");
      }
      LOOM_LOG(host_.log(), kLog, warn, e.message);
      return e;
    }
    if (*merged) {
      prune_nicknames();
      ring_updated();
    }
  } else if (!ring_.empty()) {
    // An elector proposing or a ringless peer asking: we have a ring, so
    // send it back.
    if (!sender.is_unknown()) send_ring_update(sender);
  } else if (!data->paxos.empty()) {
    if (paxos_ && paxos_->update(data->paxos)) {
      if (paxos_->think()) broadcast();  // something important changed
      if (auto c = paxos_->consensus()) create_ring(c->value);
    }
  } else if (paxos_ && paxos_->is_elector() && !sender.is_unknown()) {
    // A ringless non-elector asking by broadcast (never on periodic gossip,
    // which would force consensus needlessly): start it on their behalf.
    establish_ring();
  }
  return {};
}

void Allocator::donate_space(Range r, PeerName to) {
  const std::optional<Range> chunk = space_.donate(r);
  if (!chunk) {
    LOOM_LOG(host_.log(), kLog, debug, "No space to give to peer " << describe(to));
    (void)send_space_request_denied(to, r);
  } else {
    LOOM_LOG(host_.log(), kLog, debug,
             "Giving range " << chunk->to_string() << " to " << describe(to));
    if (auto granted = ring_.grant_range_to_host(chunk->start, chunk->end, to); !granted) {
      // Space and ring disagree about what we own; keep the space.
      LOOM_LOG(host_.log(), kLog, error, granted.error().message);
      space_.add(*chunk);
    } else {
      persist_ring();
    }
  }
  // Whatever happened, the asker gets our ring: what we gave, or where more
  // may be found. (Weave does not broadcast a donation.)
  send_ring_update(to);
}

// ---- Messages ---------------------------------------------------------------

Result<void> Allocator::send_space_request(PeerName dest, Range r) {
  if (!gossip_) return make_error("no gossip channel");
  Bytes msg{kSpaceRequest};
  const Bytes body = encode_range(r);
  msg.insert(msg.end(), body.begin(), body.end());
  return gossip_->gossip_unicast(dest, msg);
}

Result<void> Allocator::send_space_request_denied(PeerName dest, Range r) {
  if (!gossip_) return make_error("no gossip channel");
  Bytes msg{kSpaceRequestDenied};
  const Bytes body = encode_range(r);
  msg.insert(msg.end(), body.begin(), body.end());
  return gossip_->gossip_unicast(dest, msg);
}

void Allocator::send_ring_update(PeerName dest) {
  if (!gossip_) return;
  Bytes msg{kRingUpdate};
  const Bytes body = encode_state();
  msg.insert(msg.end(), body.begin(), body.end());
  (void)gossip_->gossip_unicast(dest, msg);
}

void Allocator::broadcast() {
  if (gossip_) gossip_->gossip_broadcast(std::make_shared<GossipData>(self_));
}

Bytes Allocator::encode_state() const {
  // Paxos only until there is a ring (observers send none, which asks
  // electors for a ring); the ring alone after.
  if (ring_.empty()) {
    return encode_gossip(nicknames_, paxos_ ? &paxos_->gossip_state() : nullptr, nullptr);
  }
  return encode_gossip(nicknames_, nullptr, &ring_);
}

// ---- Gossiper -----------------------------------------------------------------

Result<void> Allocator::on_gossip_unicast(PeerName src, ByteView msg) {
  if (msg.empty()) return make_error("IPAM: empty unicast message from " + src.to_string());
  const ByteView body = msg.subview(1);
  Result<void> result;
  switch (msg[0]) {
    case kSpaceRequest: {
      auto r = decode_range(body);
      if (!r) return r.error();
      LOOM_LOG(host_.log(), kLog, debug, "Peer " << describe(src) << " asked me for space");
      // Without a ring, ignore it: they will ask again.
      if (!ring_.empty()) donate_space(*r, src);
      break;
    }
    case kSpaceRequestDenied: {
      auto r = decode_range(body);
      if (!r) return r.error();
      space_request_denied(src, *r);
      break;
    }
    case kRingUpdate:
      result = update(src, body);
      break;
    default:
      return make_error("IPAM: unknown unicast message type " + std::to_string(msg[0]) + " from " +
                        src.to_string());
  }
  settle();
  return result;
}

Result<std::unique_ptr<mesh::GossipData>> Allocator::on_gossip_broadcast(PeerName src,
                                                                         ByteView update_msg) {
  auto result = update(src, update_msg);
  settle();
  if (!result) return result.error();
  // Relay our own full state along the sender's tree (Weave returns
  // alloc.Gossip()).
  return std::unique_ptr<mesh::GossipData>(std::make_unique<GossipData>(self_));
}

std::unique_ptr<mesh::GossipData> Allocator::gossip() {
  return std::make_unique<GossipData>(self_);
}

Result<std::unique_ptr<mesh::GossipData>> Allocator::on_gossip(ByteView msg) {
  auto result = update(mesh::kUnknownPeerName, msg);
  settle();
  if (!result) return result.error();
  // Never propagated further: periodic gossip reaches everyone by itself.
  return std::unique_ptr<mesh::GossipData>();
}

// ---- After every action -----------------------------------------------------

void Allocator::settle() {
  reconcile_space();
  report_free_space();
  publish_metrics();
}

// Weave asserts that Space holds exactly what the ring says we own, and
// panics when a merge took a range of ours away (issues #1463, #2083). We
// drop the free part instead; addresses still in use there stay, and the
// invariant checker reports them as allocated outside owned space.
void Allocator::reconcile_space() {
  if (ring_.empty()) return;
  const uint64_t dropped = space_.retain(ring_.owned_ranges());
  if (dropped > 0) {
    LOOM_LOG(host_.log(), kLog, warn,
             "The ring no longer gives us " << dropped
                                            << " free addresses we held; dropped them from "
                                               "our space");
  }
}

void Allocator::report_free_space() {
  if (ring_.empty()) return;
  const std::vector<Range> ranges = ring_.owned_ranges();
  if (ranges.empty()) return;
  auto changed = ring_.report_free(space_.free_in_each(ranges));
  if (!changed) {
    LOOM_LOG(host_.log(), kLog, error, changed.error().message);
  } else if (*changed) {
    persist_ring();
  }
}

// As Weave's metrics.go derives them from the status (summariseIpamStats),
// without building the status's strings.
void Allocator::publish_metrics() {
  std::map<PeerName, uint64_t> owners;
  for (const RangeInfo& r : ring_.all_range_info()) owners[r.peer] += r.range.size();
  size_t unreachable = 0;
  uint64_t unreachable_ips = 0;
  for (const auto& [peer, ips] : owners) {
    if (is_known(peer)) continue;
    ++unreachable;
    unreachable_ips += ips;
  }
  const auto universe = static_cast<double>(config_.universe.size());
  metric_ips_.set(static_cast<double>(space_.num_allocated()));
  metric_max_ips_.set(universe);
  metric_unreachable_count_.set(static_cast<double>(unreachable));
  metric_unreachable_percentage_.set(static_cast<double>(unreachable_ips) * 100.0 / universe);
  metric_pending_allocates_.set(static_cast<double>(pending_allocates_.size()));
  metric_pending_claims_.set(static_cast<double>(pending_claims_.size()));
}

// ---- Owned addresses --------------------------------------------------------

bool Allocator::has_owned_by_container(const std::string& ident) const {
  auto it = owned_.find(ident);
  return it != owned_.end() && it->second.is_container;
}

void Allocator::add_owned(const std::string& ident, Cidr cidr, bool is_container) {
  Owned& d = owned_[ident];
  d.is_container = is_container;
  d.cidrs.push_back(cidr);
  persist_owned();
}

std::vector<Cidr> Allocator::remove_all_owned(const std::string& ident) {
  auto it = owned_.find(ident);
  if (it == owned_.end()) return {};
  std::vector<Cidr> cidrs = std::move(it->second.cidrs);
  owned_.erase(it);
  persist_owned();
  return cidrs;
}

bool Allocator::remove_owned(const std::string& ident, Address address) {
  auto it = owned_.find(ident);
  if (it == owned_.end()) return false;
  auto& cidrs = it->second.cidrs;
  for (auto c = cidrs.begin(); c != cidrs.end(); ++c) {
    if (c->addr != address) continue;
    cidrs.erase(c);
    if (cidrs.empty()) owned_.erase(it);
    persist_owned();
    return true;
  }
  return false;
}

std::string Allocator::find_owner(Address address) const {
  for (const auto& [ident, d] : owned_) {
    for (const Cidr& c : d.cidrs) {
      if (c.addr == address) return ident;
    }
  }
  return {};
}

std::vector<Cidr> Allocator::owned_in_range(const std::string& ident, Range r) const {
  std::vector<Cidr> out;
  auto it = owned_.find(ident);
  if (it == owned_.end()) return out;
  for (const Cidr& c : it->second.cidrs) {
    if (r.contains(c.addr)) out.push_back(c);
  }
  return out;
}

Result<void> Allocator::delete_ident(const std::string& ident) {
  const std::vector<Cidr> cidrs = remove_all_owned(ident);
  if (cidrs.empty()) return make_error("Delete: no addresses for " + ident);
  for (const Cidr& c : cidrs) (void)space_.free(c.addr);
  return {};
}

void Allocator::remove_dead_containers() {
  const Time cutoff = host_.now() - config_.container_died_timeout;
  for (auto it = dead_.begin(); it != dead_.end();) {
    if (it->second < cutoff) {
      if (delete_ident(it->first)) {
        LOOM_LOG(host_.log(), kLog, debug, "Removed addresses for container " << it->first);
      }
      it = dead_.erase(it);
    } else {
      ++it;
    }
  }
}

// ---- Peers and nicknames ----------------------------------------------------

bool Allocator::is_known(PeerName peer) const {
  return peer == config_.name || view_.is_known(peer);
}

PeerName Allocator::pick_peer_from_nicknames(const std::function<bool(PeerName)>& valid) const {
  for (const auto& [name, nickname] : nicknames_) {
    if (name != config_.name && valid(name)) return name;
  }
  return mesh::kUnknownPeerName;
}

// An heir, in Weave's order of preference: a live peer with ring entries;
// a live peer known by nickname; a vanished peer with entries; a vanished
// peer known by nickname. (Weave walks a Go map for the nickname cases; we
// take the lowest name.)
PeerName Allocator::pick_peer_for_transfer() const {
  auto known = [this](PeerName p) { return view_.is_known(p); };
  auto any = [](PeerName) { return true; };
  if (PeerName h = ring_.pick_peer_for_transfer(known); !h.is_unknown()) return h;
  if (PeerName h = pick_peer_from_nicknames(known); !h.is_unknown()) return h;
  if (PeerName h = ring_.pick_peer_for_transfer(any); !h.is_unknown()) return h;
  return pick_peer_from_nicknames(any);
}

// By nickname first (peers that have gone away are still in our nicknames),
// else as a peer name.
std::optional<PeerName> Allocator::lookup_peername(const std::string& name) const {
  for (const auto& [peer, nickname] : nicknames_) {
    if (nickname == name) return peer;
  }
  return PeerName::parse(name);
}

// Both are sorted by name: one walk updates the nicknames we have, and those
// of peers new to us go in together.
void Allocator::merge_nicknames(Nicknames&& theirs) {
  std::vector<std::pair<PeerName, std::string>> added;
  auto at = nicknames_.begin();
  for (auto& [peer, nickname] : theirs) {
    at = std::lower_bound(at, nicknames_.end(), peer,
                          [](const auto& entry, PeerName p) { return entry.first < p; });
    if (at == nicknames_.end() || at->first != peer) {
      added.emplace_back(peer, std::move(nickname));
    } else if (at->second != nickname) {
      at->second = std::move(nickname);
    }
  }
  if (!added.empty()) {
    // Not from move iterators: Boost 1.74's ordered-range insert reads an
    // element more than once, and would take moved-from nicknames.
    nicknames_.insert(boost::container::ordered_unique_range, added.begin(), added.end());
  }
}

// Keeps the nicknames of peers in the ring or in the topology.
void Allocator::prune_nicknames() {
  const std::vector<PeerName> owners = ring_.peer_names();
  for (auto it = nicknames_.begin(); it != nicknames_.end();) {
    if (!std::binary_search(owners.begin(), owners.end(), it->first) && !is_known(it->first)) {
      it = nicknames_.erase(it);
    } else {
      ++it;
    }
  }
}

std::string Allocator::describe(PeerName peer) const {
  auto it = nicknames_.find(peer);
  return it == nicknames_.end() ? peer.to_string() : peer.to_string() + "(" + it->second + ")";
}

std::string Allocator::annotate(const std::vector<PeerName>& names) const {
  std::string out = "[";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ' ';
    out += describe(names[i]);
  }
  return out + "]";
}

// ---- Persistence ------------------------------------------------------------

void Allocator::persist_ring() {
  Store& store = host_.store();
  auto name = store.put(kNameKey, config_.name.to_string());
  auto ring = name ? store.put(kRingKey, as_string(encode_ring(ring_))) : name;
  if (!ring)
    LOOM_LOG(host_.log(), kLog, error, "Error persisting ring data: " << ring.error().message);
}

void Allocator::persist_owned() {
  auto ok = host_.store().put(kOwnedKey, encode_owned(owned_));
  if (!ok)
    LOOM_LOG(host_.log(), kLog, error, "Error persisting address data: " << ok.error().message);
}

Result<bool> Allocator::load_persisted_data() {
  const Store& store = host_.store();
  const std::optional<std::string> name = store.get(kNameKey);
  const std::optional<std::string> ring = store.get(kRingKey);
  const std::optional<std::string> owned = store.get(kOwnedKey);
  auto overwrite = [&](const std::string& why) {
    LOOM_LOG(host_.log(), kLog, info, why);
    persist_ring();
    persist_owned();
    return false;
  };
  if (!name || !ring) return overwrite("No valid persisted data");
  if (*name != config_.name.to_string()) {
    return overwrite("Deleting persisted data for peername " + *name);
  }
  auto decoded = decode_ring(ByteView(std::string_view(*ring)));
  if (!decoded) return make_error("IPAM store: key \"ring\": " + decoded.error().message);
  if (decoded->universe() != ring_.universe()) {
    return overwrite("Deleting persisted data for IPAM range " +
                     decoded->universe().as_cidr_string() + "; our range is " +
                     config_.universe.to_string());
  }
  std::map<std::string, Owned> owned_data;
  if (owned) {
    auto parsed = decode_owned(*owned);
    if (!parsed) return make_error("IPAM store: key \"ownedAddresses\": " + parsed.error().message);
    owned_data = std::move(*parsed);
  }
  ring_ = Ring::from_parts(ring_.universe(), config_.name, decoded->entries(), decoded->seeds());
  space_.update_ranges(ring_.owned_ranges());
  owned_ = std::move(owned_data);
  for (const auto& [ident, d] : owned_) {
    for (const Cidr& c : d.cidrs) (void)space_.claim(c.addr);
  }
  return true;
}

// ---- Status -----------------------------------------------------------------

IpamStatus Allocator::status() const {
  IpamStatus s;
  s.name = config_.name.to_string();
  s.nickname = config_.nickname;
  if (awaiting_consensus_ && paxos_) {
    PaxosStatus p;
    p.elector = paxos_->is_elector();
    if (p.elector) {
      const paxos::Status ps = paxos_->status();
      p.known_nodes = ps.known_nodes;
      p.quorum = ps.quorum;
    }
    s.paxos = p;
  }
  s.range = config_.universe.to_string();
  s.range_num_ips = config_.universe.size();
  s.active_ips = space_.num_allocated();
  s.default_subnet = config_.default_subnet.value_or(config_.universe).to_string();
  for (const RangeInfo& r : ring_.all_range_info()) {
    EntryStatus e;
    e.token = format_address(r.range.start);
    e.size = r.range.size();
    e.peer = r.peer.to_string();
    if (auto it = nicknames_.find(r.peer); it != nicknames_.end()) e.nickname = it->second;
    e.is_known_peer = is_known(r.peer);
    e.version = r.version;
    s.entries.push_back(std::move(e));
  }
  for (const auto& op : pending_claims_) {
    s.pending_claims.push_back(ClaimStatus{op->ident, op->cidr.to_string()});
  }
  for (const auto& op : pending_allocates_) {
    s.pending_allocates.push_back(op->ident + " " + op->subnet.to_string());
  }
  return s;
}

AllocatorSnapshot Allocator::snapshot() const {
  AllocatorSnapshot s;
  s.name = config_.name;
  s.nickname = config_.nickname;
  if (!ring_.empty()) s.ring = ring_;
  s.space = space_.owned_ranges();
  s.allocated = space_.allocated().ranges();
  for (const auto& [ident, d] : owned_) {
    for (const Cidr& c : d.cidrs) {
      if (ring_.contains(c.addr)) s.idents[c.addr] = ident;
    }
  }
  return s;
}

}  // namespace loom::ipam
