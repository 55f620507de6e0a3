// DataPlane: one Weave peer's data plane on a Host (weave:router/
// network_router.go, overlay_switch.go, fastdp.go, sleeve.go, mac_cache.go;
// weave-protocol.md section 3). docs/dataplane.md is the overview.
//
// It is mesh's Overlay: mesh prepares a forwarder per connection (an
// overlay switch over fastdp and sleeve) and learns from it when the
// connection is established. Frames from the local pods (Host::bridge(), or
// the FramePort given) are switched as Weave's router switches them:
//
//   captured:  learn src MAC -> us (a MAC bound elsewhere: dropped), drop
//              STP, ask the FlowVerdict (once per flow), then by dst MAC:
//              ours -> dropped (the bridge delivers it); unknown or group ->
//              along our broadcast tree; a peer's -> toward that peer.
//   forwarded: not for us -> relayed along our unicast route; else learn
//              src MAC -> the capturing peer (a move is logged and flushes
//              the flows), inject it, and if the dst MAC is not ours pass
//              it on along the source's broadcast tree.
//
// Construct it before the Mesh (which takes it as its Overlay), attach the
// mesh's Topology, start() it, then start the mesh. It must outlive the mesh.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/dataplane/data_plane_config.h"
#include "model/dataplane/fastdp.h"
#include "model/dataplane/flow.h"
#include "model/dataplane/forwarder.h"
#include "model/dataplane/mac_cache.h"
#include "model/dataplane/overlay_switch.h"
#include "model/dataplane/sleeve.h"
#include "model/dataplane/topology.h"
#include "model/host.h"
#include "model/mesh/overlay.h"

namespace loom::dataplane {

// What `weave status connections` and `weave report` show of the data
// plane: the MAC table, the flow count, each connection's overlay.
struct DataPlaneStatus {
  struct Mac {
    std::string mac;
    std::string peer;
    Time last_seen{};
  };
  struct Connection {
    std::string peer;
    std::string overlay;  // "fastdp", "sleeve", "none"
    bool established = false;
    bool encrypted = false;
    size_t mtu = 0;
  };
  std::vector<Mac> macs;                // sorted by MAC
  size_t flows = 0;                     // weave_flows
  std::vector<Connection> connections;  // sorted by peer
};
nlohmann::json to_json(const DataPlaneStatus& status);

class DataPlane final : public mesh::Overlay, private OverlayEnv {
 public:
  // port: the local pods' side; null means host.bridge().
  DataPlane(Host& host, DataPlaneConfig config = {}, FramePort* port = nullptr);
  ~DataPlane() override;
  DataPlane(const DataPlane&) = delete;
  DataPlane& operator=(const DataPlane&) = delete;

  // Routes and peers come from here; it outlives the data plane.
  void attach(Topology& topology);
  // Binds UDP 6783 and 6784 (4500 later, for the first encrypted
  // connection), takes the frames of the port, starts the MAC and flow
  // sweeps. attach() first.
  Result<void> start();

  // The policy hook; null: allow every flow. Flushes the flow cache.
  void set_flow_verdict(FlowVerdict* verdict);
  // Weave's InvalidateRoutes / InvalidateShortIDs: every flow is flushed.
  void invalidate_routes();
  void invalidate_short_ids() { invalidate_routes(); }
  // Weave's Peers.OnGC: a garbage-collected peer's MACs are forgotten.
  void peer_removed(PeerName peer);

  // mesh::Overlay.
  Result<std::unique_ptr<mesh::OverlayConnection>> prepare(
      mesh::OverlayConnectionParams params, mesh::OverlayCallbacks callbacks) override;
  mesh::OverlayStatus diagnostics() const override;
  std::optional<std::string> advertised_overlays() const override;
  void routes_changed() override { invalidate_routes(); }
  void short_ids_changed() override { invalidate_short_ids(); }
  void peers_removed(const std::vector<PeerName>& peers) override {
    for (PeerName p : peers) peer_removed(p);
  }

  DataPlaneStatus status() const;
  const MacCache& macs() const { return macs_; }
  size_t flow_count() const { return flows_.size(); }
  // The connection's overlay switch to a peer, once confirmed; null if none.
  const SwitchForwarder* connection_to(PeerName peer) const;
  const DataPlaneConfig& config() const override { return config_; }

  // A frame from a local pod, as the port delivers it (benchmarks call it).
  void capture(ByteView frame);

 private:
  friend class SwitchForwarder;

  // OverlayEnv.
  Host& host() override { return host_; }
  Topology& topology() override { return *topology_; }
  DataPlaneCounters& counters() override { return counters_; }
  void forwarded(PeerName src, PeerName dst, ByteView frame) override;

  void relay(const ForwardKey& key, ByteView frame);
  void relay_broadcast(PeerName src, ByteView frame);
  bool allowed(ByteView frame, FlowDirection direction);
  void inject(ByteView frame);
  void sweep_macs();
  void sweep_flows();
  void publish_gauges();
  void register_connection(SwitchForwarder& connection);
  void unregister_connection(SwitchForwarder& connection);
  // Destroys a dead subsidiary forwarder from the loop, not from its own call stack.
  void bury(std::unique_ptr<Forwarder> forwarder);
  Result<std::vector<std::string>> common_overlays(
      const mesh::OverlayConnectionParams& params) const;

  Host& host_;
  DataPlaneConfig config_;
  FramePort& port_;
  Topology* topology_ = nullptr;
  DataPlaneCounters counters_;
  FastdpOverlay fastdp_;
  SleeveOverlay sleeve_;
  MacCache macs_;
  FlowCache flows_;
  FragmentVerdicts fragments_;
  AllowAllFlows allow_all_;
  FlowVerdict* verdict_ = &allow_all_;
  std::map<PeerName, SwitchForwarder*> connections_;  // confirmed, by remote peer
  std::vector<std::unique_ptr<Forwarder>> graveyard_;
  TimerId bury_timer_ = 0;
  TimerId mac_timer_ = 0;
  TimerId flow_timer_ = 0;
  bool started_ = false;
};

}  // namespace loom::dataplane
