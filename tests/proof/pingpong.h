// The proof engine: one tiny engine, written once against Host, that must
// behave the same on Ns3Host and LinuxHost.
//
// The Pinger sends numbered UDP pings to the Responder and retries each on a
// timer until its pong arrives. The Responder deliberately ignores the first
// `drop_first` pings it sees, so the retry path always runs. Once every ping
// is answered, the Pinger opens a TCP stream, writes a block of seeded random
// bytes as a series of messages, reads the Responder's echo, checks it byte
// for byte and closes; the Responder sees the close.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/host.h"

namespace loom::proof {

struct PingPongConfig {
  uint16_t udp_port = 16783;
  uint16_t tcp_port = 16784;
  int pings = 5;
  Time retry_after = std::chrono::milliseconds(200);
  int max_attempts = 10;  // per ping, then the run fails
  int drop_first = 1;     // pings the Responder ignores, to exercise retry
  size_t echo_bytes = 1 << 20;
  size_t message_bytes = 16 * 1024;  // one Stream::write() each
};

// What a user would notice of a run, the same on every backend.
struct PingPongReport {
  int pongs = 0;            // distinct pings answered
  int retries = 0;          // pings sent again after retry_after
  int duplicate_pongs = 0;  // pongs for pings already answered
  bool echo_ok = false;     // echo arrived complete and identical
  size_t echo_received = 0;
  bool failed = false;
  std::string failure;              // why, when failed
  Time first_pong_at{};             // host time of the first pong
  Time finished_at{};               // host time the stream was closed
  std::vector<std::string> events;  // "ping 1", "retry 1", "pong 1", "echo ok", ...
  std::vector<Time> event_times;    // host time of each event
};

struct ResponderReport {
  int pings_seen = 0;
  int pings_ignored = 0;
  int pongs_sent = 0;
  size_t bytes_echoed = 0;
  bool stream_closed_by_peer = false;
  std::string close_reason;
};

class Responder {
 public:
  Responder(Host& host, PingPongConfig config);
  ~Responder();
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;

  Result<void> start();
  const ResponderReport& report() const { return report_; }

 private:
  Host& host_;
  PingPongConfig config_;
  ResponderReport report_;
  std::vector<StreamPtr> streams_;
};

class Pinger {
 public:
  Pinger(Host& host, Ipv4 responder, PingPongConfig config);
  ~Pinger();
  Pinger(const Pinger&) = delete;
  Pinger& operator=(const Pinger&) = delete;

  Result<void> start();
  bool done() const { return done_; }
  const PingPongReport& report() const { return report_; }

 private:
  void send_ping(int seq, bool retry);
  void on_pong(ByteView payload);
  void start_echo();
  void on_echo(ByteView bytes);
  void finish(std::string failure = {});
  void event(std::string what);

  Host& host_;
  Endpoint responder_udp_;
  Endpoint responder_tcp_;
  PingPongConfig config_;
  PingPongReport report_;
  DatagramSocket* socket_ = nullptr;
  int next_seq_ = 1;  // the ping in flight (one at a time)
  int attempts_ = 0;
  TimerId retry_timer_ = 0;
  Bytes echo_expected_;
  StreamPtr stream_;
  bool done_ = false;
};

}  // namespace loom::proof
