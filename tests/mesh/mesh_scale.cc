// mesh_scale: what forming a Weave mesh costs on ns-3, from 30 to 300 peers.
//
// A measurement program, not a test (docs/mesh.md, "Formation cost"). For
// each configuration it builds a MeshNet (mesh_test_net.h), starts every
// peer at once, gives them their targets and runs until MeshNet::converged()
// holds (every topology identical, every connection established, every
// unicast route leading to its destination), polled every 10 ms of virtual
// time. It prints, per configuration: virtual convergence time, bytes of
// topology gossip (payloads of the "topology" channel) and all control bytes
// the meshes wrote (handshakes and framing included), messages, ns-3 events,
// wall and CPU seconds (and how many the convergence check took), and the
// process's peak RSS. MESH_SCALE_DEBUG=1 adds, at the end: how many distinct
// topologies there are and which records the odd ones lack, each peer's
// chance of being in a neighbour's relay fanout, and the connection errors.
//
//   full   every peer is given every other as a target; conn-limit N
//   limit  every peer is given --targets random others and Weave's
//          discovery finds the rest, under conn-limit --conn-limit (30)
//   chain  peer i is given peer i+1, discovery off: N-1 hops end to end
//
// The underlay is a two-level tree by default (--site-size peers per hub,
// hubs joined by a core router, 1 Gbps and 1 ms per link: 2 ms one way
// within a site, 4 ms across), since hundreds of interfaces on one ns-3
// node make every forwarded packet scan them all; --site-size 0 is
// MeshNet's single star.
//
// --fidelity message simulates the streams as whole-message transfers
// (docs/backend-sim.md, "Message fidelity") instead of ns-3's TCP.
//
//   mesh_scale --peers 30,100 --mode full,limit [--fidelity message] [--json out.json]
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <sys/resource.h>

#include "model/mesh/fanout.h"
#include "model/random.h"
#include "tests/mesh/mesh_test_net.h"

