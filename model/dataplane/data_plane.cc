#include "model/dataplane/data_plane.h"

#include <algorithm>
#include <sstream>

#include "model/dataplane/sleeve_frames.h"
#include "model/mesh/protocol.h"

namespace loom::dataplane {
namespace {

constexpr wire::MacAddress kStpMac{{0x01, 0x80, 0xC2, 0x00, 0x00, 0x00}};

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

DataPlaneCounters make_counters(Metrics& m) {
  DataPlaneCounters c;
  c.captured = &m.counter("loom_dataplane_captured_frames_total");
  c.injected = &m.counter("loom_dataplane_injected_frames_total");
  c.relayed = &m.counter("loom_dataplane_relayed_frames_total");
  c.mac_moves = &m.counter("loom_dataplane_mac_moves_total");
  c.frag_needed = &m.counter("loom_dataplane_icmp_frag_needed_total");
  for (OverlayKind k : {OverlayKind::kFastdp, OverlayKind::kSleeve}) {
    const Labels labels{{"overlay", to_string(k)}};
    c.sent[static_cast<size_t>(k)] = &m.counter("loom_dataplane_sent_frames_total", labels);
    c.received[static_cast<size_t>(k)] = &m.counter("loom_dataplane_received_frames_total", labels);
  }
  for (size_t i = 0; i < kDropReasons; ++i) {
    c.dropped[i] = &m.counter("loom_dataplane_dropped_frames_total",
                              {{"reason", to_string(static_cast<Drop>(i))}});
  }
  for (size_t i = 0; i < crypto::kEspRejectReasons; ++i) {
    c.esp_rejected[i] = &m.counter(
        "loom_dataplane_rejected_packets_total",
        {{"overlay", "fastdp"}, {"reason", crypto::to_string(static_cast<crypto::EspReject>(i))}});
  }
  for (size_t i = 0; i < crypto::kSleeveRejectReasons; ++i) {
    c.sleeve_rejected[i] =
        &m.counter("loom_dataplane_rejected_packets_total",
                   {{"overlay", "sleeve"},
                    {"reason", crypto::to_string(static_cast<crypto::SleeveReject>(i))}});
  }
  c.flows = &m.gauge("weave_flows");
  c.macs = &m.gauge("loom_dataplane_macs");
  return c;
}

}  // namespace

const char* to_string(Drop reason) {
  switch (reason) {
    case Drop::kStp:
      return "stp";
    case Drop::kLocalDestination:
      return "local_destination";
    case Drop::kMacConflict:
      return "mac_conflict";
    case Drop::kPolicy:
      return "policy";
    case Drop::kNoRoute:
      return "no_route";
    case Drop::kNoConnection:
      return "no_connection";
    case Drop::kNoOverlay:
      return "no_overlay";
    case Drop::kAwaitingContact:
      return "awaiting_contact";
    case Drop::kTooBig:
      return "too_big";
    case Drop::kTooBigBroadcast:
      return "too_big_broadcast";
    case Drop::kUnknownSender:
      return "unknown_sender";
    case Drop::kUnknownPeer:
      return "unknown_peer";
    case Drop::kBadFrame:
      return "bad_frame";
    case Drop::kBadDatagram:
      return "bad_datagram";
    case Drop::kNoSa:
      return "no_sa";
    case Drop::kPlaintextFromPeer:
      return "plaintext_from_encrypted_peer";
    case Drop::kSendFailed:
      return "send_failed";
    case Drop::kCount:
      break;
  }
  return "unknown";
}

const char* to_string(OverlayKind kind) {
  return kind == OverlayKind::kFastdp ? "fastdp" : "sleeve";
}

nlohmann::json to_json(const DataPlaneStatus& status) {
  nlohmann::json macs = nlohmann::json::array();
  for (const auto& m : status.macs) {
    macs.push_back({{"Mac", m.mac},
                    {"Name", m.peer},
                    {"LastSeen", std::chrono::duration<double>(m.last_seen).count()}});
  }
  nlohmann::json connections = nlohmann::json::array();
  for (const auto& c : status.connections) {
    connections.push_back({{"Peer", c.peer},
                           {"Overlay", c.overlay},
                           {"Established", c.established},
                           {"Encrypted", c.encrypted},
                           {"MTU", c.mtu}});
  }
  return {{"MACs", macs}, {"Flows", status.flows}, {"Connections", connections}};
}

// ---- Construction -----------------------------------------------------------

DataPlane::DataPlane(Host& host, DataPlaneConfig config, FramePort* port)
    : host_(host),
      config_(std::move(config)),
      port_(port != nullptr ? *port : host.bridge()),
      counters_(make_counters(host.metrics())),
      fastdp_(*this),
      sleeve_(*this),
      macs_(config_.mac_max_age) {}

DataPlane::~DataPlane() {
  for (TimerId t : {bury_timer_, mac_timer_, flow_timer_}) host_.cancel(t);
  if (started_) port_.on_receive(nullptr);
}

void DataPlane::attach(Topology& topology) { topology_ = &topology; }

Result<void> DataPlane::start() {
  if (started_) return {};
  if (topology_ == nullptr) return make_error("data plane: start() before attach()");
  if (auto ok = sleeve_.start(); !ok) return ok;
  if (auto ok = fastdp_.start(); !ok) return ok;
  port_.on_receive([this](ByteView frame) { capture(frame); });
  started_ = true;
  mac_timer_ = host_.after(macs_.max_age() / 10, [this] { sweep_macs(); });
  flow_timer_ = host_.after(config_.flow_expiry_interval, [this] { sweep_flows(); });
  return {};
}

void DataPlane::set_flow_verdict(FlowVerdict* verdict) {
  verdict_ = verdict != nullptr ? verdict : &allow_all_;
  flows_.flush();
  publish_gauges();
}

void DataPlane::invalidate_routes() {
  flows_.flush();
  publish_gauges();
}

void DataPlane::peer_removed(PeerName peer) {
  macs_.remove_peer(peer);
  publish_gauges();
}

// ---- mesh::Overlay ------------------------------------------------------------

std::optional<std::string> DataPlane::advertised_overlays() const {
  std::string out;
  for (const std::string& name : config_.overlays) {
    if (!out.empty()) out += ' ';
    out += name;
  }
  return out;
}

Result<std::vector<std::string>> DataPlane::common_overlays(
    const mesh::OverlayConnectionParams& params) const {
  auto feature = params.remote_features.find("Overlays");
  std::vector<std::string> theirs;
  if (feature != params.remote_features.end()) {
    theirs = split_words(feature->second);
  } else if (config_.assume_remote_overlays) {
    theirs = config_.overlays;
  } else {
    theirs = {"sleeve"};  // Weave's compatibility overlay
  }
  // The connecting side's preference decides the order on both ends.
  const std::vector<std::string>& order = params.outbound ? config_.overlays : theirs;
  const std::vector<std::string>& other = params.outbound ? theirs : config_.overlays;
  std::vector<std::string> out;
  for (const std::string& name : order) {
    if (contains(other, name) && !contains(out, name) && (name == "fastdp" || name == "sleeve")) {
      out.push_back(name);
    }
  }
  if (out.empty()) return make_error("no overlays in common with peer");
  return out;
}

Result<std::unique_ptr<mesh::OverlayConnection>> DataPlane::prepare(
    mesh::OverlayConnectionParams params, mesh::OverlayCallbacks callbacks) {
  if (!started_) return make_error("data plane not started");
  auto overlays = common_overlays(params);
  if (!overlays) return overlays.error();
  auto sw = std::make_unique<SwitchForwarder>(*this, params.remote_peer, std::move(callbacks));
  bool any = false;
  for (size_t i = 0; i < overlays->size(); ++i) {
    const std::string& name = (*overlays)[i];
    ForwarderParams fp;
    fp.remote = params.remote_peer;
    fp.local_address = params.local_address;
    fp.remote_address = params.remote_address;
    fp.outbound = params.outbound;
    fp.connection_uid = params.connection_uid;
    fp.session_key = params.session_key;
    if (auto it = params.remote_features.find("ShortID"); it != params.remote_features.end()) {
      auto parsed = mesh::parse_features(params.remote_features);
      if (auto* peer = std::get_if<mesh::PeerFeatures>(&parsed))
        fp.remote_short_id = peer->short_id;
    }
    fp.send_control = [send = params.send_control, i](uint8_t tag, ByteView payload) {
      Bytes message;
      message.reserve(2 + payload.size());
      message.push_back(static_cast<uint8_t>(i));
      message.push_back(tag);
      message.insert(message.end(), payload.begin(), payload.end());
      if (send) send(message);
    };
    Result<std::unique_ptr<Forwarder>> fwd = make_error("unknown overlay");
    if (name == "fastdp") {
      fwd = fastdp_.make_forwarder(fp, sw->events_for(i));
    } else {
      fwd = std::unique_ptr<Forwarder>(sleeve_.make_forwarder(fp, sw->events_for(i)));
    }
    if (!fwd) {
      LOOM_LOG(host_.log(), "dataplane", info,
               "Unable to use " << name << " for connection to " << params.remote_peer.to_string()
                                << ": " << fwd.error().message);
      sw->add(name, nullptr);
      continue;
    }
    any = true;
    sw->add(name, std::move(*fwd));
  }
  if (!any) return make_error("no working forwarders to " + params.remote_peer.to_string());
  sw->choose_best();
  return std::unique_ptr<mesh::OverlayConnection>(std::move(sw));
}

mesh::OverlayStatus DataPlane::diagnostics() const {
  return mesh::OverlayStatus{"fastdp sleeve",
                             {{"flows", std::to_string(flows_.size())},
                              {"macs", std::to_string(macs_.size())},
                              {"fastdp_forwarders", std::to_string(fastdp_.forwarder_count())},
                              {"sleeve_forwarders", std::to_string(sleeve_.forwarder_count())}}};
}

DataPlaneStatus DataPlane::status() const {
  DataPlaneStatus s;
  for (const MacCache::Entry& e : macs_.entries()) {
    s.macs.push_back(DataPlaneStatus::Mac{e.mac.to_string(), e.peer.to_string(), e.last_seen});
  }
  s.flows = flows_.size();
  for (const auto& [peer, sw] : connections_) {
    const Forwarder* best = sw->best();
    s.connections.push_back(DataPlaneStatus::Connection{
        peer.to_string(), sw->best_overlay(), sw->established(),
        best != nullptr && best->encrypted(), best != nullptr ? best->mtu() : 0});
  }
  return s;
}

const SwitchForwarder* DataPlane::connection_to(PeerName peer) const {
  auto it = connections_.find(peer);
  return it == connections_.end() ? nullptr : it->second;
}

void DataPlane::register_connection(SwitchForwarder& connection) {
  connections_[connection.remote()] = &connection;
}

void DataPlane::unregister_connection(SwitchForwarder& connection) {
  auto it = connections_.find(connection.remote());
  if (it != connections_.end() && it->second == &connection) connections_.erase(it);
}

void DataPlane::bury(std::unique_ptr<Forwarder> forwarder) {
  if (!forwarder) return;
  graveyard_.push_back(std::move(forwarder));
  if (bury_timer_ == 0) {
    bury_timer_ = host_.after(Time(0), [this] {
      bury_timer_ = 0;
      graveyard_.clear();
    });
  }
}

// ---- Switching ----------------------------------------------------------------

void DataPlane::capture(ByteView frame) {
  if (topology_ == nullptr) return;
  if (frame.size() < kEthernetOverhead) {
    counters_.drop(Drop::kBadFrame);
    return;
  }
  counters_.captured->add();
  const PeerName us = topology_->ourselves();
  const wire::MacAddress dst_mac = wire::MacAddress::from(frame.data());
  const wire::MacAddress src_mac = wire::MacAddress::from(frame.data() + 6);
  const MacCache::Learnt learnt = macs_.add(src_mac, us, host_.now());
  if (learnt.added) {
    LOOM_LOG(host_.log(), "dataplane", info, "Discovered local MAC " << src_mac.to_string());
    publish_gauges();
  } else if (learnt.conflict) {
    // Probably a frame we injected ourselves; Weave drops it too.
    LOOM_LOG(host_.log(), "dataplane", error,
             "Captured frame from MAC (" << src_mac.to_string() << ") associated with another peer "
                                         << learnt.conflict->to_string());
    counters_.drop(Drop::kMacConflict);
    return;
  }
  if (dst_mac == kStpMac) {
    counters_.drop(Drop::kStp);
    return;
  }
  if (!allowed(frame, FlowDirection::kEgress)) {
    counters_.drop(Drop::kPolicy);
    return;
  }
  const auto dst_peer = macs_.lookup(dst_mac);
  if (!dst_peer) {
    relay_broadcast(us, frame);
  } else if (*dst_peer == us) {
    counters_.drop(Drop::kLocalDestination);
  } else {
    relay(ForwardKey{us, *dst_peer}, frame);
  }
}

void DataPlane::forwarded(PeerName src, PeerName dst, ByteView frame) {
  const PeerName us = topology_->ourselves();
  if (dst != us) {
    counters_.relayed->add();
    relay(ForwardKey{src, dst}, frame);
    return;
  }
  // A unicast to us, or a broadcast (its dst is always the next hop).
  const wire::MacAddress dst_mac = wire::MacAddress::from(frame.data());
  const wire::MacAddress src_mac = wire::MacAddress::from(frame.data() + 6);
  const MacCache::Learnt learnt = macs_.add_forced(src_mac, src, host_.now());
  if (learnt.added) {
    LOOM_LOG(host_.log(), "dataplane", info,
             "Discovered remote MAC " << src_mac.to_string() << " at " << src.to_string());
    publish_gauges();
  } else if (learnt.conflict) {
    LOOM_LOG(host_.log(), "dataplane", info,
             "Discovered remote MAC " << src_mac.to_string() << " at " << src.to_string()
                                      << " (was at " << learnt.conflict->to_string() << ")");
    counters_.mac_moves->add();
    // Flows toward the old peer must go (Weave's InvalidateRoutes).
    invalidate_routes();
  }
  if (allowed(frame, FlowDirection::kIngress)) {
    inject(frame);
  } else {
    counters_.drop(Drop::kPolicy);
  }
  if (macs_.lookup(dst_mac) == us) return;
  relay_broadcast(src, frame);
}

void DataPlane::relay(const ForwardKey& key, ByteView frame) {
  const auto next = topology_->unicast_next_hop(key.dst);
  if (!next) {
    // Not necessarily an error: the destination may have gone meanwhile.
    LOOM_LOG(host_.log(), "dataplane", debug,
             "Received packet for unknown destination: " << key.dst.to_string());
    counters_.drop(Drop::kNoRoute);
    return;
  }
  auto it = connections_.find(*next);
  if (it == connections_.end()) {
    LOOM_LOG(host_.log(), "dataplane", debug,
             "Unable to find connection to relay peer " << next->to_string());
    counters_.drop(Drop::kNoConnection);
    return;
  }
  if (it->second->forward(key, frame, false) == ForwardResult::kNotCarried) {
    counters_.drop(Drop::kNoOverlay);
  }
}

void DataPlane::relay_broadcast(PeerName src, ByteView frame) {
  for (PeerName hop : topology_->broadcast_next_hops(src)) {
    auto it = connections_.find(hop);
    if (it == connections_.end()) continue;
    if (it->second->forward(ForwardKey{src, hop}, frame, true) == ForwardResult::kNotCarried) {
      counters_.drop(Drop::kNoOverlay);
    }
  }
}

bool DataPlane::allowed(ByteView frame, FlowDirection direction) {
  const auto flow = flow_of(frame);
  if (!flow) return true;  // not IPv4: policy does not judge it
  // A fragmented datagram is judged whole, by its first fragment (the only
  // one with ports), as conntrack judges it after reassembly.
  const auto fragment = verdict_ == &allow_all_ ? std::nullopt : fragment_of(frame);
  const int side = static_cast<int>(direction);
  if (fragment && !fragment->first) return fragments_.verdict(*fragment, side, host_.now());
  bool allow;
  if (auto cached = flows_.lookup(*flow, direction)) {
    allow = *cached;
  } else {
    allow = verdict_->allow(*flow, direction);
    flows_.insert(*flow, direction, allow);
    counters_.flows->set(static_cast<double>(flows_.size()));
  }
  if (fragment) fragments_.remember(*fragment, side, allow, host_.now());
  return allow;
}

void DataPlane::inject(ByteView frame) {
  if (port_.send(frame)) counters_.injected->add();
}

void DataPlane::sweep_macs() {
  mac_timer_ = host_.after(macs_.max_age() / 10, [this] { sweep_macs(); });
  for (const MacCache::Entry& e : macs_.expire(host_.now())) {
    LOOM_LOG(host_.log(), "dataplane", info,
             "Expired MAC " << e.mac.to_string() << " at " << e.peer.to_string());
  }
  publish_gauges();
}

void DataPlane::sweep_flows() {
  flow_timer_ = host_.after(config_.flow_expiry_interval, [this] { sweep_flows(); });
  flows_.sweep();
  fragments_.expire(host_.now());
  publish_gauges();
}

void DataPlane::publish_gauges() {
  counters_.flows->set(static_cast<double>(flows_.size()));
  counters_.macs->set(static_cast<double>(macs_.size()));
}

}  // namespace loom::dataplane
