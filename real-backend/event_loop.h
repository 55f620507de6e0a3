// EventLoop: one epoll loop with its timers on one timerfd, for the live backend.
//
// Every LinuxHost runs on an EventLoop; several may share one (that is how
// tests put two hosts on 127.0.0.1 and 127.0.0.2 in one thread). The loop is
// single-threaded: create it, register fds and timers, and run it, all from
// one thread.
//
// Nothing the loop runs is invoked from inside one of its own calls: after(0)
// and post() both run fn later, from run*(). That is what lets LinuxHost
// keep Host's "no re-entrant callbacks" promise.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>

#include "model/host.h"

namespace loom::live {

using loom::Callback;
using loom::Time;
using loom::TimerId;

class EventLoop {
 public:
  // Readiness callback; events is the epoll mask (EPOLLIN, EPOLLOUT, EPOLLERR...).
  using FdHandler = std::function<void(uint32_t events)>;

  // Fails only when the kernel refuses an epoll or timerfd descriptor.
  static Result<std::unique_ptr<EventLoop>> create();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // CLOCK_MONOTONIC, 0 when the loop was created.
  Time now() const;

  // Runs fn once, delay from now (negative counts as 0), from the loop, never
  // before returning. Timers due at the same time run in the order they were
  // set.
  TimerId after(Time delay, Callback fn);
  // A fired, cancelled or unknown id is ignored.
  void cancel(TimerId id);
  // Runs fn from the loop at its next iteration, in post order.
  void post(Callback fn);

  // Level-triggered readiness for fd (events: EPOLLIN and/or EPOLLOUT). The
  // loop does not own fd; remove it before closing it.
  Result<void> add_fd(int fd, uint32_t events, FdHandler handler);
  Result<void> modify_fd(int fd, uint32_t events);
  // Unknown fds are ignored. Events already collected for fd are discarded.
  void remove_fd(int fd);

  // Runs until stop() is called from a callback.
  void run();
  // Makes the innermost run*() return after the current iteration.
  void stop();
  // Runs for duration (a stop() ends it early).
  void run_for(Time duration);
  // Runs until done() is true (checked before starting and after each
  // iteration) or timeout passes. Returns done()'s final value.
  bool run_until(const std::function<bool()>& done, Time timeout);

  size_t pending_timers() const { return timer_deadlines_.size(); }

 private:
  struct FdEntry {
    uint64_t token;
    FdHandler handler;
  };
  using TimerKey = std::pair<Time, TimerId>;

  EventLoop(int epoll_fd, int timer_fd);
  // One round: wait for readiness (or not at all when work is queued), then
  // fds, due timers, posted callbacks.
  void iterate();
  void arm_timerfd();
  void run_due_timers();
  void run_posted();

  int epoll_fd_;
  int timer_fd_;
  Time origin_;  // raw CLOCK_MONOTONIC at creation

  // Keyed by registration token, not fd: a fd closed and reused within one
  // batch of events must not receive the old registration's events.
  std::unordered_map<int, std::shared_ptr<FdEntry>> fds_;
  std::unordered_map<uint64_t, std::shared_ptr<FdEntry>> by_token_;
  uint64_t next_token_ = 1;

  std::map<TimerKey, Callback> timers_;
  std::unordered_map<TimerId, Time> timer_deadlines_;
  TimerId next_timer_ = 1;
  std::optional<Time> armed_;

  std::deque<Callback> posted_;
  bool stopped_ = false;
};

}  // namespace loom::live
