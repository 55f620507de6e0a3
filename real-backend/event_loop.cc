#include "real-backend/event_loop.h"

#include <cerrno>
#include <ctime>
#include <utility>

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "real-backend/socket_util.h"

namespace loom::live {

namespace {

Time monotonic_raw() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

timespec to_timespec(Time t) {
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(t);
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(secs.count());
  ts.tv_nsec = static_cast<long>((t - secs).count());
  return ts;
}

}  // namespace

Result<std::unique_ptr<EventLoop>> EventLoop::create() {
  UniqueFd epoll_fd(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_fd.valid()) return make_error("epoll_create1: " + errno_text(errno));
  UniqueFd timer_fd(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!timer_fd.valid()) return make_error("timerfd_create: " + errno_text(errno));
  std::unique_ptr<EventLoop> loop(new EventLoop(epoll_fd.release(), timer_fd.release()));
  // The timerfd only wakes epoll_wait; due timers are run every iteration.
  auto added = loop->add_fd(loop->timer_fd_, EPOLLIN, [fd = loop->timer_fd_](uint32_t) {
    uint64_t expirations = 0;
    [[maybe_unused]] ssize_t n = ::read(fd, &expirations, sizeof expirations);
  });
  if (!added) return added.error();
  return loop;
}

EventLoop::EventLoop(int epoll_fd, int timer_fd)
    : epoll_fd_(epoll_fd), timer_fd_(timer_fd), origin_(monotonic_raw()) {}

EventLoop::~EventLoop() {
  ::close(timer_fd_);
  ::close(epoll_fd_);
}

Time EventLoop::now() const { return monotonic_raw() - origin_; }

TimerId EventLoop::after(Time delay, Callback fn) {
  if (delay < Time::zero()) delay = Time::zero();
  const TimerId id = next_timer_++;
  const Time deadline = now() + delay;
  timers_.emplace(TimerKey{deadline, id}, std::move(fn));
  timer_deadlines_.emplace(id, deadline);
  return id;
}

void EventLoop::cancel(TimerId id) {
  auto it = timer_deadlines_.find(id);
  if (it == timer_deadlines_.end()) return;
  timers_.erase(TimerKey{it->second, id});
  timer_deadlines_.erase(it);
}

void EventLoop::post(Callback fn) { posted_.push_back(std::move(fn)); }

Result<void> EventLoop::add_fd(int fd, uint32_t events, FdHandler handler) {
  if (fds_.count(fd)) return make_error("fd " + std::to_string(fd) + " is already registered");
  auto entry = std::make_shared<FdEntry>(FdEntry{next_token_++, std::move(handler)});
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = entry->token;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    return make_error("epoll_ctl(ADD, fd " + std::to_string(fd) + "): " + errno_text(errno));
  }
  by_token_.emplace(entry->token, entry);
  fds_.emplace(fd, std::move(entry));
  return {};
}

Result<void> EventLoop::modify_fd(int fd, uint32_t events) {
  auto it = fds_.find(fd);
  if (it == fds_.end()) return make_error("fd " + std::to_string(fd) + " is not registered");
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = it->second->token;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) != 0) {
    return make_error("epoll_ctl(MOD, fd " + std::to_string(fd) + "): " + errno_text(errno));
  }
  return {};
}

void EventLoop::remove_fd(int fd) {
  auto it = fds_.find(fd);
  if (it == fds_.end()) return;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  by_token_.erase(it->second->token);
  fds_.erase(it);
}

void EventLoop::stop() { stopped_ = true; }

void EventLoop::run() {
  stopped_ = false;
  while (!stopped_) iterate();
  stopped_ = false;
}

void EventLoop::run_for(Time duration) {
  stopped_ = false;
  bool expired = false;
  TimerId deadline = after(duration, [&expired] { expired = true; });
  while (!stopped_ && !expired) iterate();
  cancel(deadline);
  stopped_ = false;
}

bool EventLoop::run_until(const std::function<bool()>& done, Time timeout) {
  if (done()) return true;
  stopped_ = false;
  bool expired = false;
  TimerId deadline = after(timeout, [&expired] { expired = true; });
  bool finished = false;
  while (!stopped_ && !expired) {
    iterate();
    if (done()) {
      finished = true;
      break;
    }
  }
  cancel(deadline);
  stopped_ = false;
  return finished;
}

void EventLoop::iterate() {
  arm_timerfd();
  constexpr int kMaxEvents = 64;
  epoll_event events[kMaxEvents];
  const int timeout_ms = posted_.empty() ? -1 : 0;
  int n = epoll_wait(epoll_fd_, events, kMaxEvents, timeout_ms);
  if (n < 0) n = 0;  // EINTR: just go round again (timers and posts still run)
  for (int i = 0; i < n; ++i) {
    auto it = by_token_.find(events[i].data.u64);
    if (it == by_token_.end()) continue;  // removed by an earlier callback of this batch
    // Hold the entry: the handler may remove its own registration.
    std::shared_ptr<FdEntry> entry = it->second;
    entry->handler(events[i].events);
  }
  run_due_timers();
  run_posted();
}

void EventLoop::arm_timerfd() {
  std::optional<Time> earliest;
  if (!timers_.empty()) earliest = timers_.begin()->first.first;
  if (earliest == armed_) return;
  itimerspec spec{};
  if (earliest) {
    // Absolute time; a deadline already past is clamped to 1ns after the
    // epoch of CLOCK_MONOTONIC, which fires at once (all zeroes would disarm).
    Time when = origin_ + *earliest;
    if (when <= Time::zero()) when = Time(1);
    spec.it_value = to_timespec(when);
  }
  timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr);
  armed_ = earliest;
}

void EventLoop::run_due_timers() {
  // Only timers that existed when this pass began: a timer that re-arms
  // itself with delay 0 runs once per iteration, not forever.
  const Time current = now();
  const TimerId limit = next_timer_;
  while (!timers_.empty()) {
    auto it = timers_.begin();
    if (it->first.first > current) break;
    // A timer set during this pass (its deadline can equal `current` at
    // clock resolution) sorts after every older due one: stop there.
    if (it->first.second >= limit) break;
    Callback fn = std::move(it->second);
    timer_deadlines_.erase(it->first.second);
    timers_.erase(it);
    armed_.reset();  // the earliest deadline changed
    fn();
    if (stopped_) break;
  }
}

void EventLoop::run_posted() {
  // Only what was posted before this pass; callbacks posted now run next time.
  std::deque<Callback> batch;
  batch.swap(posted_);
  while (!batch.empty()) {
    Callback fn = std::move(batch.front());
    batch.pop_front();
    fn();
  }
}

}  // namespace loom::live
