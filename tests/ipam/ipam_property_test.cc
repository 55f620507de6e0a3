// IPAM under random faults (rapidcheck on sim::World): 3-20 peers, correct
// configuration (consensus=N with N the peer count, or one seed list), and
// a universe of 64 to 256 addresses (so peers run out and ask for more),
// a random sequence of allocations, releases, partitions, heals, kills,
// restarts with their store, and rmpeer of dead peers (on one side only,
// once the survivors agree on the ring, never restarting the removed peer
// with its old store). Once everything is healed: no address owned or in
// use twice, nothing in use outside owned space, and one ring.
//
// LOOM_IPAM_PROPERTY_RUNS=N runs N cases (default kDefaultRuns, to keep CI
// to some tens of seconds). Each case prints its world seed; a failure
// prints rapidcheck's seed and the steps: replay with
// RC_PARAMS="seed=<seed>" (and LOOM_IPAM_PROPERTY_SHRINK=1 to shrink, which
// re-runs the simulation many times).
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "tests/ipam/ipam_test_net.h"

namespace loom::ipam::testing {
namespace {

constexpr int kDefaultRuns = 12;

enum class Op { allocate, release, cut_site, isolate, heal, kill, restart, rmpeer };

const char* op_name(Op op) {
  switch (op) {
    case Op::allocate:
      return "allocate";
    case Op::release:
      return "release";
    case Op::cut_site:
      return "cut_site";
    case Op::isolate:
      return "isolate";
    case Op::heal:
      return "heal";
    case Op::kill:
      return "kill";
    case Op::restart:
      return "restart";
    case Op::rmpeer:
      return "rmpeer";
  }
  return "?";
}

struct Step {
  Op op;
  size_t a;  // a peer or site (taken modulo what exists)
  size_t b;  // a second choice (the peer running rmpeer, which container)
  int wait_s;
};

struct Scenario {
  uint64_t world_seed = 0;
  size_t peers = 0;
  size_t sites = 1;
  std::vector<size_t> site_of;
  bool seeded = false;  // seed= (all peers) instead of consensus=N
  int prefix = 24;      // the universe, 10.32.0.0/prefix: small, so peers run out
  std::vector<Step> steps;

