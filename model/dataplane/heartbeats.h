// The heartbeat timers both forwarders keep, as Weave's do
// (weave-protocol.md: heartbeats every fast_heartbeat until the remote
// acknowledges one, then every slow_heartbeat; the forwarder fails when no
// heartbeat arrives within heartbeat_timeout).
#pragma once

#include <functional>
#include <utility>

#include "model/host.h"

namespace loom::dataplane {

class Heartbeats {
 public:
  // `send` sends one heartbeat; `timed_out` runs when reset_timeout() was
  // not called again in time. Both run from the host's timers.
  Heartbeats(Host& host, std::function<void()> send, std::function<void()> timed_out)
      : host_(host), send_(std::move(send)), timed_out_(std::move(timed_out)) {}
  ~Heartbeats() { stop(); }
  Heartbeats(const Heartbeats&) = delete;
  Heartbeats& operator=(const Heartbeats&) = delete;

  // Sends one heartbeat after `delay`, then one every interval().
  void start(Time delay) {
    host_.cancel(heartbeat_);
    heartbeat_ = host_.after(delay, [this] {
      heartbeat_ = 0;
      send_();
      start(interval_);
    });
  }
  bool sending() const { return heartbeat_ != 0; }

  Time interval() const { return interval_; }
  // A sequence already sending goes on at the new interval from now.
  // Returns whether the interval changed.
  bool set_interval(Time interval) {
    if (interval == interval_) return false;
    interval_ = interval;
    if (sending()) start(interval_);
    return true;
  }

  // timed_out() unless this is called again within `timeout`.
  void reset_timeout(Time timeout) {
    host_.cancel(timeout_);
    timeout_ = host_.after(timeout, [this] {
      timeout_ = 0;
      timed_out_();
    });
  }

  void stop() {
    host_.cancel(heartbeat_);
    host_.cancel(timeout_);
    heartbeat_ = timeout_ = 0;
  }

 private:
  Host& host_;
  std::function<void()> send_;
  std::function<void()> timed_out_;
  Time interval_{0};
  TimerId heartbeat_ = 0;
  TimerId timeout_ = 0;
};

}  // namespace loom::dataplane
