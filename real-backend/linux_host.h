// LinuxHost: the Host seam on a real Linux machine.
//
// Time and timers come from an EventLoop (epoll + timerfd), sockets are the
// kernel's (non-blocking UDP and TCP, all bound to options.address), bridge()
// is a TAP device, store() a FileStore, log() lines on stderr. Several hosts
// may share one loop: tests run two on 127.0.0.1 and 127.0.0.2 in one thread.
// docs/backend-live.md explains how it fits.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "model/host.h"
#include "real-backend/event_loop.h"
#include "real-backend/socket_util.h"

namespace loom::live {

class TcpStream;
class UdpSocket;

struct LinuxHostOptions {
  // For logs and status.
  std::string name = "loom";
  // Every socket binds here, including the source of outgoing connects, so
  // peers see this address as ours.
  Ipv4 address = Ipv4::from_octets(127, 0, 0, 1);
  // The FileStore's file; empty: an in-memory store.
  std::string store_path;
  // The network namespace every socket and the TAP are created in: a name
  // from `ip netns list` or a path (/proc/PID/ns/net); empty: the namespace
  // of the thread calling. Hosts in different namespaces may share one loop
  // and one thread. Needs CAP_SYS_ADMIN.
  std::string netns;
  // The TAP device behind bridge(); empty: no TAP (frames sent are dropped).
  std::string tap_name;
  size_t tap_mtu = 1376;
  // 0: from the kernel (getrandom). LinuxHost::seed() tells which, so a live
  // run can be replayed.
  uint64_t seed = 0;
  LogFilter log_filter;
  // An outgoing connect not completed in this time fails as timed out.
  Time connect_timeout = std::chrono::seconds(30);
  // How long close() may spend flushing and waiting for the peer's close.
  Time close_linger = std::chrono::seconds(10);

  // Defaults, with log_filter read from LOOM_LOG; fails if it is malformed.
  static Result<LinuxHostOptions> from_environment(std::string name);
};

class LinuxHost final : public loom::Host {
 public:
  // Opens the store and the TAP (when configured). The loop must outlive
  // the host.
  static Result<std::unique_ptr<LinuxHost>> create(EventLoop& loop, LinuxHostOptions options);
  // Closes every socket and stream at once; their handlers are not called.
  ~LinuxHost() override;
  LinuxHost(const LinuxHost&) = delete;
  LinuxHost& operator=(const LinuxHost&) = delete;

  std::string_view name() const override { return options_.name; }
  Time now() const override { return loop_.now(); }
  TimerId after(Time delay, Callback fn) override;
  void cancel(TimerId id) override;
  Random& random() override { return random_; }
  Ipv4 address() const override { return options_.address; }
  Result<DatagramSocket*> udp(uint16_t port) override;
  Result<void> listen(uint16_t port, AcceptHandler on_accept) override;
  void connect(const Endpoint& to, ConnectHandler on_done) override;
  FramePort& bridge() override { return *bridge_; }
  Store& store() override { return *store_; }
  Log& log() override { return *log_; }
  Metrics& metrics() override { return metrics_; }

  // Live only.
  EventLoop& loop() { return loop_; }
  uint64_t seed() const { return seed_; }
  // listen(), returning the bound port: the kernel's choice when port is 0.
  Result<uint16_t> listen_on(uint16_t port, AcceptHandler on_accept);
  // Streams open or closing (not yet closed by both sides).
  size_t stream_count() const { return streams_.size(); }

 private:
  struct Listener;
  struct PendingConnect;

  LinuxHost(EventLoop& loop, LinuxHostOptions options, uint64_t seed);
  void on_acceptable(Listener& listener);
  void on_connect_ready(uint64_t id);
  void finish_connect(uint64_t id, Result<StreamPtr> result);
  Result<StreamPtr> adopt_stream(int fd);
  // A non-blocking TCP socket in this host's network namespace.
  Result<UniqueFd> tcp_socket();
  // Runs fn from the loop, unless this host is gone by then.
  void defer(Callback fn);

  EventLoop& loop_;
  LinuxHostOptions options_;
  uint64_t seed_;
  Random random_;
  Metrics metrics_;
  std::unique_ptr<Log> log_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<FramePort> bridge_;
  UniqueFd netns_;  // options_.netns, opened; invalid: the caller's namespace

  std::map<uint16_t, std::unique_ptr<UdpSocket>> udp_;
  std::map<uint16_t, std::unique_ptr<Listener>> listeners_;
  std::map<uint64_t, std::unique_ptr<PendingConnect>> connects_;
  uint64_t next_connect_ = 1;
  // Open streams are owned here too: dropping every StreamPtr does not close one.
  std::map<TcpStream*, std::shared_ptr<TcpStream>> streams_;
  std::set<TimerId> timers_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace loom::live
