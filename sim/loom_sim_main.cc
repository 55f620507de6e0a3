// loom-sim: runs a scenario file in ns-3 (docs/scenarios.md).
//
//   loom-sim SCENARIO [--seed N] [--out DIR] [--pcap n0,n3] [--quiet] [--validate]
//
// Exit status: 0 when every expectation holds, 1 when one fails (each
// failure printed), 2 for bad input (the file, the JSON path and the reason).
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <unistd.h>

#include "sim/scenario/runner.h"
#include "sim/scenario/scenario.h"

namespace {

using namespace loom::sim::scenario;

std::vector<size_t> parse_pcap(const std::vector<std::string>& names, size_t nodes) {
  std::vector<size_t> out;
  static const std::regex pattern(R"(^n?([0-9]{1,9})$)");
  for (const std::string& n : names) {
    std::smatch m;
    if (!std::regex_match(n, m, pattern))
      throw BadInput("--pcap: '" + n + "' is not a node (n0, n1, ...)");
    const size_t i = std::stoul(m[1]);
    if (i >= nodes)
      throw BadInput("--pcap: no node " + n + " (there are " + std::to_string(nodes) + ")");
    out.push_back(i);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"loom-sim: run a Loom scenario in the ns-3 simulator (docs/scenarios.md)"};
  app.set_version_flag("--version", "loom-sim 0.2.0 (ns-3 3.37)");
  std::string file, out_dir;
  std::optional<uint64_t> seed;
  std::vector<std::string> pcap;
  bool quiet = false, validate = false, no_out = false;
  app.add_option("SCENARIO", file, "scenario file (JSON), e.g. scenarios/quickstart.json")
      ->required();
  app.add_option("--seed", seed, "override the scenario's seed");
  app.add_option("--out", out_dir, "results directory (default results/SCENARIO-SEED/)");
  app.add_flag("--no-out", no_out, "write no results, only print the summary");
  app.add_option("--pcap", pcap, "write underlay pcaps of these nodes (n0,n3) into OUT/pcap/")
      ->delimiter(',');
  app.add_flag("-q,--quiet", quiet, "no progress line, no engine warnings; the summary only");
  app.add_flag("--validate", validate, "check the scenario file and exit (0 valid, 2 not)");
  double max_wall = 0;
  app.add_option("--max-wall-seconds", max_wall,
                 "stop after this much wall time; the results cover the run so far and the exit "
                 "status is 1")
      ->check(CLI::NonNegativeNumber);
  double progress_seconds = 0;
  app.add_option("--progress-seconds", progress_seconds,
                 "also print a whole progress line (with resident memory) to stderr every so "
                 "many wall seconds, terminal or not: for logs of long runs")
      ->check(CLI::NonNegativeNumber);
  // The default keeps a run that outgrows the machine out of the kernel's
  // OOM killer, which would leave no results at all.
  const double machine_gb = static_cast<double>(sysconf(_SC_PHYS_PAGES)) *
                            static_cast<double>(sysconf(_SC_PAGESIZE)) / 1e9;
  double max_memory_gb = 0.8 * machine_gb;
  app.add_option("--max-memory-gb", max_memory_gb,
                 "stop when the simulator's resident memory passes this many GB, as "
                 "--max-wall-seconds stops (default: 80 % of this machine's memory; 0: no "
                 "limit)")
      ->check(CLI::NonNegativeNumber);
  app.footer(
      "Exit status: 0 when every expectation holds, 1 when one fails, 2 for bad input.\n"
      "Results: summary.json (deterministic), timeseries.csv, events.jsonl, run.json.\n"
      "Engine logs: LOOM_LOG=mesh=info,ipam=debug,*=warn (see docs/seam.md).");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    const Scenario scenario = load_scenario(file, seed);
    if (validate) {
      std::cout << file << ": valid (" << scenario.node_count() << " nodes, "
                << scenario.events.size() << " events, " << scenario.expectations.size()
                << " expectations)\n";
      return 0;
    }
    RunOptions options;
    if (!no_out) {
      out_dir = out_dir.empty() ? "results/" + scenario.name + "-" + std::to_string(scenario.seed)
                                : out_dir;
      options.out_dir = out_dir;
    } else if (!pcap.empty()) {
      throw BadInput("--pcap needs a results directory (drop --no-out)");
    }
    options.pcap_nodes = parse_pcap(pcap, scenario.node_count());
    options.quiet = quiet;
    options.max_wall_seconds = max_wall;
    options.max_rss_bytes = static_cast<uint64_t>(max_memory_gb * 1e9);
    options.progress = !quiet && isatty(STDERR_FILENO) != 0;
    options.progress_seconds = progress_seconds;
    const RunResult result = run_scenario(scenario, options);
    std::cout << render_summary(result);
    if (!options.out_dir.empty()) std::cout << "results in " << options.out_dir << "/\n";
    return result.exit_code();
  } catch (const BadInput& e) {
    std::cerr << "loom-sim: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "loom-sim: " << file << ": " << e.what() << "\n";
    return 2;
  }
}