namespace loom::mesh::testing {
namespace {

using Clock = std::chrono::steady_clock;

double seconds(Time t) { return std::chrono::duration<double>(t).count(); }
// CPU seconds of this process: wall time on a shared machine overstates.
double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// Peak resident set of this process so far, in MB (Linux reports kB).
double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

struct ScaleOptions {
  std::vector<size_t> peers{30};
  std::vector<std::string> modes{"full", "limit"};
  uint64_t seed = 1;
  double limit_seconds = 120;       // virtual
  double wall_limit_seconds = 0;    // 0: none
  size_t site_size = 16;            // 0: one star
  size_t targets = 0;               // limit mode; 0: every other peer
  size_t conn_limit = 30;           // limit mode
  double progress_seconds = 30;     // wall, to stderr; 0: quiet
  double settle_seconds = 5;        // virtual, after convergence
  double start_spread_seconds = 1;  // each peer's connect() at uniform [0, this)
  std::string fidelity = "tcp";     // of the streams: tcp or message
  std::string json;
};

struct Measurement {
  size_t peers = 0;
  std::string mode;
  bool converged = false;
  bool wall_limited = false;
  bool stable = false;  // still converged settle_seconds later
  // During those settle_seconds: topology messages and connections ended
  // (under a conn-limit, peers below it keep dialling peers at it, which
  // add the connection and then refuse it: churn that never ends).
  uint64_t settle_topology_messages = 0;
  uint64_t settle_terminations = 0;
  double virtual_seconds = 0;  // at convergence, or where it stopped
  uint64_t topology_bytes = 0;
  uint64_t topology_messages = 0;
  uint64_t control_bytes = 0;
  uint64_t control_messages = 0;
  uint64_t events = 0;
  double wall_seconds = 0;   // the whole configuration: build, run, checks
  double cpu_seconds = 0;    // the same, CPU time (the machine may be shared)
  double check_seconds = 0;  // of which in MeshNet::converged()
  double peak_rss_mb = 0;    // of the process, at the end (peaks of earlier runs included)
  size_t connections = 0;    // distinct connections at the end
  size_t min_degree = 0;
  size_t max_degree = 0;
  size_t full_topology_bytes = 0;  // one complete topology update at the end
};

void add_traffic(Measurement& r, MeshNet& net) {
  r.topology_bytes = r.topology_messages = r.control_bytes = r.control_messages = 0;
  const Labels topology{{"channel", kTopologyChannel}};
  for (size_t i = 0; i < net.size(); ++i) {
    const Metrics& m = net.host(i).metrics();
    r.topology_bytes += static_cast<uint64_t>(m.value("weave_gossip_bytes_sent_total", topology));
    r.topology_messages +=
        static_cast<uint64_t>(m.value("weave_gossip_messages_sent_total", topology));
    r.control_bytes += static_cast<uint64_t>(m.value(Connection::kSentBytesMetric));
    r.control_messages += static_cast<uint64_t>(m.value(Connection::kSentMessagesMetric));
  }
  r.events = net.world().events_executed();
}

uint64_t terminations(MeshNet& net) {
  double total = 0;
  for (size_t i = 0; i < net.size(); ++i) {
    total += net.host(i).metrics().value("weave_connection_terminations_total");
  }
  return static_cast<uint64_t>(total);
}

bool fully_connected(MeshNet& net) {
  for (size_t i = 0; i < net.size(); ++i) {
    if (net.mesh(i).connected_peers().size() != net.size() - 1) return false;
  }
  return true;
}

Measurement run(const ScaleOptions& o, size_t n, const std::string& mode) {
  const auto start = Clock::now();
  const double cpu_start = cpu_seconds();
  Measurement r;
  r.peers = n;
  r.mode = mode;
  MeshNet net(o.seed,
              o.fidelity == "message" ? sim::StreamFidelity::message : sim::StreamFidelity::tcp);

  MeshConfig config;
  // Full: no limit (the maker counts attempts in flight with connections,
  // so any limit near N would hold back the last dials).
  config.conn_limit = mode == "full" ? 0 : o.conn_limit;
  if (mode == "chain") config.discovery = false;  // or the chain grows into a mesh
  size_t site = 0;
  for (size_t i = 0; i < n; ++i) {
    if (o.site_size != 0 && i % o.site_size == 0) site = net.add_site();
    PeerOptions p;
    p.config = config;
    p.site = site;
    net.add_peer(p);
  }
  net.start_all();
  Random random(o.seed);
  for (size_t i = 0; i < n; ++i) {
    std::vector<std::string> targets;
    if (mode == "full" || (mode == "limit" && (o.targets == 0 || o.targets >= n - 1))) {
      for (size_t j = 0; j < n; ++j) {
        if (j != i) targets.push_back(net.ip(j));
      }
    } else if (mode == "chain") {
      if (i + 1 < n) targets.push_back(net.ip(i + 1));
    } else {
      std::vector<size_t> chosen;
      while (chosen.size() < std::min(o.targets, n - 1)) {
        const size_t j = random.below(n);
        if (j != i && std::find(chosen.begin(), chosen.end(), j) == chosen.end()) {
          chosen.push_back(j);
        }
      }
      for (size_t j : chosen) targets.push_back(net.ip(j));
    }
    // Peers do not start in the same microsecond: thousands of SYNs at
    // once overflow the hubs' queues, and ns-3's synchronised SYN retries
    // (3 s, 9 s) would then dominate what is measured.
    const Time at = std::chrono::duration_cast<Time>(
        std::chrono::duration<double>(o.start_spread_seconds * random.unit()));
    net.host(i).after(at, [&net, i, targets] { net.mesh(i).connect(targets); });
  }

  const Time limit =
      std::chrono::duration_cast<Time>(std::chrono::duration<double>(o.limit_seconds));
  auto last_progress = Clock::now();
  while (net.world().now() <= limit) {
    const auto check = Clock::now();
    const bool done = (mode != "full" || fully_connected(net)) && net.converged();
    r.check_seconds += since(check);
    if (done) {
      r.converged = true;
      break;
    }
    if (o.wall_limit_seconds > 0 && since(start) > o.wall_limit_seconds) {
      r.wall_limited = true;
      break;
    }
    if (o.progress_seconds > 0 && since(last_progress) > o.progress_seconds) {
      last_progress = Clock::now();
      add_traffic(r, net);
      size_t knowing_all = 0;
      for (size_t i = 0; i < n; ++i) knowing_all += net.mesh(i).peers().size() == n ? 1 : 0;
      std::fprintf(stderr,
                   "  [%zu %s] wall %.0f s: virtual %.2f s, %zu/%zu peers know all, topology "
                   "%.1f MB in %llu messages, %llu events\n",
                   n, mode.c_str(), since(start), seconds(net.world().now()), knowing_all, n,
                   static_cast<double>(r.topology_bytes) / 1e6,
                   static_cast<unsigned long long>(r.topology_messages),
                   static_cast<unsigned long long>(r.events));
    }
    net.world().run_for(10ms);
  }
  r.virtual_seconds = seconds(net.world().now());
  add_traffic(r, net);
  if (r.converged && o.settle_seconds > 0) {
    // Still converged a while later (the limit mode's discovery may go on)?
    const uint64_t messages_before = r.topology_messages;
    const uint64_t terminations_before = terminations(net);
    net.world().run_for(
        std::chrono::duration_cast<Time>(std::chrono::duration<double>(o.settle_seconds)));
    Measurement after;
    add_traffic(after, net);
    r.settle_topology_messages = after.topology_messages - messages_before;
    r.settle_terminations = terminations(net) - terminations_before;
    const auto check = Clock::now();
    r.stable = (mode != "full" || fully_connected(net)) && net.converged();
    r.check_seconds += since(check);
    if (!r.stable) {
      std::fprintf(stderr, "  [%zu %s] not stable %.0f s after converging: %s\n", n, mode.c_str(),
                   o.settle_seconds,
                   mode == "full" && !fully_connected(net)
                       ? "a connection is missing"
                       : net.not_converged(net.running_peers()).c_str());
    }
  }
  r.min_degree = n;
  for (size_t i = 0; i < n; ++i) {
    const size_t degree = net.mesh(i).connected_peers().size();
    r.connections += degree;
    r.min_degree = std::min(r.min_degree, degree);
    r.max_degree = std::max(r.max_degree, degree);
  }
  r.connections /= 2;
  r.full_topology_bytes = net.mesh(0).peers().encode_all().size();
  r.wall_seconds = since(start);
  r.cpu_seconds = cpu_seconds() - cpu_start;
  r.peak_rss_mb = peak_rss_mb();
  if (std::getenv("MESH_SCALE_DEBUG")) {
    // Where the topologies stand: distinct digests, placeholders held.
    std::map<uint64_t, size_t> digests;
    size_t placeholders = 0;
    size_t holding = 0;
    for (size_t i = 0; i < n; ++i) {
      const Peers& p = net.mesh(i).peers();
      digests[p.digest()]++;
      size_t mine = 0;
      for (const Peer& peer : p.all()) mine += peer.uid == 0 ? 1 : 0;
      placeholders += mine;
      holding += mine > 0 ? 1 : 0;
    }
    size_t agreeing = 0;
    for (const auto& [d, count] : digests) agreeing = std::max(agreeing, count);
    std::fprintf(stderr,
                 "  [%zu %s] at %.2f s: %zu distinct topologies (%zu peers agree), %zu peers hold "
                 "%zu placeholders; %s\n",
                 n, mode.c_str(), seconds(net.world().now()), digests.size(), agreeing, holding,
                 placeholders, net.not_converged(net.running_peers()).substr(0, 300).c_str());
    // Each peer out of the majority: its records that differ from it.
    uint64_t majority = 0;
    for (const auto& [d, count] : digests)
      if (count == agreeing) majority = d;
    size_t m = 0;
    while (net.mesh(m).peers().digest() != majority) ++m;
    for (size_t i = 0; i < n; ++i) {
      const Peers& mine = net.mesh(i).peers();
      if (mine.digest() == majority) continue;
      size_t shown = 0;
      for (const Peer& theirs : net.mesh(m).peers().all()) {
        const Peer* p = mine.find(theirs.name);
        if (p != nullptr && p->version == theirs.version && p->uid == theirs.uid) continue;
        if (++shown > 3) break;
        const size_t owner = net.index_of(theirs.name);
        std::fprintf(stderr,
                     "    peer %zu has peer %zu at v%llu (majority v%llu)%s; %zu connections\n", i,
                     owner, p ? static_cast<unsigned long long>(p->version) : 0ULL,
                     static_cast<unsigned long long>(theirs.version),
                     net.mesh(i).connection_to(theirs.name) ? ", a neighbour" : "",
                     net.mesh(i).connected_peers().size());
      }
    }
    // How likely each peer is to be among the fanout of a neighbour
    // relaying something it heard elsewhere (Monte Carlo over the current
    // routes): Weave weighs neighbours by the routes through them.
    std::vector<double> picked(n, 0), offered(n, 0);
    Random draws(o.seed + 7);
    for (size_t y = 0; y < n; ++y) {
      for (int k = 0; k < 100; ++k) {
        for (PeerName hop : random_neighbours(net.mesh(y).routes(), PeerName{}, draws)) {
          const size_t x = net.index_of(hop);
          if (x != MeshNet::npos) picked[x] += 1;
        }
        for (PeerName nb : net.mesh(y).connected_peers()) {
          const size_t x = net.index_of(nb);
          if (x != MeshNet::npos) offered[x] += 1;
        }
      }
    }
    std::vector<std::pair<double, size_t>> odds;
    for (size_t x = 0; x < n; ++x)
      if (offered[x] > 0) odds.emplace_back(picked[x] / offered[x], x);
    std::sort(odds.begin(), odds.end());
    std::fprintf(stderr, "  chance a neighbour's relay includes the peer: lowest");
    for (size_t k = 0; k < std::min<size_t>(8, odds.size()); ++k)
      std::fprintf(stderr, " %zu:%.2f", odds[k].second, odds[k].first);
    std::fprintf(stderr, "; median %.2f; highest %zu:%.2f\n", odds[odds.size() / 2].first,
                 odds.back().second, odds.back().first);
    for (size_t i = 0; i < n; ++i) {
      if (net.mesh(i).peers().digest() == majority) continue;
      for (size_t k = 0; k < odds.size(); ++k)
        if (odds[k].second == i)
          std::fprintf(stderr, "    peer %zu (stale): %.2f, rank %zu of %zu\n", i, odds[k].first,
                       k + 1, odds.size());
    }
    std::map<std::string, size_t> reasons;
    for (const auto& l : net.log()) {
      auto at = l.find("due to error: ");
      if (at != std::string::npos) {
        std::string reason = l.substr(at + 14);
        for (char& c : reason)
          if (isdigit(c)) c = '#';
        reasons[reason.substr(0, 60)]++;
      }
      at = l.find("error during connection attempt");
      if (at != std::string::npos) reasons[l.substr(at, 80)]++;
    }
    for (auto& [k, v] : reasons) std::fprintf(stderr, "%6zu %s\n", v, k.c_str());
    if (std::getenv("MESH_SCALE_GREP")) {
      std::string g = std::getenv("MESH_SCALE_GREP");
      for (const auto& l : net.log())
        if (l.find(g) != std::string::npos) std::fprintf(stderr, "%s\n", l.c_str());
    }
  }
  return r;
}

std::string mb(uint64_t bytes) {
  std::ostringstream out;
  out.precision(1);
  out << std::fixed << static_cast<double>(bytes) / 1e6;
  return out.str();
}

void print_table(const std::vector<Measurement>& results) {
  std::printf("%5s %-5s %10s %6s %8s %12s %10s %12s %10s %11s %8s %8s %7s %7s %6s %9s %9s\n",
              "peers", "mode", "converged", "stable", "churn", "topology MB", "topo msgs",
              "control MB", "ctl msgs", "ns-3 events", "wall s", "cpu s", "check", "RSS MB",
              "conns", "degree", "full topo");
  for (const Measurement& r : results) {
    char when[32];
    if (r.converged) {
      std::snprintf(when, sizeof when, "%.2f s", r.virtual_seconds);
    } else {
      std::snprintf(when, sizeof when, "no@%.1fs", r.virtual_seconds);
    }
    char churn[32] = "-";
    if (r.converged) {
      std::snprintf(churn, sizeof churn, "%llu/%llu",
                    static_cast<unsigned long long>(r.settle_terminations),
                    static_cast<unsigned long long>(r.settle_topology_messages));
    }
    char degree[32];
    std::snprintf(degree, sizeof degree, "%zu-%zu", r.min_degree, r.max_degree);
    std::printf(
        "%5zu %-5s %10s %6s %8s %12s %10llu %12s %10llu %11llu %8.1f %8.1f %7.1f %7.0f %6zu %9s "
        "%7zu B\n",
        r.peers, r.mode.c_str(), when, r.converged ? (r.stable ? "yes" : "NO") : "-", churn,
        mb(r.topology_bytes).c_str(), static_cast<unsigned long long>(r.topology_messages),
        mb(r.control_bytes).c_str(), static_cast<unsigned long long>(r.control_messages),
        static_cast<unsigned long long>(r.events), r.wall_seconds, r.cpu_seconds, r.check_seconds,
        r.peak_rss_mb, r.connections, degree, r.full_topology_bytes);
  }
}

nlohmann::json to_json(const ScaleOptions& o, const std::vector<Measurement>& results) {
  nlohmann::json j;
  j["seed"] = o.seed;
  j["site_size"] = o.site_size;
  j["start_spread_seconds"] = o.start_spread_seconds;
  j["fidelity"] = o.fidelity;
  j["results"] = nlohmann::json::array();
  for (const Measurement& r : results) {
    j["results"].push_back({{"peers", r.peers},
                            {"mode", r.mode},
                            {"converged", r.converged},
                            {"wall_limited", r.wall_limited},
                            {"stable", r.stable},
                            {"settle_topology_messages", r.settle_topology_messages},
                            {"settle_terminations", r.settle_terminations},
                            {"virtual_seconds", r.virtual_seconds},
                            {"topology_bytes", r.topology_bytes},
                            {"topology_messages", r.topology_messages},
                            {"control_bytes", r.control_bytes},
                            {"control_messages", r.control_messages},
                            {"ns3_events", r.events},
                            {"wall_seconds", r.wall_seconds},
                            {"cpu_seconds", r.cpu_seconds},
                            {"check_seconds", r.check_seconds},
                            {"peak_rss_mb", r.peak_rss_mb},
                            {"connections", r.connections},
                            {"min_degree", r.min_degree},
                            {"max_degree", r.max_degree},
                            {"full_topology_bytes", r.full_topology_bytes}});
  }
  return j;
}

}  // namespace
}  // namespace loom::mesh::testing

