// TapDevice: the live bridge(), a Linux TAP interface (IFF_TAP | IFF_NO_PI).
//
// Frames the kernel sends out of the interface (from local pods, through
// whatever bridge it is attached to) reach the receiver; send() writes frames
// into the kernel as if they arrived on the interface. Needs CAP_NET_ADMIN.
#pragma once

#include <memory>
#include <string>

#include "model/host.h"
#include "real-backend/event_loop.h"
#include "real-backend/socket_util.h"

namespace loom::live {

// Ethernet II header: the room a frame needs beyond the MTU.
inline constexpr size_t kEthernetHeader = 14;

class TapDevice final : public loom::FramePort {
 public:
  // Creates (or attaches to a persistent) TAP called name, sets its MTU and
  // brings it up. The interface disappears when the device is destroyed,
  // unless it was made persistent by someone else.
  static Result<std::unique_ptr<TapDevice>> open(EventLoop& loop, const std::string& name,
                                                 size_t mtu, Metrics& metrics);
  ~TapDevice() override;

  bool send(ByteView frame) override;
  void on_receive(Receiver receiver) override;
  size_t mtu() const override { return mtu_; }
  const std::string& name() const { return name_; }

 private:
  TapDevice(EventLoop& loop, UniqueFd fd, std::string name, size_t mtu, Metrics& metrics);
  void on_readable();

  EventLoop& loop_;
  UniqueFd fd_;
  std::string name_;
  size_t mtu_;
  std::shared_ptr<Receiver> receiver_;
  std::vector<uint8_t> buffer_;
  Counter& no_receiver_;
  Counter& bad_size_;
  Counter& send_failed_;
};

// bridge() when no TAP is configured: every frame sent is dropped (and
// counted as loom_host_dropped_total{reason="bridge_no_port"}).
class UnattachedFramePort final : public loom::FramePort {
 public:
  UnattachedFramePort(size_t mtu, Metrics& metrics);
  bool send(ByteView frame) override;
  void on_receive(Receiver) override {}
  size_t mtu() const override { return mtu_; }

 private:
  size_t mtu_;
  Counter& dropped_;
};

}  // namespace loom::live
