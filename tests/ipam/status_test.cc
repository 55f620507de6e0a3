// IpamStatus: the Status line for every state, `weave status ipam`'s
// layout, the JSON report and the unreachable figures the metrics use;
// --ipalloc-init parsing.
#include "model/ipam/status.h"

#include <gtest/gtest.h>

#include "model/ipam/allocator.h"

namespace loom::ipam {
namespace {

EntryStatus entry(const std::string& peer, const std::string& nick, uint32_t size, bool known) {
  EntryStatus e;
  e.token = "10.32.0.0";
  e.size = size;
  e.peer = peer;
  e.nickname = nick;
  e.is_known_peer = known;
  return e;
}

IpamStatus three_owners() {
  IpamStatus s;
  s.name = "0a:00:00:00:00:02";
  s.nickname = "two";
  s.range = "10.32.0.0/12";
  s.range_num_ips = 1048576;
  s.active_ips = 7;
  s.default_subnet = "10.32.0.0/12";
  s.entries = {entry("0a:00:00:00:00:03", "three", 349525, false),
               entry("0a:00:00:00:00:01", "one", 349526, true),
               entry("0a:00:00:00:00:02", "two", 300000, true),
               entry("0a:00:00:00:00:02", "two", 49525, true)};
  return s;
}

TEST(IpamStatus, StatusLineForEachState) {
  IpamStatus s;
  EXPECT_EQ(state_text(s), "idle");
  s.paxos = PaxosStatus{true, 1, 2};
  EXPECT_EQ(state_text(s), "awaiting consensus (quorum: 2, known: 1)");
  s.paxos = PaxosStatus{false, 0, 0};
  EXPECT_EQ(state_text(s), "priming");
  s.paxos.reset();
  s.entries = {entry("a", "", 10, true)};
  EXPECT_EQ(state_text(s), "ready");
  s.pending_allocates = {"c1 10.32.0.0/12"};
  EXPECT_EQ(state_text(s), "waiting for IP range grant from peers");
  s.entries = {entry("a", "", 10, false), entry("b", "", 0, true)};
  EXPECT_EQ(state_text(s),
            "all IP ranges owned by unreachable peers - use 'rmpeer' if they are dead");
}

TEST(IpamStatus, RangesListOursFirstThenOthersMarkingTheUnreachable) {
  EXPECT_EQ(render_ranges(three_owners()),
            "0a:00:00:00:00:02(two)                  349525 IPs (33.3% of total) (7 active)\n"
            "0a:00:00:00:00:01(one)                  349526 IPs (33.3% of total) \n"
            "0a:00:00:00:00:03(three)                349525 IPs (33.3% of total) - unreachable!\n");
  IpamStatus small;
  small.name = "x";
  small.range_num_ips = 1000;
  small.entries = {entry("x", "n", 50, true)};
  EXPECT_EQ(render_ranges(small),
            "x(n)                                        50 IPs (05.0% of "
            "total) (0 active)\n");
}

TEST(IpamStatus, UnreachableOwnersAndTheirShare) {
  const IpamStatus s = three_owners();
  EXPECT_EQ(unreachable_count(s), 1u);
  EXPECT_NEAR(unreachable_percentage(s), 100.0 * 349525 / 1048576, 1e-9);
  const auto owners = summarise_owners(s);
  ASSERT_EQ(owners.size(), 3u);
  EXPECT_EQ(owners[0].peer, "0a:00:00:00:00:02");
  EXPECT_EQ(owners[0].ips, 349525u);
}

TEST(IpamStatus, TextBlockAndJsonUseWeavesNames) {
  IpamStatus s = three_owners();
  s.pending_claims = {ClaimStatus{"c9", "10.32.0.9/12"}};
  EXPECT_EQ(render_text(s),
            "        Service: ipam\n"
            "         Status: ready\n"
            "          Range: 10.32.0.0/12\n"
            "  DefaultSubnet: 10.32.0.0/12\n");
  const nlohmann::json j = to_json(s);
  EXPECT_TRUE(j["Paxos"].is_null());
  EXPECT_EQ(j["RangeNumIPs"], 1048576);
  EXPECT_EQ(j["ActiveIPs"], 7);
  EXPECT_EQ(j["Entries"].size(), 4u);
  EXPECT_EQ(j["Entries"][0]["IsKnownPeer"], false);
  EXPECT_EQ(j["PendingClaims"][0]["CIDR"], "10.32.0.9/12");
  s.paxos = PaxosStatus{true, 3, 2};
  EXPECT_EQ(to_json(s)["Paxos"]["Quorum"], 2);
}

TEST(IpamInitMode, ParsesWeavesForms) {
  auto c = parse_init_mode("consensus");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->kind, InitMode::Kind::consensus);
  EXPECT_FALSE(c->peer_count.has_value());
  auto n = parse_init_mode("consensus=5");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->peer_count, 5u);
  auto o = parse_init_mode("observer");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->kind, InitMode::Kind::observer);
  auto s = parse_init_mode("seed=::1,00:00:00:00:00:02");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->kind, InitMode::Kind::seed);
  EXPECT_EQ(s->seed, (std::vector<PeerName>{PeerName(1), PeerName(2)}));
}

TEST(IpamInitMode, BadInputSaysWhatIsWrong) {
  auto zero = parse_init_mode("consensus=0");
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().message,
            "invalid --ipalloc-init \"consensus=0\": want consensus=N with N a positive number");
  auto seed = parse_init_mode("seed=::1,bogus");
  ASSERT_FALSE(seed.ok());
  EXPECT_EQ(seed.error().message,
            "invalid --ipalloc-init \"seed=::1,bogus\": \"bogus\" is not a peer name");
  EXPECT_FALSE(parse_init_mode("quorum").ok());
  EXPECT_FALSE(parse_init_mode("seed=").ok());
}

}  // namespace
}  // namespace loom::ipam