int main(int argc, char** argv) {
  using namespace loom::mesh::testing;
  ScaleOptions o;
  CLI::App app{"Forms Weave meshes of N peers on ns-3 and prints what it cost."};
  app.add_option("--peers", o.peers, "peer counts, e.g. 30,100,300")
      ->delimiter(',')
      ->check(CLI::Range(size_t{2}, size_t{4000}));
  app.add_option("--mode", o.modes,
                 "full (every peer targets every other), limit (a few targets, discovery, "
                 "conn-limit), chain (each the next, no discovery), or several: full,limit")
      ->delimiter(',')
      ->check(CLI::IsMember({"full", "limit", "chain"}));
  app.add_option("--seed", o.seed, "simulation seed");
  app.add_option("--limit-seconds", o.limit_seconds, "virtual seconds to wait for convergence")
      ->check(CLI::PositiveNumber);
  app.add_option("--wall-limit-seconds", o.wall_limit_seconds,
                 "stop a configuration after this much wall time (0: never)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--site-size", o.site_size,
                 "peers per hub of the two-level tree underlay (0: one star)");
  app.add_option("--targets", o.targets,
                 "targets per peer in limit mode, the rest found by discovery (0: every other "
                 "peer, as kube-peers gives Weave on Kubernetes)");
  app.add_option("--conn-limit", o.conn_limit, "conn-limit in limit mode")
      ->check(CLI::PositiveNumber);
  app.add_option("--progress-seconds", o.progress_seconds,
                 "a progress line on stderr every so many wall seconds (0: none)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--start-spread-seconds", o.start_spread_seconds,
                 "each peer is given its targets at a uniform random time in [0, this)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--settle-seconds", o.settle_seconds,
                 "after converging, run this much longer and check it still holds")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--fidelity", o.fidelity,
                 "how streams are simulated: tcp (ns-3's TCP, every segment) or message (one "
                 "transfer per write)")
      ->check(CLI::IsMember({"tcp", "message"}));
  app.add_option("--json", o.json, "also write the results as JSON to this file");
  CLI11_PARSE(app, argc, argv);

  std::vector<Measurement> results;
  for (size_t n : o.peers) {
    for (const std::string& mode : o.modes) {
      std::fprintf(stderr, "mesh_scale: %zu peers, %s ...\n", n, mode.c_str());
      results.push_back(run(o, n, mode));
      print_table({results.back()});
      std::fflush(stdout);
    }
  }
  if (results.size() > 1) {
    std::printf("\n");
    print_table(results);
  }
  if (!o.json.empty()) {
    std::ofstream out(o.json);
    out << to_json(o, results).dump(2) << "\n";
    if (!out) {
      std::fprintf(stderr, "mesh_scale: cannot write %s\n", o.json.c_str());
      return 2;
    }
  }
  bool all = true;
  for (const Measurement& r : results) all = all && r.converged;
  return all ? 0 : 1;
}
