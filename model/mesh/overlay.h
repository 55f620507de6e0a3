// Overlay: what the data plane offers the mesh, one forwarder per connection
// (mesh:overlay.go; weave-protocol.md 1.5).
//
// After a handshake the connection asks the overlay to prepare a forwarder
// for the remote peer, adds itself to the topology, then confirms it. The
// forwarder reports once that it is established (Weave: the UDP heartbeat
// was acknowledged; the connection goes from pending to established) or
// that it failed (the connection closes). Its control messages travel on the
// TCP connection as tag 7 (ProtocolOverlayControlMsg).
//
// The data plane (a later issue) implements this. Until then
// ImmediateOverlay reports every forwarder established at once.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/bytes.h"
#include "model/crypto/session_key.h"
#include "model/host.h"
#include "model/mesh/peer_name.h"
#include "model/mesh/protocol.h"
#include "model/result.h"

namespace loom::mesh {

// What a forwarder is prepared from (Weave's OverlayConnectionParams).
struct OverlayConnectionParams {
  PeerName remote_peer;
  Endpoint local_address;   // our end of the TCP connection
  Endpoint remote_address;  // theirs
  bool outbound = false;
  uint64_t connection_uid = 0;  // the same at both ends
  std::optional<crypto::SessionKey> session_key;
  // Sends one overlay control message to the remote's forwarder (tag 7).
  std::function<void(ByteView)> send_control;
  Features remote_features;
};

// Reports from a forwarder. Never called from inside prepare() or confirm().
struct OverlayCallbacks {
  std::function<void()> established;         // at most once
  std::function<void(const Error&)> failed;  // at most once; the connection closes
};

// One connection's forwarder (Weave's OverlayConnection).
class OverlayConnection {
 public:
  virtual ~OverlayConnection() = default;
  // The connection is in the topology: start (heartbeats, for the data plane).
  virtual void confirm() = 0;
  // A tag-7 message from the remote's forwarder.
  virtual void control_message(ByteView message) = 0;
  // The connection is closing; no callback is called afterwards.
  virtual void stop() = 0;
  // What `weave status connections` shows after the state ("fastdp", "sleeve", ...).
  virtual std::string attrs() const = 0;
};

// Diagnostics for status: name and free-form key/values, sorted.
struct OverlayStatus {
  std::string name;
  std::map<std::string, std::string> attributes;
};

class Overlay {
 public:
  virtual ~Overlay() = default;
  // A forwarder for a connection whose handshake succeeded. An error closes
  // the connection with it as the reason.
  virtual Result<std::unique_ptr<OverlayConnection>> prepare(OverlayConnectionParams params,
                                                             OverlayCallbacks callbacks) = 0;
  virtual OverlayStatus diagnostics() const = 0;

  // The "Overlays" handshake feature ("fastdp sleeve", Weave's
  // AddFeaturesTo); none: not sent.
  virtual std::optional<std::string> advertised_overlays() const { return std::nullopt; }
  // What mesh tells its overlay as the topology moves (Weave: Routes.OnChange,
  // Peers.OnInvalidateShortIDs, Peers.OnGC).
  // The unicast or broadcast routes were recalculated and differ.
  virtual void routes_changed() {}
  // Some peer's short ID changed (or its owner went away).
  virtual void short_ids_changed() {}
  // These peers were garbage-collected.
  virtual void peers_removed(const std::vector<PeerName>& peers) { (void)peers; }
};

// Reports every forwarder established from a zero-delay timer after
// confirm(): no data plane, every connection established at once.
class ImmediateOverlay final : public Overlay {
 public:
  explicit ImmediateOverlay(Host& host) : host_(host) {}

  Result<std::unique_ptr<OverlayConnection>> prepare(OverlayConnectionParams params,
                                                     OverlayCallbacks callbacks) override;
  OverlayStatus diagnostics() const override;
  // Control messages received so far (none are expected).
  uint64_t control_messages() const { return control_messages_; }

 private:
  class Forwarder;
  Host& host_;
  uint64_t prepared_ = 0;
  uint64_t control_messages_ = 0;
};

}  // namespace loom::mesh
