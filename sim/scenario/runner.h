// Runner: runs a Scenario on a sim::World with the Weave engines on every
// node (mesh, IPAM, data plane, policy), and writes its results
// (docs/scenarios.md, "Results").
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/scenario/scenario.h"

namespace loom::sim::scenario {

struct RunOptions {
  // Where results go; empty: none are written (tests).
  std::string out_dir;
  // A progress line on stderr (the caller decides: a terminal, not --quiet),
  // rewritten in place twice a wall second.
  bool progress = false;
  // Also (or instead) a whole progress line on stderr every so many wall
  // seconds (0: none), for logs of long runs where stderr is a file.
  double progress_seconds = 0;
  // Nodes whose underlay devices get pcaps in out_dir/pcap/.
  std::vector<size_t> pcap_nodes;
  // Engine log lines (null: warnings and errors to stderr, unless quiet).
  LogSink log_sink;
  bool quiet = false;
  // Stop after this much wall time (0: never): the results then describe
  // the run up to where it stopped, and every expectation not reached fails.
  double max_wall_seconds = 0;
  // Stop when the process's resident memory passes this many bytes (0:
  // never), the same way: a run that outgrows the machine ends with its
  // results rather than in the kernel's OOM killer. Both limits are
  // checked every 10-100 wall ms (between 1 ms and 1 s of virtual time).
  uint64_t max_rss_bytes = 0;
};

struct ExpectationResult {
  std::string name;
  std::string metric;
  std::optional<double> at_s;
  bool ok = false;
  std::optional<double> value;  // none: the metric had no value (e.g. never converged)
  std::optional<double> min;
  std::optional<double> max;
};

struct RunResult {
  nlohmann::json summary;  // summary.json: deterministic
  nlohmann::json run;      // run.json: wall time, RSS, events per second
  std::vector<ExpectationResult> expectations;
  bool stopped_early = false;  // a RunOptions limit cut it short
  std::string stopped_by;      // which: "--max-wall-seconds" or "--max-memory-gb"
  bool ok() const;
  // 0 when every expectation holds, 1 otherwise.
  int exit_code() const { return ok() ? 0 : 1; }
};

// Runs the scenario to its end. Throws BadInput when the scenario asks for
// something the world refuses (e.g. a bad link rate).
RunResult run_scenario(const Scenario& scenario, const RunOptions& options = {});

// The human-readable summary printed after a run.
std::string render_summary(const RunResult& result);

}  // namespace loom::sim::scenario
