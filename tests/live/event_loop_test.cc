// EventLoop: timers, posted callbacks, fd readiness, run/stop.
#include "real-backend/event_loop.h"

#include <vector>

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "tests/live/live_fixture.h"

namespace loom::live {
namespace {

using namespace std::chrono_literals;
using testing::kPatience;
using testing::make_loop;

TEST(EventLoop, NowStartsNearZeroAndNeverGoesBack) {
  auto loop = make_loop();
  Time first = loop->now();
  EXPECT_GE(first, Time::zero());
  EXPECT_LT(first, Time(5s));
  EXPECT_GE(loop->now(), first);
}

TEST(EventLoop, TimersFireInDeadlineOrder) {
  auto loop = make_loop();
  std::vector<int> fired;
  loop->after(30ms, [&] { fired.push_back(3); });
  loop->after(10ms, [&] { fired.push_back(1); });
  loop->after(20ms, [&] { fired.push_back(2); });
  const Time start = loop->now();
  ASSERT_TRUE(loop->run_until([&] { return fired.size() == 3; }, kPatience));
  EXPECT_EQ(fired, (std::vector<int>{1, 2, 3}));
  EXPECT_GE(loop->now() - start, Time(30ms));
}

TEST(EventLoop, TimersDueTogetherRunInTheOrderTheyWereSet) {
  auto loop = make_loop();
  std::vector<int> fired;
  for (int i = 0; i < 5; ++i) loop->after(0ms, [&fired, i] { fired.push_back(i); });
  ASSERT_TRUE(loop->run_until([&] { return fired.size() == 5; }, kPatience));
  EXPECT_EQ(fired, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(EventLoop, CancelledTimerDoesNotFire) {
  auto loop = make_loop();
  bool cancelled_fired = false;
  bool later_fired = false;
  TimerId id = loop->after(5ms, [&] { cancelled_fired = true; });
  loop->after(40ms, [&] { later_fired = true; });
  loop->cancel(id);
  ASSERT_TRUE(loop->run_until([&] { return later_fired; }, kPatience));
  EXPECT_FALSE(cancelled_fired);
}

TEST(EventLoop, ZeroDelayTimerNeverRunsInsideTheCallThatSetIt) {
  auto loop = make_loop();
  bool fired = false;
  loop->after(0ms, [&] { fired = true; });
  loop->after(-5ms, [&] { fired = true; });  // negative counts as zero
  EXPECT_FALSE(fired);

  // Nor inside a callback that sets one.
  bool inner_ran_inside_outer = false;
  bool in_outer = false;
  bool inner_fired = false;
  loop->after(0ms, [&] {
    in_outer = true;
    loop->after(0ms, [&] {
      inner_ran_inside_outer = in_outer;
      inner_fired = true;
    });
    loop->post([&] { inner_ran_inside_outer = inner_ran_inside_outer || in_outer; });
    in_outer = false;
  });
  ASSERT_TRUE(loop->run_until([&] { return inner_fired; }, kPatience));
  EXPECT_TRUE(fired);
  EXPECT_FALSE(inner_ran_inside_outer);
}

TEST(EventLoop, CancellingAFiredOrUnknownIdIsIgnored) {
  auto loop = make_loop();
  int fired = 0;
  TimerId id = loop->after(1ms, [&] { ++fired; });
  ASSERT_TRUE(loop->run_until([&] { return fired == 1; }, kPatience));
  loop->cancel(id);
  loop->cancel(id);
  loop->cancel(987654321);
  loop->cancel(0);
  // A later timer is unaffected by those cancels.
  loop->after(1ms, [&] { ++fired; });
  ASSERT_TRUE(loop->run_until([&] { return fired == 2; }, kPatience));
  EXPECT_EQ(loop->pending_timers(), 0u);
}

TEST(EventLoop, TimerMayCancelAnotherDueInTheSamePass) {
  auto loop = make_loop();
  bool second_fired = false;
  bool done = false;
  TimerId second = 0;
  loop->after(0ms, [&] { loop->cancel(second); });
  second = loop->after(0ms, [&] { second_fired = true; });
  loop->after(20ms, [&] { done = true; });
  ASSERT_TRUE(loop->run_until([&] { return done; }, kPatience));
  EXPECT_FALSE(second_fired);
}

TEST(EventLoop, PostedCallbacksRunLaterInOrder) {
  auto loop = make_loop();
  std::vector<int> ran;
  loop->post([&] { ran.push_back(1); });
  loop->post([&] {
    ran.push_back(2);
    loop->post([&] { ran.push_back(4); });
  });
  loop->post([&] { ran.push_back(3); });
  EXPECT_TRUE(ran.empty());
  ASSERT_TRUE(loop->run_until([&] { return ran.size() == 4; }, kPatience));
  EXPECT_EQ(ran, (std::vector<int>{1, 2, 3, 4}));
}

class Pipe {
 public:
  Pipe() { EXPECT_EQ(::pipe2(fds_, O_NONBLOCK | O_CLOEXEC), 0); }
  ~Pipe() {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  int read_end() const { return fds_[0]; }
  void put(char c) { EXPECT_EQ(::write(fds_[1], &c, 1), 1); }
  int take() {
    char c = 0;
    return ::read(fds_[0], &c, 1) == 1 ? c : -1;
  }

 private:
  int fds_[2] = {-1, -1};
};

TEST(EventLoop, FdReadinessCallsTheHandlerUntilRemoved) {
  auto loop = make_loop();
  Pipe pipe;
  std::vector<int> got;
  ASSERT_TRUE(loop->add_fd(pipe.read_end(), EPOLLIN, [&](uint32_t events) {
    EXPECT_TRUE(events & EPOLLIN);
    got.push_back(pipe.take());
  }));
  EXPECT_FALSE(loop->add_fd(pipe.read_end(), EPOLLIN, [](uint32_t) {}).ok());
  pipe.put('a');
  ASSERT_TRUE(loop->run_until([&] { return got.size() == 1; }, kPatience));
  EXPECT_EQ(got[0], 'a');

  loop->remove_fd(pipe.read_end());
  loop->remove_fd(pipe.read_end());  // twice is fine
  pipe.put('b');
  loop->run_for(30ms);
  EXPECT_EQ(got.size(), 1u);
  EXPECT_FALSE(loop->modify_fd(pipe.read_end(), EPOLLIN).ok());
}

TEST(EventLoop, HandlerMayRemoveItsOwnRegistration) {
  auto loop = make_loop();
  Pipe pipe;
  int calls = 0;
  ASSERT_TRUE(loop->add_fd(pipe.read_end(), EPOLLIN, [&](uint32_t) {
    ++calls;
    loop->remove_fd(pipe.read_end());
  }));
  pipe.put('x');  // never read: level-triggered, it stays readable
  ASSERT_TRUE(loop->run_until([&] { return calls > 0; }, kPatience));
  loop->run_for(20ms);
  EXPECT_EQ(calls, 1);
}

TEST(EventLoop, ZeroDelayTimerLoopDoesNotStarveFds) {
  auto loop = make_loop();
  Pipe pipe;
  bool read = false;
  ASSERT_TRUE(loop->add_fd(pipe.read_end(), EPOLLIN, [&](uint32_t) { read = pipe.take() == 'z'; }));
  std::function<void()> spin = [&] { loop->after(0ms, spin); };
  loop->after(0ms, spin);
  pipe.put('z');
  EXPECT_TRUE(loop->run_until([&] { return read; }, kPatience));
}

TEST(EventLoop, RunForReturnsAfterTheDuration) {
  auto loop = make_loop();
  const Time start = loop->now();
  loop->run_for(25ms);
  EXPECT_GE(loop->now() - start, Time(25ms));
  EXPECT_EQ(loop->pending_timers(), 0u);  // its own deadline is gone
}

TEST(EventLoop, RunUntilReportsTimeout) {
  auto loop = make_loop();
  EXPECT_FALSE(loop->run_until([] { return false; }, 20ms));
  EXPECT_TRUE(loop->run_until([] { return true; }, 20ms));
}

TEST(EventLoop, StopEndsRun) {
  auto loop = make_loop();
  int ticks = 0;
  std::function<void()> tick = [&] {
    if (++ticks == 3) {
      loop->stop();
    } else {
      loop->after(1ms, tick);
    }
  };
  loop->after(1ms, tick);
  loop->run();
  EXPECT_EQ(ticks, 3);
}

}  // namespace
}  // namespace loom::live
