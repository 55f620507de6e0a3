// The allocator on sim::World (ipam_test_net.h): consensus, seed and
// observer initialisation, allocation across peers, donation, claims,
// free, container death, shutdown, rmpeer, persistence, status.
#include <set>

#include <gtest/gtest.h>

#include "tests/ipam/ipam_test_net.h"

namespace loom::ipam::testing {
namespace {

constexpr Time kSettle = 2min;  // a few rounds of periodic gossip (30 s)

std::set<Address> distinct(const std::vector<Address>& v) { return {v.begin(), v.end()}; }

TEST(AllocatorWorld, ConsensusOnFirstAllocationThenEveryPeerAllocatesDistinctAddresses) {
  IpamNet net(21);
  for (size_t i = 0; i < 5; ++i) net.add_peer(consensus());
  net.start_all();
  net.connect_all();
  net.run_for(3s);
  EXPECT_EQ(state_text(net.alloc(0).status()), "idle") << "consensus waits for the first use";
  EXPECT_TRUE(net.alloc(0).ring().empty());

  auto first = net.allocate_now(3, "c3");
  ASSERT_TRUE(first.ok()) << first.error().message;
  std::vector<Address> got{*first};
  for (size_t i = 0; i < 5; ++i) {
    auto a = net.allocate_now(i, id("b", i));
    ASSERT_TRUE(a.ok()) << a.error().message;
    got.push_back(*a);
  }
  EXPECT_EQ(distinct(got).size(), got.size());
  // Quorum from 4 targets: (4 + 1)/2 + 1 = 3. The proposer splits the ring
  // among the electors it knew of when a quorum promised (Weave's
  // pickValue); the rest got space by donation.
  ASSERT_TRUE(net.run_until([&] { return net.rings_agree(); }, kSettle));
  EXPECT_EQ(net.alloc(0).ring().peer_names().size(), 5u);
  EXPECT_GE(net.alloc(0).ring().seeds().size(), 3u);
  EXPECT_LE(net.alloc(0).ring().seeds().size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(state_text(net.alloc(i).status()), "ready");
  const InvariantReport r = net.check();
  EXPECT_TRUE(r.ok()) << r.summary();
  EXPECT_EQ(r.duplicate_owned_addresses, 0u);
  EXPECT_EQ(r.space_ring_mismatches, 0u) << r.summary();
}

TEST(AllocatorWorld, TwentyPeersWithConsensusN) {
  IpamNet net(22, "10.32.0.0/20");
  for (size_t i = 0; i < 20; ++i) net.add_peer(consensus(20));
  net.start_all();
  net.connect_all();
  std::vector<PendingPtr> ops;
  for (size_t i = 0; i < 20; ++i) {
    ops.push_back(net.allocate(i, id("a", i)));
    ops.push_back(net.allocate(i, id("b", i)));
  }
  ASSERT_TRUE(net.run_until(
      [&] { return std::all_of(ops.begin(), ops.end(), [](auto& p) { return p->done(); }); },
      2min));
  std::vector<Address> got;
  for (auto& p : ops) {
    ASSERT_TRUE(p->ok()) << p->error();
    got.push_back(p->value());
  }
  EXPECT_EQ(distinct(got).size(), 40u);
  ASSERT_TRUE(net.run_until([&] { return net.rings_agree(); }, 3min));
  EXPECT_EQ(net.alloc(7).ring().peer_names().size(), 20u);
  EXPECT_TRUE(net.check().ok()) << net.check().summary();
}

TEST(AllocatorWorld, SeedModeAllocatesBeforeAnyConnection) {
  IpamNet net(23);
  for (size_t i = 0; i < 3; ++i) net.add_peer(seed({2, 0, 1}));  // order does not matter
  net.start_all();
  // No connections at all: every peer built the same ring from the seed.
  EXPECT_EQ(*net.allocate_now(0, "c0"), address("10.32.0.1"));
  EXPECT_EQ(*net.allocate_now(1, "c1"), address("10.32.0.128"));
  EXPECT_EQ(*net.allocate_now(2, "c2"), address("10.32.0.192"));
  auto tokens = [&](size_t i) {
    std::vector<std::pair<Address, PeerName>> out;
    for (const Entry& e : net.alloc(i).ring().entries()) out.emplace_back(e.token, e.peer);
    return out;
  };
  EXPECT_EQ(tokens(0), tokens(2));
  EXPECT_EQ(net.alloc(0).ring().seeds(), net.alloc(2).ring().seeds());
  net.connect_all();
  ASSERT_TRUE(net.run_until([&] { return net.rings_agree(); }, kSettle));
  EXPECT_TRUE(net.check().ok()) << net.check().summary();
}

TEST(AllocatorWorld, ObserverPrimesThenGetsSpaceFromElectors) {
  IpamNet net(24);
  for (size_t i = 0; i < 3; ++i) net.add_peer(consensus(3));
  const size_t obs = net.add_peer(observer());
  net.start_all();
  net.connect_all();
  net.run_for(3s);
  auto p = net.allocate(obs, "c");
  const IpamStatus s = net.alloc(obs).status();
  EXPECT_EQ(state_text(s), "priming");
  ASSERT_TRUE(s.paxos.has_value());
  EXPECT_FALSE(s.paxos->elector);
  ASSERT_TRUE(net.wait(p).ok()) << p->error();
  // The electors decided among themselves; the observer got a donation.
  const auto& seeds = net.alloc(obs).ring().seeds();
  EXPECT_EQ(seeds.size(), 3u);
  EXPECT_EQ(std::count(seeds.begin(), seeds.end(), peer_name(obs)), 0);
  EXPECT_FALSE(net.alloc(obs).ring().owned_ranges().empty());
  EXPECT_EQ(state_text(net.alloc(obs).status()), "ready");
}

TEST(AllocatorWorld, APeerThatRunsOutGetsHalfOfADonorsFreeBlock) {
  IpamNet net(25, "10.32.0.0/26");  // 64 addresses: 32 each
  net.add_peer(seed({0, 1}));
  net.add_peer(seed({0, 1}));
  net.start_all();
  net.connect_all();
  ASSERT_TRUE(net.wait_mesh());
  for (unsigned k = 1; k <= 31; ++k) {  // .1 to .31: .0 is never handed out
    ASSERT_EQ(*net.allocate_now(0, id("c", k)), address("10.32.0.0") + k);
  }
  // Out of space: peer 0 asks peer 1, whose free block [32, 64) is all it
  // has free there, so it gives the upper half.
  auto more = net.allocate_now(0, "c32");
  ASSERT_TRUE(more.ok()) << more.error().message;
  EXPECT_EQ(*more, address("10.32.0.48"));
  const auto owned = net.alloc(0).ring().owned_ranges();
  ASSERT_EQ(owned.size(), 2u);
  EXPECT_EQ(owned[1], (Range{address("10.32.0.48"), address("10.32.0.64")}));
  EXPECT_EQ(*net.allocate_now(1, "d1"), address("10.32.0.32"));
  ASSERT_TRUE(net.run_until([&] { return net.rings_agree(); }, kSettle));
  EXPECT_TRUE(net.check().ok()) << net.check().summary();
}

TEST(AllocatorWorld, WhenEveryoneIsFullAllocationWaitsUntilFreeSpaceIsGossiped) {
  IpamNet net(26, "10.32.0.0/27");  // 32 addresses: 16 each
  net.add_peer(seed({0, 1}));
  net.add_peer(seed({0, 1}));
  net.start_all();
  net.connect_all();
  for (unsigned k = 0; k < 15; ++k) ASSERT_TRUE(net.allocate_now(0, id("a", k)).ok());
  for (unsigned k = 0; k < 15; ++k) ASSERT_TRUE(net.allocate_now(1, id("b", k)).ok());
  // Peer 1's .16 .. .30 in use, .31 is its subnet's broadcast address.
  ASSERT_TRUE(net.run_until([&] { return net.rings_agree(); }, kSettle));
  auto p = net.allocate(0, "late");
  net.run_for(10s);
  EXPECT_FALSE(p->done());
  EXPECT_EQ(state_text(net.alloc(0).status()), "waiting for IP range grant from peers");
  EXPECT_EQ(net.host(0).metrics().value("weave_ipam_pending_allocates"), 1);
  // A container on peer 1 goes; its free count reaches peer 0 with
  // periodic gossip (30 s), then peer 0 asks and gets that address.
  ASSERT_TRUE(net.release(1, "b3").ok());
  const Address freed = address("10.32.0.19");
  ASSERT_TRUE(net.wait(p, 90s).ok()) << p->error();
  EXPECT_EQ(p->value(), freed);
  EXPECT_EQ(state_text(net.alloc(0).status()), "ready");
  ASSERT_TRUE(net.run_until([&] { return net.rings_agree(); }, kSettle));
  EXPECT_TRUE(net.check().ok()) << net.check().summary();
}

TEST(AllocatorWorld, ClaimsOwnAndOthersAddressesAndIsRefusedAnAddressInUse) {
  IpamNet net(27);
  for (size_t i = 0; i < 3; ++i) net.add_peer(seed({0, 1, 2}));
  net.start_all();
  net.connect_all();
  ASSERT_TRUE(net.wait_mesh());
  // Our own range: at once.
  EXPECT_EQ(*net.wait(net.claim(0, "c1", "10.32.0.5/24")), address("10.32.0.5"));
  EXPECT_EQ(*net.allocate_now(0, "c2"), address("10.32.0.1"));
  // The same ident again is fine; another ident is refused.
  EXPECT_TRUE(net.wait(net.claim(0, "c1", "10.32.0.5/24")).ok());
  auto taken = net.wait(net.claim(0, "c3", "10.32.0.5/24"));
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().message, "address 10.32.0.5/24 is already owned by c1");
  // Peer 1's range: peer 0 asks for that one address and gets it.
  EXPECT_EQ(*net.wait(net.claim(0, "c4", "10.32.0.130/24")), address("10.32.0.130"));
  EXPECT_EQ(net.alloc(0).ring().owner(address("10.32.0.130")), peer_name(0));
  EXPECT_EQ(net.alloc(1).ring().owner(address("10.32.0.131")), peer_name(1));
  // An address peer 1 has handed out: denied.
  EXPECT_EQ(*net.allocate_now(1, "d1"), address("10.32.0.128"));
  auto denied = net.wait(net.claim(2, "e1", "10.32.0.128/24"));
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().message,
            "address 10.32.0.128/24 is owned by other peer 0a:00:00:00:00:02 (peer1)");
  // Outside the universe: recorded, nothing else.
  EXPECT_TRUE(net.wait(net.claim(2, "e2", "192.168.1.5/24")).ok());
  EXPECT_EQ(net.alloc(2).lookup("e2", Range{address("192.168.1.0"), address("192.168.2.0")}).size(),
            1u);
  EXPECT_EQ(net.alloc(2).space().num_allocated(), 0u);
  ASSERT_TRUE(net.run_until([&] { return net.rings_agree(); }, kSettle));
  EXPECT_TRUE(net.check().ok()) << net.check().summary();
}

TEST(AllocatorWorld, AClaimFromAnOwnerWithNoRouteFailsAfterFiveTries) {
  IpamNet net(28);
  net.add_peer(seed({0, 1}));
  net.add_peer(seed({0, 1}));
  net.start_all();  // never connected
  auto p = net.claim(0, "c", "10.32.0.200/24");
  net.run_for(20s);
  EXPECT_FALSE(p->done()) << "retried on every 5 s tick";
  EXPECT_EQ(net.alloc(0).status().pending_claims.size(), 1u);
  auto r = net.wait(p, 30s);
  ASSERT_FALSE(r.ok());
  // Never connected: peer 0 has not learnt peer 1's nickname.
  EXPECT_EQ(r.error().message, "address 10.32.0.200/24 is owned by other peer 0a:00:00:00:00:02");
  EXPECT_EQ(net.alloc(0).pending_claims(), 0u);
}

TEST(AllocatorWorld, FreeAndReleaseReturnAddressesAndAllocationIsIdempotent) {
  IpamNet net(29);
  net.add_peer(seed({0}));
  net.start_all();
  EXPECT_EQ(*net.allocate_now(0, "c1"), address("10.32.0.1"));
  EXPECT_EQ(*net.allocate_now(0, "c2"), address("10.32.0.2"));
  EXPECT_EQ(*net.allocate_now(0, "c2"), address("10.32.0.2")) << "same ident, same address";
  EXPECT_TRUE(net.release(0, "c1").ok());
  EXPECT_EQ(*net.allocate_now(0, "c3"), address("10.32.0.1")) << "the lowest free address";
  EXPECT_TRUE(net.alloc(0).free("c2", address("10.32.0.2")).ok());
  auto again = net.alloc(0).free("c2", address("10.32.0.2"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().message, "Free: address 10.32.0.2 not found for c2");
  auto nobody = net.alloc(0).release("nobody");
  ASSERT_FALSE(nobody.ok());
  EXPECT_EQ(nobody.error().message, "Delete: no addresses for nobody");
  EXPECT_EQ(net.alloc(0).status().active_ips, 1u);
  EXPECT_EQ(net.host(0).metrics().value("weave_ips", {{"state", "local-used"}}), 1);
  // An allocation outside the universe is refused.
  auto out = net.wait([&] {
    auto p = std::make_shared<Pending>();
    net.alloc(0).allocate("x", cidr("192.168.0.0/24"), true,
                          [p](Result<Address> r) { p->result = std::move(r); });
    return p;
  }());
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().message, "range 192.168.0.0/24 out of bounds: 10.32.0.0/24");
}

TEST(AllocatorWorld, ADeadContainersAddressesGoAfterThirtySecondsUnlessItRestarts) {
  IpamNet net(30);
  net.add_peer(seed({0}));
  net.start_all();
  const Address a1 = *net.allocate_now(0, "c1");
  const Address a2 = *net.allocate_now(0, "c2");
  const Address a3 = *net.allocate_now(0, "c3");
  net.alloc(0).container_died("c1");
  net.alloc(0).container_died("c2");
  net.alloc(0).container_destroyed("c3");
  const Range all = net.universe().range();
  EXPECT_TRUE(net.alloc(0).lookup("c3", all).empty()) << "destroyed: freed at once";
  net.run_for(20s);
  net.alloc(0).container_started("c2");
  EXPECT_EQ(net.alloc(0).lookup("c1", all).size(), 1u);
  net.run_for(20s);
  EXPECT_TRUE(net.alloc(0).lookup("c1", all).empty()) << "died over 30 s ago";
  ASSERT_EQ(net.alloc(0).lookup("c2", all).size(), 1u) << "restarted in time";
  EXPECT_EQ(net.alloc(0).lookup("c2", all)[0].addr, a2);
  EXPECT_EQ(*net.allocate_now(0, "c4"), a1);
  EXPECT_EQ(*net.allocate_now(0, "c5"), a3);
}

TEST(AllocatorWorld, ShutdownHandsOurRangesToALivePeer) {
  IpamNet net(31);
  for (size_t i = 0; i < 3; ++i) net.add_peer(seed({0, 1, 2}));
  net.start_all();
  net.connect_all();
  ASSERT_TRUE(net.wait_mesh());
  ASSERT_TRUE(net.allocate_now(2, "c").ok());
  ASSERT_TRUE(net.run_until([&] { return net.rings_agree(); }, kSettle));
  const uint32_t version = net.alloc(0).ring().entries().back().version;
  net.alloc(2).shutdown();
  // Peer 0 holds the first entry that is not peer 2's: it is the heir.
  ASSERT_TRUE(net.run_until(
      [&] { return net.alloc(0).ring().owner(address("10.32.0.200")) == peer_name(0); }, 1s))
      << "broadcast at once";
  EXPECT_EQ(net.alloc(1).ring().owner(address("10.32.0.200")), peer_name(0));
  EXPECT_GE(net.alloc(0).ring().entries().back().version, version + 100);
  EXPECT_TRUE(net.alloc(2).space().owned_ranges().empty());
  auto after = net.allocate_now(2, "d");
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().message, "Allocate request for d cancelled");
}

