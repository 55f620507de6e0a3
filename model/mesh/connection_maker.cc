#include "model/mesh/connection_maker.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <utility>
#include <vector>

namespace loom::mesh {
namespace {

// Host time for status lines: "12.345s" since the backend's epoch.
std::string format_time(Time t) {
  char buf[32];
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t).count();
  std::snprintf(buf, sizeof buf, "%lld.%03llds", static_cast<long long>(ms / 1000),
                static_cast<long long>(ms % 1000));
  return buf;
}

// Inserts, then seal(), then lookups.
template <typename T>
class SortedSet {
 public:
  void insert(const T& value) { values_.push_back(value); }
  void seal() {
    std::sort(values_.begin(), values_.end());
    values_.erase(std::unique(values_.begin(), values_.end()), values_.end());
  }
  size_t count(const T& value) const {
    return std::binary_search(values_.begin(), values_.end(), value) ? 1 : 0;
  }
  std::vector<T> take() && { return std::move(values_); }

 private:
  std::vector<T> values_;
};

bool never_retry(const ConnectionError& e) {
  return e.kind == ConnectionError::Kind::connect_to_self ||
         e.kind == ConnectionError::Kind::name_collision;
}

}  // namespace

std::string_view to_string(ConnectionMaker::TargetState state) {
  switch (state) {
    case ConnectionMaker::TargetState::waiting:
      return "waiting";
    case ConnectionMaker::TargetState::attempting:
      return "attempting";
    case ConnectionMaker::TargetState::connected:
      return "connected";
    case ConnectionMaker::TargetState::suspended:
      return "suspended";
  }
  return "?";
}

ConnectionMaker::ConnectionMaker(Host& host, PeerName ourself, const MeshConfig& config,
                                 Callbacks callbacks)
    : host_(host), ourself_(ourself), config_(config), callbacks_(std::move(callbacks)) {}

ConnectionMaker::~ConnectionMaker() { host_.cancel(timer_); }

std::vector<Error> ConnectionMaker::initiate_connections(const std::vector<std::string>& peers,
                                                         bool replace) {
  std::vector<Error> errors;
  std::map<std::string, DirectPeer> parsed;
  for (const std::string& peer : peers) {
    if (auto ep = Endpoint::parse(peer)) {
      parsed[peer] = DirectPeer{ep->addr, ep->port};
    } else if (auto ip = Ipv4::parse(peer)) {
      parsed[peer] = DirectPeer{*ip, 0};
    } else {
      errors.push_back(make_error("invalid peer address \"" + peer + "\": want ip or ip:port"));
    }
  }
  if (replace) direct_.clear();
  ++direct_version_;
  dirty_ = true;
  for (const auto& [text, peer] : parsed) {
    direct_[text] = peer;
    // Curtail any existing back-off.
    if (auto it = targets_.find(complete(peer)); it != targets_.end()) try_now(it->second);
  }
  check();
  return errors;
}

void ConnectionMaker::forget_connections(const std::vector<std::string>& peers) {
  for (const std::string& peer : peers) direct_.erase(peer);
  ++direct_version_;
  dirty_ = true;
}

void ConnectionMaker::connection_created(const LocalConnection& conn) {
  connections_.push_back(conn);
  ++connections_version_;
  dirty_ = true;
  if (!conn.outbound) return;
  if (auto it = targets_.find(conn.remote); it != targets_.end()) {
    it->second.state = TargetState::connected;
  }
}

void ConnectionMaker::connection_terminated(const LocalConnection& conn,
                                            const ConnectionError& reason) {
  dirty_ = true;
  auto same = [&](const LocalConnection& c) {
    return c.remote == conn.remote && c.outbound == conn.outbound && c.peer == conn.peer;
  };
  if (auto it = std::find_if(connections_.begin(), connections_.end(), same);
      it != connections_.end()) {
    connections_.erase(it);
    ++connections_version_;
  }
  if (conn.outbound) {
    if (auto it = targets_.find(conn.remote); it != targets_.end()) {
      Target& t = it->second;
      t.state = TargetState::waiting;
      t.last_error = reason;
      if (never_retry(reason)) {
        try_never(t, config_);
      } else if (!t.try_after || host_.now() > *t.try_after + config_.reset_backoff_after) {
        // It lived long enough: no reason to think the next attempt fails.
        try_now(t);
      } else {
        try_later(t);
      }
    }
  }
  check();
}

void ConnectionMaker::connect_failed(const Endpoint& address, const ConnectionError& reason) {
  dirty_ = true;
  if (auto it = targets_.find(address); it != targets_.end()) {
    Target& t = it->second;
    t.state = TargetState::waiting;
    t.last_error = reason;
    if (never_retry(reason)) {
      try_never(t, config_);
    } else {
      try_later(t);
    }
  }
  check();
}

void ConnectionMaker::refresh() { check(); }

