// What the proof engine must show on any backend. Both the ns-3 and the
// Linux tests call this, so "same observable behaviour" is one definition.
#pragma once

#include <gtest/gtest.h>

#include "tests/proof/pingpong.h"

namespace loom::proof {

inline std::vector<std::string> expected_events(const PingPongConfig& c) {
  std::vector<std::string> events;
  for (int seq = 1; seq <= c.pings; ++seq) {
    events.push_back("ping " + std::to_string(seq));
    // The Responder ignores the first drop_first pings it sees: all of them
    // are ping 1 and its retries.
    if (seq == 1) {
      for (int r = 0; r < c.drop_first; ++r) events.push_back("retry 1");
    }
    events.push_back("pong " + std::to_string(seq));
  }
  events.push_back("connected");
  events.push_back("echo ok");
  return events;
}

inline void expect_pingpong_behaviour(const PingPongConfig& c, const PingPongReport& pinger,
                                      const ResponderReport& responder) {
  EXPECT_FALSE(pinger.failed) << pinger.failure;
  EXPECT_EQ(pinger.events, expected_events(c));
  EXPECT_EQ(pinger.pongs, c.pings);
  EXPECT_EQ(pinger.retries, c.drop_first);
  EXPECT_EQ(pinger.duplicate_pongs, 0);
  EXPECT_TRUE(pinger.echo_ok);
  EXPECT_EQ(pinger.echo_received, c.echo_bytes);
  EXPECT_GE(pinger.first_pong_at - Time{0}, c.retry_after * c.drop_first);
  EXPECT_GE(pinger.finished_at, pinger.first_pong_at);

  EXPECT_EQ(responder.pings_seen, c.pings + c.drop_first);
  EXPECT_EQ(responder.pings_ignored, c.drop_first);
  EXPECT_EQ(responder.pongs_sent, c.pings);
  EXPECT_EQ(responder.bytes_echoed, c.echo_bytes);
  EXPECT_TRUE(responder.stream_closed_by_peer);
}

}  // namespace loom::proof