TEST(AllocatorWorld, RmpeerTakesOverADeadPeersRangesAndStatusShowsIt) {
  IpamNet net(32);
  for (size_t i = 0; i < 3; ++i) net.add_peer(seed({0, 1, 2}));
  net.start_all();
  net.connect_all();
  ASSERT_TRUE(net.allocate_now(0, "c0").ok());
  ASSERT_TRUE(net.allocate_now(2, "c2").ok());
  ASSERT_TRUE(net.run_until([&] { return net.rings_agree(); }, kSettle));
  net.kill(2);
  // Mesh drops the dead peer from the topology: its range is unreachable.
  ASSERT_TRUE(net.run_until([&] { return net.mesh(0).peers().find(peer_name(2)) == nullptr; }, 5s));
  net.run_for(5s);  // a tick publishes the metrics
  EXPECT_EQ(net.host(0).metrics().value("weave_ipam_unreachable_count"), 1);
  EXPECT_DOUBLE_EQ(net.host(0).metrics().value("weave_ipam_unreachable_percentage"), 25.0);
  const IpamStatus s = net.alloc(0).status();
  EXPECT_EQ(render_ranges(s),
            "0a:00:00:00:00:01(peer0)                   128 IPs (50.0% of total) (1 active)\n"
            "0a:00:00:00:00:02(peer1)                    64 IPs (25.0% of total) \n"
            "0a:00:00:00:00:03(peer2)                    64 IPs (25.0% of total) - unreachable!\n");
  EXPECT_EQ(render_text(s),
            "        Service: ipam\n"
            "         Status: ready\n"
            "          Range: 10.32.0.0/24\n"
            "  DefaultSubnet: 10.32.0.0/24\n");
  const nlohmann::json j = to_json(s);
  EXPECT_EQ(j["RangeNumIPs"], 256);
  EXPECT_EQ(j["Entries"].size(), 3u);
  EXPECT_EQ(j["Entries"][2]["IsKnownPeer"], false);

  EXPECT_EQ(net.alloc(0).rmpeer("nobody"), "0 IPs taken over from nobody\n");
  EXPECT_EQ(net.alloc(0).rmpeer("peer2"), "64 IPs taken over from peer2\n");
  net.forget_workloads(2);
  ASSERT_TRUE(net.run_until(
      [&] { return net.alloc(1).ring().owner(address("10.32.0.200")) == peer_name(0); }, 5s));
  net.run_for(5s);
  EXPECT_EQ(net.host(0).metrics().value("weave_ipam_unreachable_count"), 0);
  EXPECT_EQ(net.host(1).metrics().value("weave_ipam_unreachable_percentage"), 0);
  ASSERT_TRUE(net.run_until([&] { return net.rings_agree(); }, kSettle));
  EXPECT_TRUE(net.check().ok()) << net.check().summary();
}