  std::string describe() const {
    std::ostringstream out;
    out << "world seed " << world_seed << ", " << peers << " peers on " << sites << " sites [";
    for (size_t i = 0; i < site_of.size(); ++i) out << (i > 0 ? " " : "") << site_of[i];
    out << "], /" << prefix << ", " << (seeded ? "seed" : "consensus=N") << ", " << steps.size()
        << " steps:";
    for (const Step& s : steps) {
      out << " " << op_name(s.op) << "(" << s.a << "," << s.b << ")+" << s.wait_s << "s";
    }
    return out.str();
  }
};

// The inverse of describe(), for LOOM_IPAM_PROPERTY_REPLAY.
std::optional<Scenario> parse_scenario(const std::string& text) {
  Scenario s;
  std::istringstream in(text);
  std::string word;
  size_t steps = 0;
  char c = 0;
  if (!(in >> word >> word >> s.world_seed >> c >> s.peers >> word >> word >> s.sites >> word >>
        c)) {
    return std::nullopt;
  }
  for (size_t i = 0; i < s.peers; ++i) {
    size_t site = 0;
    if (!(in >> site)) return std::nullopt;
    s.site_of.push_back(site);
  }
  if (!(in >> c >> c >> c >> s.prefix >> c >> word)) return std::nullopt;  // "], /26, seed,"
  s.seeded = word == "seed,";
  if (!(in >> steps >> word)) return std::nullopt;
  for (size_t k = 0; k < steps; ++k) {
    if (!(in >> word)) return std::nullopt;
    const size_t open = word.find('(');
    const std::string name = word.substr(0, open);
    Step step{Op::allocate, 0, 0, 0};
    bool known = false;
    for (Op op : {Op::allocate, Op::release, Op::cut_site, Op::isolate, Op::heal, Op::kill,
                  Op::restart, Op::rmpeer}) {
      if (name == op_name(op)) {
        step.op = op;
        known = true;
      }
    }
    if (!known ||
        std::sscanf(word.c_str() + open, "(%zu,%zu)+%ds", &step.a, &step.b, &step.wait_s) != 3) {
      return std::nullopt;
    }
    s.steps.push_back(step);
  }
  return s;
}

// Uniform in [lo, hi), whatever rapidcheck's current size (inRange alone
// shrinks its range with the size, so early runs would all be tiny).
template <typename T>
T pick(T lo, T hi) {
  return *rc::gen::resize(100, rc::gen::inRange<T>(lo, hi));
}

Scenario gen_scenario() {
  Scenario s;
  s.world_seed = pick<uint64_t>(1, uint64_t{1} << 32);
  s.peers = pick<size_t>(3, 21);
  s.sites = pick<size_t>(1, 4);
  for (size_t i = 0; i < s.peers; ++i) s.site_of.push_back(pick<size_t>(0, s.sites));
  s.seeded = pick<int>(0, 4) == 0;
  s.prefix = pick<int>(24, 27);
  const auto count = pick<size_t>(4, 25);
  for (size_t k = 0; k < count; ++k) {
    // Allocations most often; faults less.
    const int roll = pick<int>(0, 100);
    Op op = roll < 35   ? Op::allocate
            : roll < 47 ? Op::release
            : roll < 55 ? Op::cut_site
            : roll < 62 ? Op::isolate
            : roll < 72 ? Op::heal
            : roll < 82 ? Op::kill
            : roll < 94 ? Op::restart
                        : Op::rmpeer;
    s.steps.push_back(Step{op, pick<size_t>(0, 64), pick<size_t>(0, 64), pick<int>(0, 40)});
  }
  return s;
}

// Every running peer holds the same ring, or none has one.
bool settled(const IpamNet& net) {
  std::vector<size_t> running;
  bool any_ring = false;
  for (size_t i = 0; i < net.size(); ++i) {
    if (!net.running(i)) continue;
    running.push_back(i);
    any_ring = any_ring || !net.alloc(i).ring().empty();
  }
  return !any_ring || net.rings_agree(running);
}

// What the runs did, over all of them (printed at the end).
struct Totals {
  size_t runs = 0;
  size_t allocated = 0;
  size_t released = 0;
  size_t partitions = 0;
  size_t kills = 0;
  size_t restarts = 0;
  size_t rmpeers = 0;
};
Totals totals;

void run_scenario(const Scenario& sc) {
  ++totals.runs;
  RC_LOG() << sc.describe() << "\n";
  IpamNet net(sc.world_seed, "10.32.0.0/" + std::to_string(sc.prefix));
  std::vector<size_t> site_index{0};
  for (size_t s = 1; s < sc.sites; ++s) site_index.push_back(net.add_site());
  std::vector<size_t> everyone;
  for (size_t i = 0; i < sc.peers; ++i) everyone.push_back(i);
  for (size_t i = 0; i < sc.peers; ++i) {
    net.add_peer(sc.seeded ? seed(everyone) : consensus(static_cast<unsigned>(sc.peers)),
                 site_index[sc.site_of[i]]);
  }
  net.start_all();
  net.connect_all();

  std::vector<bool> removed(sc.peers, false);
  std::vector<PendingPtr> pending;
  size_t next_ident = 0;
  // The peers running (or not), in index order.
  auto peers_where = [&](bool running) {
    std::vector<size_t> out;
    for (size_t i = 0; i < sc.peers; ++i) {
      if (net.running(i) == running) out.push_back(i);
    }
    return out;
  };
  // The k-th of a list, wrapping; none when it is empty.
  auto nth = [](const std::vector<size_t>& list, size_t k) -> std::optional<size_t> {
    if (list.empty()) return std::nullopt;
    return list[k % list.size()];
  };

  for (const Step& step : sc.steps) {
    const std::vector<size_t> up = peers_where(true);
    const std::vector<size_t> down = peers_where(false);
    switch (step.op) {
      case Op::allocate:
        // One to four containers at once.
        if (auto p = nth(up, step.a)) {
          for (size_t k = 0; k <= step.b % 4; ++k) {
            pending.push_back(net.allocate(*p, id("c", next_ident++)));
          }
        }
        break;
      case Op::release: {
        auto p = nth(up, step.a);
        if (!p) break;
        std::vector<std::string> mine;
        for (const auto& [key, addr] : net.workloads()) {
          if (key.first == *p) mine.push_back(key.second);
        }
        if (!mine.empty()) {
          RC_ASSERT(net.release(*p, mine[step.b % mine.size()]).ok());
          ++totals.released;
        }
        break;
      }
      case Op::cut_site:
        if (sc.sites > 1) {
          net.set_site_up(site_index[1 + step.a % (sc.sites - 1)], false);
          ++totals.partitions;
        }
        break;
      case Op::isolate:
        net.set_peer_link_up(step.a % sc.peers, false);
        ++totals.partitions;
        break;
      case Op::heal:
        net.heal_all();
        break;
      case Op::kill: {
        if (up.size() <= 2) break;
        // Half the time a peer with containers, whose store then matters.
        std::vector<size_t> busy;
        for (size_t i : up) {
          for (const auto& [key, addr] : net.workloads()) {
            if (key.first == i) {
              busy.push_back(i);
              break;
            }
          }
        }
        const bool pick_busy = step.b % 2 == 0 && !busy.empty();
        net.kill(*nth(pick_busy ? busy : up, step.a));
        ++totals.kills;
        break;
      }
      case Op::restart: {
        // A removed peer comes back only as a new one (Kubernetes' launch.sh
        // deletes the data of a peer that was rmpeer'd), and only with
        // consensus: with a seed it would rebuild its old seed range at once.
        auto p = nth(down, step.a);
        if (p && !(removed[*p] && sc.seeded)) {
          net.restart(*p, /*keep_store=*/!removed[*p]);
          ++totals.restarts;
        }
        break;
      }
      case Op::rmpeer: {
        std::vector<size_t> candidates;
        for (size_t i : down) {
          if (!removed[i]) candidates.push_back(i);
        }
        auto p = nth(candidates, step.a);
        if (!p) break;
        // On one peer only, once the survivors agree on the ring: then it
        // knows every donation the dead peer made.
        net.heal_all();
        if (!net.run_until([&] { return net.mesh_converged() && settled(net); }, 10min)) break;
        const size_t by = *nth(up, step.b);
        if (net.alloc(by).ring().owned_ranges_of(peer_name(*p)).empty()) break;
        (void)net.alloc(by).admin_takeover_ranges(id("peer", *p));
        removed[*p] = true;
        net.forget_workloads(*p);
        ++totals.rmpeers;
        break;
      }
    }
    net.run_for(std::chrono::seconds(step.wait_s));
  }

  // Heal everything and let gossip settle, and the allocations still
  // waiting on running peers finish (those on killed peers died with them).
  net.heal_all();
  const bool agreed = net.run_until([&] { return settled(net); }, 15min);
  // One more container on every running peer: a peer that forgot what its
  // containers use would hand one of their addresses out now.
  for (size_t i : peers_where(true)) pending.push_back(net.allocate(i, id("final", i)));
  (void)net.run_until(
      [&] {
        return std::all_of(pending.begin(), pending.end(),
                           [](const PendingPtr& op) { return op->done() || op.use_count() == 1; });
      },
      5min);
  const bool settled_again = net.run_until([&] { return settled(net); }, 15min);
  const InvariantReport r = net.check();
  RC_LOG() << r.summary() << "\n";
  RC_ASSERT(agreed);
  RC_ASSERT(settled_again);
  RC_ASSERT(r.duplicate_owned_addresses == 0u);
  RC_ASSERT(r.duplicate_allocated_addresses == 0u);
  RC_ASSERT(r.allocated_outside_owned == 0u);
  RC_ASSERT(r.invalid_rings == 0u);
  RC_ASSERT(r.ring_disagreements == 0u);
  RC_ASSERT(r.space_ring_mismatches == 0u);
  for (const PendingPtr& op : pending) {
    if (op->ok()) ++totals.allocated;
  }
}

int runs() {
  const char* env = std::getenv("LOOM_IPAM_PROPERTY_RUNS");
  if (env == nullptr || *env == '\0') return kDefaultRuns;
  const int n = std::atoi(env);
  return n > 0 ? n : kDefaultRuns;
}

TEST(IpamProperty, RandomFaultsWithCorrectConfigurationEndWithoutDuplicates) {
  if (const char* replay = std::getenv("LOOM_IPAM_PROPERTY_REPLAY")) {
    // One scenario as a run printed it ("world seed ...").
    const std::optional<Scenario> sc = parse_scenario(replay);
    ASSERT_TRUE(sc.has_value()) << "cannot parse LOOM_IPAM_PROPERTY_REPLAY";
    const auto result =
        rc::detail::checkTestable([&] { run_scenario(*sc); }, rc::detail::TestMetadata{},
                                  rc::detail::TestParams{0, 1, 0, 10, true});
    std::ostringstream message;
    rc::detail::printResultMessage(result, message);
    EXPECT_TRUE(result.template is<rc::detail::SuccessResult>()) << message.str();
    return;
  }
  rc::detail::TestParams params = rc::detail::configuration().testParams;
  params.maxSuccess = runs();
  const char* shrink = std::getenv("LOOM_IPAM_PROPERTY_SHRINK");
  params.disableShrinking = shrink == nullptr || std::string(shrink) != "1";
  std::cout << "rapidcheck seed " << params.seed << ", " << params.maxSuccess
            << " runs (replay: RC_PARAMS=\"seed=" << params.seed << "\")" << std::endl;
  int run = 0;
  rc::detail::TestMetadata meta;
  meta.id = "IpamProperty/RandomFaults";
  meta.description = "random faults with correct configuration end without duplicates";
  const auto result = rc::detail::checkTestable(
      [&] {
        const Scenario sc = gen_scenario();
        std::cout << "  run " << ++run << ": " << sc.describe() << std::endl;
        run_scenario(sc);
      },
      meta, params);
  std::ostringstream message;
  rc::detail::printResultMessage(result, message);
  std::cout << totals.runs << " scenarios (with shrinking): " << totals.allocated
            << " addresses allocated, " << totals.released << " released, " << totals.partitions
            << " partitions, " << totals.kills << " kills, " << totals.restarts << " restarts, "
            << totals.rmpeers << " rmpeers" << std::endl;
  EXPECT_TRUE(result.template is<rc::detail::SuccessResult>()) << message.str();
}

}  // namespace
}  // namespace loom::ipam::testing
