// The runner end to end on small scenarios: the same seed gives the same
// summary, results are written, and a protocol regression makes the CI
// scenarios' expectations fail (shown by injecting one on purpose).
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sim/scenario/runner.h"
#include "sim/scenario/scenario.h"

namespace loom::sim::scenario {
namespace {

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string ci(const std::string& name) {
  return std::string(LOOM_SOURCE_DIR) + "/scenarios/ci/" + name;
}

RunOptions quiet() {
  RunOptions o;
  o.quiet = true;
  return o;
}

const ExpectationResult* find(const RunResult& r, const std::string& name) {
  for (const auto& e : r.expectations) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

TEST(ScenarioRun, SameSeedSameSummaryAndResultsWritten) {
  const Scenario s = load_scenario(ci("kill-restart.json"));
  const auto dir =
      std::filesystem::temp_directory_path() / ("loom-scenario-test-" + std::to_string(::getpid()));
  RunOptions o = quiet();
  o.out_dir = (dir / "a").string();
  const RunResult a = run_scenario(s, o);
  o.out_dir = (dir / "b").string();
  const RunResult b = run_scenario(s, o);
  EXPECT_TRUE(a.ok()) << render_summary(a);
  const std::string summary = read((dir / "a" / "summary.json").string());
  EXPECT_FALSE(summary.empty());
  EXPECT_EQ(summary, read((dir / "b" / "summary.json").string()));
  EXPECT_EQ(read((dir / "a" / "timeseries.csv").string()),
            read((dir / "b" / "timeseries.csv").string()));
  EXPECT_EQ(read((dir / "a" / "events.jsonl").string()),
            read((dir / "b" / "events.jsonl").string()));

  // What a user reads in them.
  const auto j = nlohmann::json::parse(summary);
  EXPECT_EQ(j["scenario"], "ci-kill-restart");
  EXPECT_EQ(j["nodes"], 6);
  EXPECT_TRUE(j["mesh"]["converged"].get<bool>());
  EXPECT_TRUE(j["mesh"]["converged_at_s"].is_number());
  EXPECT_GT(j["mesh"]["gossip_bytes"].get<double>(), 0);
  std::istringstream csv(read((dir / "a" / "timeseries.csv").string()));
  std::string header, line;
  std::getline(csv, header);
  EXPECT_EQ(header.rfind("t_s,nodes_running,connections,topology_agreement,converged,", 0), 0u)
      << header;
  size_t rows = 0, at_15 = 0;
  while (std::getline(csv, line)) {
    ++rows;
    if (line.rfind("15,", 0) == 0) at_15 = std::stoul(line.substr(3));
  }
  EXPECT_EQ(rows, 40u);  // one per simulated second
  EXPECT_EQ(at_15, 5u);  // n5 was dead then
  const std::string events = read((dir / "a" / "events.jsonl").string());
  EXPECT_NE(events.find(R"("event":"kill","nodes":["n5"])"), std::string::npos) << events;
  const auto run = nlohmann::json::parse(read((dir / "a" / "run.json").string()));
  EXPECT_GT(run["ns3_events"].get<double>(), 0);
  EXPECT_GT(run["peak_rss_kb"].get<double>(), 0);
  std::filesystem::remove_all(dir);
}

TEST(ScenarioRun, ADifferentSeedIsADifferentRun) {
  const RunResult a = run_scenario(load_scenario(ci("mesh-formation.json")), quiet());
  const RunResult b = run_scenario(load_scenario(ci("mesh-formation.json"), 99), quiet());
  EXPECT_EQ(b.summary["seed"], 99);
  EXPECT_NE(a.summary["mesh"].dump(), b.summary["mesh"].dump());
}

// A regression in topology gossip (here: local changes never broadcast, as
// if the code that sends them were broken) must fail kill-restart's
// expectations: each survivor drops its own connection to the dead peer,
// but the others never hear of it, so the dead peer stays reachable
// through them and in everyone's topology.
TEST(ScenarioRun, ARegressionFailsTheCiScenario) {
  const RunResult good = run_scenario(load_scenario(ci("kill-restart.json")), quiet());
  ASSERT_TRUE(good.ok()) << render_summary(good);

  std::string text = read(ci("kill-restart.json"));
  const std::string anchor = R"("underlay": { "kind": "lan", "hosts": 6 },)";
  ASSERT_NE(text.find(anchor), std::string::npos);
  text.replace(text.find(anchor), anchor.size(),
               anchor + R"( "weave": { "mesh": { "topology_update_delay_s": 100000 } },)");
  const RunResult broken =
      run_scenario(parse_scenario(text, "kill-restart-broken.json", ""), quiet());
  EXPECT_FALSE(broken.ok());
  EXPECT_EQ(broken.exit_code(), 1);
  const ExpectationResult* e = find(broken, "the survivors converge without n5");
  ASSERT_NE(e, nullptr);
  EXPECT_FALSE(e->ok);
  EXPECT_EQ(e->value, 0.0);
  EXPECT_NE(render_summary(broken).find("FAILED the survivors converge without n5"),
            std::string::npos);
}

// A bound broken on purpose: the same run, an impossible expectation.
TEST(ScenarioRun, AnImpossibleBoundFails) {
  std::string text = read(ci("mesh-formation.json"));
  const std::string bound = R"("min": 28, "max": 28)";
  ASSERT_NE(text.find(bound), std::string::npos);
  text.replace(text.find(bound), bound.size(), R"("min": 29)");
  const RunResult r = run_scenario(parse_scenario(text, "mesh-formation-29.json", ""), quiet());
  const ExpectationResult* e = find(r, "a full mesh");
  ASSERT_NE(e, nullptr);
  EXPECT_FALSE(e->ok);
  EXPECT_EQ(e->value, 28.0);
  EXPECT_EQ(r.exit_code(), 1);
}

// --max-wall-seconds: a run cut short says so and fails.
TEST(ScenarioRun, AWallLimitStopsTheRunAndFailsIt) {
  RunOptions o = quiet();
  o.max_wall_seconds = 1e-9;  // past after the first step
  const RunResult r = run_scenario(load_scenario(ci("mesh-formation.json")), o);
  EXPECT_TRUE(r.stopped_early);
  EXPECT_EQ(r.exit_code(), 1);
  EXPECT_TRUE(r.summary["stopped_early"].get<bool>());
  EXPECT_LT(r.summary["sim_seconds"].get<double>(), 15.0);
  EXPECT_NE(render_summary(r).find("STOPPED by --max-wall-seconds"), std::string::npos);
}

// --max-memory-gb: the same, when the process outgrows the limit (here
// one byte: the first look at the memory stops it, within the first step).
TEST(ScenarioRun, AMemoryLimitStopsTheRunWithItsResults) {
  RunOptions o = quiet();
  o.max_rss_bytes = 1;
  const RunResult r = run_scenario(load_scenario(ci("mesh-formation.json")), o);
  EXPECT_TRUE(r.stopped_early);
  EXPECT_EQ(r.stopped_by, "--max-memory-gb");
  EXPECT_EQ(r.exit_code(), 1);
  EXPECT_TRUE(r.summary["stopped_early"].get<bool>());
  EXPECT_LT(r.summary["sim_seconds"].get<double>(), 1.0);
  EXPECT_NE(render_summary(r).find("STOPPED by --max-memory-gb"), std::string::npos);
}

// --progress-seconds: whole lines on stderr for a log, the last one at the
// end of the run; the results are those of a run without them.
TEST(ScenarioRun, ProgressLinesForALogLeaveTheResultsAlone) {
  const Scenario s = load_scenario(ci("mesh-formation.json"));
  const RunResult plain = run_scenario(s, quiet());
  RunOptions o = quiet();
  o.progress_seconds = 1e-9;  // a line after every slice of the run
  testing::internal::CaptureStderr();
  const RunResult logged = run_scenario(s, o);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(logged.summary.dump(), plain.summary.dump());
  const std::string total =
      " / " + std::to_string(static_cast<int>(plain.summary["sim_seconds"].get<double>())) +
      " s simulated";
  size_t lines = 0;
  for (size_t at = err.find(total); at != std::string::npos; at = err.find(total, at + 1)) ++lines;
  EXPECT_GT(lines, 2u) << err;
  EXPECT_EQ(err.find('\r'), std::string::npos) << "not a terminal's line";
  const std::string last =
      "mesh-formation: " +
      std::to_string(static_cast<int>(plain.summary["sim_seconds"].get<double>())) + ".0" + total;
  EXPECT_NE(err.rfind(last), std::string::npos)
      << err.substr(err.size() > 400 ? err.size() - 400 : 0);
  EXPECT_NE(err.find("GB resident\n"), std::string::npos);
}

TEST(ScenarioRun, PodsGetAddressesFromIpamAndPingOverTheOverlay) {
  const RunResult r = run_scenario(load_scenario(ci("sleeve-encrypted.json")), quiet());
  EXPECT_TRUE(r.ok()) << render_summary(r);
  EXPECT_EQ(r.summary["ipam"]["allocated"], 4.0);
  EXPECT_EQ(r.summary["dataplane"]["delivered"], 40.0);
  // 2 ms of links each way at least.
  EXPECT_GE(r.summary["dataplane"]["latency_us"]["p50"].get<double>(), 2000);
}

}  // namespace
}  // namespace loom::sim::scenario
