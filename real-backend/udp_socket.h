// UdpSocket: a non-blocking UDP socket bound to one host address and port.
#pragma once

#include <memory>

#include "model/host.h"
#include "real-backend/event_loop.h"
#include "real-backend/socket_util.h"

namespace loom::live {

class UdpSocket final : public loom::DatagramSocket {
 public:
  // Binds bind_to (port 0: the kernel picks one; port() says which). Drops
  // are counted in metrics as loom_host_dropped_total{reason="udp_..."}.
  static Result<std::unique_ptr<UdpSocket>> open(EventLoop& loop, const Endpoint& bind_to,
                                                 Metrics& metrics);
  ~UdpSocket() override;

  uint16_t port() const override { return local_.port; }
  bool send_to(const Endpoint& to, ByteView payload) override;
  void on_receive(Receiver receiver) override;

 private:
  UdpSocket(EventLoop& loop, UniqueFd fd, Endpoint local, Metrics& metrics);
  void on_readable();

  EventLoop& loop_;
  UniqueFd fd_;
  Endpoint local_;
  // Shared so that a receiver replacing itself is not destroyed mid-call.
  std::shared_ptr<Receiver> receiver_;
  std::vector<uint8_t> buffer_;
  Counter& no_receiver_;
  Counter& send_buffer_full_;
  Counter& send_too_large_;
  Counter& send_failed_;
};

}  // namespace loom::live
