// The proof engine on two Ns3Hosts joined by an ns-3 point-to-point link.
#include <gtest/gtest.h>

#include "sim/world.h"
#include "tests/proof/expectations.h"

namespace loom::proof {
namespace {

using namespace std::chrono_literals;

struct PingPongRun {
  PingPongReport pinger;
  ResponderReport responder;
  Time end{};
};

sim::LinkSpec link_of(std::string rate, Time delay, double loss = 0) {
  sim::LinkSpec link;
  link.rate = std::move(rate);
  link.delay = delay;
  link.loss = loss;
  return link;
}

PingPongRun run_pingpong(const PingPongConfig& config, uint64_t seed, sim::LinkSpec link,
                         Time limit = 60s) {
  sim::WorldOptions options;
  options.seed = seed;
  sim::World world(options);
  size_t a = world.add_host("pinger");
  size_t b = world.add_host("responder");
  world.link(a, b, link);
  Responder responder(world.host(b), config);
  EXPECT_TRUE(responder.start());
  Pinger pinger(world.host(a), world.host(b).address(), config);
  EXPECT_TRUE(pinger.start());
  bool finished = world.run_until(
      [&] { return pinger.done() && responder.report().stream_closed_by_peer; }, limit);
  EXPECT_TRUE(finished) << "pingpong did not finish in time; at " << world.now().count()
                        << " ns, pinger " << (pinger.done() ? "done" : "not done")
                        << ", last event '"
                        << (pinger.report().events.empty() ? "" : pinger.report().events.back())
                        << "', echo " << pinger.report().echo_received
                        << " bytes, responder echoed " << responder.report().bytes_echoed;
  return {pinger.report(), responder.report(), world.now()};
}

TEST(ProofOnNs3, PingPongRetryAndEcho) {
  PingPongConfig config;
  sim::LinkSpec link = link_of("1Gbps", 1ms);
  PingPongRun run = run_pingpong(config, 1, link);
  expect_pingpong_behaviour(config, run.pinger, run.responder);

  // On the virtual clock the timing is exact: the first pong answers the
  // retry sent at retry_after, one round trip (2 x 1 ms plus serialisation
  // of a 36-byte datagram with its headers at 1 Gbit/s) later.
  Time rtt = run.pinger.first_pong_at - config.retry_after;
  EXPECT_GE(rtt, 2ms);
  EXPECT_LT(rtt, 2ms + 10us);
}

TEST(ProofOnNs3, SameSeedSameRunDifferentSeedSameBehaviour) {
  PingPongConfig config;
  config.echo_bytes = 64 * 1024;
  sim::LinkSpec link = link_of("10Mbps", 5ms);
  PingPongRun one = run_pingpong(config, 7, link);
  PingPongRun two = run_pingpong(config, 7, link);
  EXPECT_EQ(one.pinger.finished_at, two.pinger.finished_at);
  EXPECT_EQ(one.end, two.end);
  EXPECT_EQ(one.pinger.events, two.pinger.events);
  PingPongRun other = run_pingpong(config, 8, link);
  expect_pingpong_behaviour(config, other.pinger, other.responder);
}

TEST(ProofOnNs3, LossyLinkStillCompletesThroughRetries) {
  PingPongConfig config;
  config.drop_first = 0;
  config.pings = 60;
  config.echo_bytes = 256 * 1024;
  config.max_attempts = 50;
  sim::LinkSpec link = link_of("100Mbps", 2ms, 0.1);
  PingPongRun run = run_pingpong(config, 3, link, 600s);
  EXPECT_FALSE(run.pinger.failed) << run.pinger.failure;
  EXPECT_EQ(run.pinger.pongs, config.pings);
  EXPECT_TRUE(run.pinger.echo_ok);
  // 10% loss each way over 120 datagrams: some ping or pong is lost and
  // retried, and TCP recovers its own losses (its RTO backs off, hence the
  // long limit).
  EXPECT_GT(run.pinger.retries, 0);
}

}  // namespace
}  // namespace loom::proof
