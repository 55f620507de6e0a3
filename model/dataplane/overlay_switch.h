// The overlay switch of one connection (weave:router/overlay_switch.go;
// weave-protocol.md 3.3): a subsidiary forwarder per overlay both peers
// offer (fastdp, sleeve), all started together, in the connecting side's
// order of preference. Frames go through the best one: the first that is
// established and not on hold, else the first still working; if it does
// not carry a frame (fastdp without short IDs), the next ones are tried.
// The connection is established when any subsidiary is; it fails ("no
// working forwarders") when none is left. Control messages are multiplexed
// as [index][tag][payload] in mesh's tag-7 message.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model/dataplane/forwarder.h"
#include "model/mesh/overlay.h"

namespace loom::dataplane {

class DataPlane;

class SwitchForwarder final : public mesh::OverlayConnection {
 public:
  SwitchForwarder(DataPlane& plane, PeerName remote, mesh::OverlayCallbacks callbacks);
  ~SwitchForwarder() override;

  // Before confirm(): the subsidiaries in order (a null one failed to start).
  void add(std::string overlay, std::unique_ptr<Forwarder> forwarder);
  ForwarderEvents events_for(size_t index);

  // mesh::OverlayConnection.
  void confirm() override;
  void control_message(ByteView message) override;
  void stop() override;
  std::string attrs() const override;

  ForwardResult forward(const ForwardKey& key, ByteView frame, bool broadcast);
  PeerName remote() const { return remote_; }
  // The overlay frames go through now ("fastdp", "sleeve"), "none" if none.
  std::string best_overlay() const;
  const Forwarder* best() const;
  bool established() const { return established_; }

 private:
  friend class DataPlane;
  struct Sub {
    std::string overlay;
    std::unique_ptr<Forwarder> forwarder;  // null once failed
    bool established = false;
    bool healthy = true;
  };
  void sub_established(size_t index);
  void sub_health(size_t index, bool healthy);
  void sub_failed(size_t index, const Error& error);
  void choose_best();
  std::string prefix() const;

  DataPlane& plane_;
  PeerName remote_;
  mesh::OverlayCallbacks callbacks_;
  std::vector<Sub> subs_;
  int best_ = -1;
  bool established_ = false;
  bool confirmed_ = false;
  bool stopped_ = false;
  bool failed_ = false;
};

}  // namespace loom::dataplane