TEST(AllocatorWorld, ARestartedPeerResumesFromItsStore) {
  IpamNet net(33);
  for (size_t i = 0; i < 3; ++i) net.add_peer(consensus(3));
  net.start_all();
  net.connect_all();
  const Address a = *net.allocate_now(1, "c1");
  const std::string odd = "c\"2\\\n";  // quotes, backslashes, control characters
  const Address b = *net.allocate_now(1, odd);
  ASSERT_TRUE(net.run_until([&] { return net.rings_agree(); }, kSettle));
  const Ring before = net.alloc(1).ring();
  net.kill(1);
  net.run_for(10s);
  net.restart(1);
  EXPECT_EQ(net.alloc(1).ring().entries(), before.entries()) << "restored before any gossip";
  EXPECT_EQ(*net.allocate_now(1, "c1"), a) << "the same container keeps its address";
  EXPECT_EQ(*net.allocate_now(1, odd), b);
  const Address c = *net.allocate_now(1, "c3");
  EXPECT_NE(c, a);
  EXPECT_NE(c, b);
  EXPECT_EQ(net.alloc(1).status().active_ips, 3u);
  ASSERT_TRUE(net.run_until([&] { return net.rings_agree(); }, kSettle));
  EXPECT_TRUE(net.check().ok()) << net.check().summary();
}

TEST(AllocatorWorld, AStoreThatCannotBeReadIsAnError) {
  IpamNet net(34);
  net.add_peer(seed({0}));
  net.start_all();
  ASSERT_TRUE(net.allocate_now(0, "c").ok());
  ASSERT_TRUE(net.host(0).store().put("ownedAddresses", "{not json").ok());
  AllocatorConfig c = net.alloc(0).config();
  MeshPeerView view(net.mesh(0));
  Allocator again(net.host(0), c, view);
  auto started = again.start();
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().message, "IPAM store: key \"ownedAddresses\": not a JSON object");
}

}  // namespace
}  // namespace loom::ipam::testing