void ConnectionMaker::try_now(Target& t) {
  t.try_after = host_.now();
  t.try_interval = config_.initial_backoff;
}

// The delay at the nth retry is uniform in [i/2, 3i/2), i = initial × 1.5^(n-1).
void ConnectionMaker::try_later(Target& t) {
  auto interval = static_cast<uint64_t>(t.try_interval.count());
  t.try_after =
      host_.now() + t.try_interval / 2 + Time(static_cast<int64_t>(host_.random().below(interval)));
  auto grown = std::chrono::duration_cast<Time>(std::chrono::duration<double, std::nano>(
      static_cast<double>(t.try_interval.count()) * config_.backoff_factor));
  t.try_interval = std::min(grown, config_.max_backoff);
}

void ConnectionMaker::try_never(Target& t, const MeshConfig& config) {
  t.try_after.reset();
  t.try_interval = config.max_backoff;
}

Endpoint ConnectionMaker::complete(const DirectPeer& p) const {
  return Endpoint{p.addr, p.port == 0 ? config_.port : p.port};
}

// Sorted vectors rather than std::sets: this runs at every topology change
// that changes the known peers, with every direct peer and discovered
// target each time. Makes a target for each valid address not seen before.
void ConnectionMaker::derive_targets() {
  SortedSet<Endpoint> valid;
  SortedSet<Endpoint> direct;
  SortedSet<PeerName> our_peers;
  SortedSet<Endpoint> our_targets;
  SortedSet<Ipv4> inbound_ips;
  for (const LocalConnection& c : connections_) {
    our_peers.insert(c.peer);
    our_targets.insert(c.remote);
    if (!c.outbound) inbound_ips.insert(c.remote.addr);
  }
  our_peers.seal();
  our_targets.seal();
  inbound_ips.seal();

  auto add_target = [&](const Endpoint& address) {
    if (our_targets.count(address) != 0) return;
    valid.insert(address);
    if (targets_.count(address) != 0) return;
    Target t;
    try_now(t);
    targets_.emplace(address, t);
  };

  if (direct_endpoints_version_ != direct_version_) {
    direct_endpoints_.clear();
    for (const auto& [text, peer] : direct_) direct_endpoints_.emplace_back(complete(peer), peer);
    std::sort(direct_endpoints_.begin(), direct_endpoints_.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    direct_endpoints_version_ = direct_version_;
  }
  for (const auto& [address, peer] : direct_endpoints_) {
    direct.insert(address);
    // A peer given without a port that already connected to us is left be.
    if (peer.port == 0 && inbound_ips.count(peer.addr) != 0) continue;
    add_target(address);
  }
  direct.seal();

  if (config_.discovery && callbacks_.visit_known_targets) {
    callbacks_.visit_known_targets([&](PeerName remote, const Endpoint& address) {
      if (remote != ourself_ && our_peers.count(remote) == 0) add_target(address);
    });
  } else if (config_.discovery && callbacks_.known_peers) {
    for (const KnownPeer& peer : callbacks_.known_peers()) {
      if (peer.name == ourself_) continue;
      for (const KnownConnection& c : peer.connections) {
        if (c.remote == ourself_ || our_peers.count(c.remote) != 0) continue;
        // An inbound connection's remote port is ephemeral: try the mesh port.
        add_target(c.outbound ? c.address : Endpoint{c.address.addr, config_.port});
      }
    }
  }

  valid.seal();
  valid_ = std::move(valid).take();
  direct_targets_ = std::move(direct).take();
}

void ConnectionMaker::check() {
  // The valid targets (direct ones not connected, discovered ones) are
  // derived again only when what they derive from changed.
  const bool versioned = static_cast<bool>(callbacks_.known_peers_version);
  const uint64_t known_version = versioned ? callbacks_.known_peers_version() : 0;
  if (!derived_ || !versioned || derived_from_[0] != known_version ||
      derived_from_[1] != direct_version_ || derived_from_[2] != connections_version_) {
    derive_targets();
    derived_ = true;
    dirty_ = true;  // targets may have been made
    derived_from_[0] = known_version;
    derived_from_[1] = direct_version_;
    derived_from_[2] = connections_version_;
  }
  const Time now = host_.now();
  // Nothing changed since the last check and nothing has fallen due: it
  // would find the same targets, none due (the last check dialled or backed
  // off every one), and the same next time. Only the timer is armed again,
  // as it would be.
  if (!dirty_ && (!next_ || now < *next_)) {
    host_.cancel(timer_);
    timer_ = 0;
    if (next_) {
      timer_ = host_.after(*next_ - now, [this] {
        timer_ = 0;
        check();
      });
    }
    return;
  }
  dirty_ = false;

  // targets_, valid_ and direct_targets_ are all sorted by address: one walk
  // along the three answers "valid?" and "direct?" for each target.
  auto valid_at = valid_.cbegin();
  auto direct_at = direct_targets_.cbegin();
  auto member = [](std::vector<Endpoint>::const_iterator& at, const std::vector<Endpoint>& set,
                   const Endpoint& a) {
    while (at != set.end() && *at < a) ++at;
    return at != set.end() && *at == a;
  };

  std::optional<Time> next;
  std::vector<decltype(targets_)::iterator> due;
  for (auto it = targets_.begin(); it != targets_.end();) {
    const Endpoint& address = it->first;
    Target& t = it->second;
    if (t.state != TargetState::waiting && t.state != TargetState::suspended) {
      ++it;
      continue;
    }
    if (!member(valid_at, valid_, address)) {
      if (member(direct_at, direct_targets_, address)) {
        t.state = TargetState::suspended;
        ++it;
      } else {
        it = targets_.erase(it);  // earlier iterators (in due) stay valid
      }
      continue;
    }
    t.state = TargetState::waiting;
    if (t.try_after && *t.try_after <= now) {
      due.push_back(it);
    } else if (t.try_after && (!next || *t.try_after < *next)) {
      next = t.try_after;
    }
    ++it;
  }

  // Weave's attemptConnection: createConnection refuses at the limit before
  // dialling (connections added so far, not attempts in flight), and the
  // target backs off like any failed attempt (connectionAborted). Under the
  // limit every due target is dialled, and the connection layer refuses the
  // surplus when adding. When they outnumber the room left, dials go out in
  // random order, as mesh's goroutines start in Go's random map order: in
  // address order, handshakes that finish together would favour the same
  // few peers everywhere. Otherwise every dial is kept and address order
  // will do.
  const size_t added = connections_.size();
  const bool at_limit = config_.conn_limit != 0 && added >= config_.conn_limit;
  const bool contested = config_.conn_limit != 0 && due.size() > config_.conn_limit - added;
  for (size_t k = 0; contested && k + 1 < due.size(); ++k) {
    const size_t pick = k + static_cast<size_t>(host_.random().below(due.size() - k));
    std::swap(due[k], due[pick]);
  }
  std::vector<std::pair<Endpoint, bool>> to_dial;
  for (auto it : due) {
    Target& t = it->second;
    if (at_limit) {
      t.last_error = ConnectionError::other("Connection limit reached (" +
                                            std::to_string(config_.conn_limit) + ")");
      try_later(t);
      if (!next || *t.try_after < *next) next = t.try_after;
      LOOM_LOG(host_.log(), "mesh", info,
               "->[" << it->first.to_string()
                     << "] error during connection attempt: " << t.last_error->message);
      continue;
    }
    t.state = TargetState::attempting;
    to_dial.emplace_back(
        it->first, std::binary_search(direct_targets_.begin(), direct_targets_.end(), it->first));
  }

  next_ = next;
  host_.cancel(timer_);
  timer_ = 0;
  if (next) {
    timer_ = host_.after(*next - now, [this] {
      timer_ = 0;
      check();
    });
  }

  for (const auto& [address, accept_new_peer] : to_dial) {
    LOOM_LOG(host_.log(), "mesh", info, "->[" << address.to_string() << "] attempting connection");
    if (callbacks_.dial) callbacks_.dial(address, accept_new_peer);
  }
}

std::vector<std::string> ConnectionMaker::direct_peers() const {
  std::vector<std::string> out;
  for (const auto& [text, peer] : direct_) out.push_back(text);
  return out;
}

std::string_view ConnectionMaker::row_state(const Target& t) {
  switch (t.state) {
    case TargetState::waiting:
      return t.last_error ? "failed" : "waiting";
    case TargetState::attempting:
      return t.last_error ? "retrying" : "connecting";
    case TargetState::connected:
    case TargetState::suspended:
      return {};
  }
  return {};
}

std::vector<TargetStatus> ConnectionMaker::target_status() const {
  std::vector<TargetStatus> rows;
  for (const auto& [address, t] : targets_) {
    TargetStatus row;
    row.state = std::string(row_state(t));
    if (row.state.empty()) continue;
    row.address = address.to_string();
    if (t.state == TargetState::waiting) {
      std::string until = t.try_after ? format_time(*t.try_after) : "never";
      row.info = t.last_error ? t.last_error->message + ", retry: " + until : "until: " + until;
    } else if (t.last_error) {
      row.info = t.last_error->message;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

ConnectionMaker::TargetCounts ConnectionMaker::target_state_counts() const {
  TargetCounts counts;
  for (const auto& [address, t] : targets_) {
    if (t.state == TargetState::waiting) {
      ++(t.last_error ? counts.failed : counts.waiting);
    } else if (t.state == TargetState::attempting) {
      ++(t.last_error ? counts.retrying : counts.connecting);
    }
  }
  return counts;
}

std::optional<ConnectionMaker::TargetState> ConnectionMaker::target_state(
    const Endpoint& address) const {
  auto it = targets_.find(address);
  if (it == targets_.end()) return std::nullopt;
  return it->second.state;
}

}  // namespace loom::mesh
