// loom-sim: runs a scenario file in ns-3.
//
// Until the scenario runner exists (issue 7), the one scenario kind is
// "pingpong": the proof engine of tests/proof between two Ns3Hosts joined by
// a point-to-point link. It prints what happened on the virtual clock and,
// with --out, writes a deterministic summary.json.
//
// Exit status: 0 when the run behaved as expected, 1 when it did not, 2 for
// bad input (the file, the JSON path and the reason are printed).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "sim/world.h"
#include "tests/proof/pingpong.h"

namespace {

using nlohmann::json;
using namespace std::chrono_literals;

struct BadInput {
  std::string message;
};

struct Scenario {
  std::string name;
  uint64_t seed = 1;
  loom::sim::LinkSpec link;
  loom::proof::PingPongConfig pingpong;
  loom::Time limit = 60s;
};

// Reads an optional field of the expected JSON type, naming the path on error.
template <typename T>
void field(const json& object, const std::string& path, const char* key, T* out) {
  if (!object.contains(key)) return;
  const json& v = object.at(key);
  std::string where = path + "/" + key;
  try {
    if constexpr (std::is_same_v<T, std::string>) {
      if (!v.is_string()) throw BadInput{where + ": expected a string"};
    } else if constexpr (std::is_floating_point_v<T>) {
      if (!v.is_number()) throw BadInput{where + ": expected a number"};
    } else {
      if (!v.is_number_integer() || v.get<int64_t>() < 0) {
        throw BadInput{where + ": expected a non-negative integer"};
      }
    }
    *out = v.get<T>();
  } catch (const json::exception& e) {
    throw BadInput{where + ": " + e.what()};
  }
}

void expect_object(const json& v, const std::string& path) {
  if (!v.is_object()) throw BadInput{(path.empty() ? "/" : path) + ": expected an object"};
}

void reject_unknown(const json& object, const std::string& path,
                    std::initializer_list<const char*> known) {
  for (const auto& [key, value] : object.items()) {
    bool ok = false;
    for (const char* k : known) ok |= key == k;
    if (!ok) throw BadInput{path + "/" + key + ": unknown field"};
  }
}

Scenario load(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw BadInput{"cannot open: " + std::string(std::strerror(errno))};
  json doc;
  try {
    doc = json::parse(in);
  } catch (const json::parse_error& e) {
    throw BadInput{std::string("not valid JSON: ") + e.what()};
  }
  expect_object(doc, "");
  reject_unknown(doc, "", {"name", "description", "kind", "seed", "link", "pingpong", "limit_s"});
  Scenario s;
  s.name = std::filesystem::path(file).stem().string();
  field(doc, "", "name", &s.name);
  std::string kind = "pingpong";
  field(doc, "", "kind", &kind);
  if (kind != "pingpong") {
    throw BadInput{"/kind: '" + kind +
                   "' is not a scenario kind this version runs (known: pingpong)"};
  }
  field(doc, "", "seed", &s.seed);
  double limit_s = 60;
  field(doc, "", "limit_s", &limit_s);
  if (limit_s <= 0) throw BadInput{"/limit_s: must be positive"};
  s.limit = std::chrono::duration_cast<loom::Time>(std::chrono::duration<double>(limit_s));

  if (doc.contains("link")) {
    const json& link = doc["link"];
    expect_object(link, "/link");
    reject_unknown(link, "/link", {"rate", "delay_ms", "loss"});
    field(link, "/link", "rate", &s.link.rate);
    double delay_ms = 1;
    field(link, "/link", "delay_ms", &delay_ms);
    if (delay_ms < 0) throw BadInput{"/link/delay_ms: must not be negative"};
    s.link.delay =
        std::chrono::duration_cast<loom::Time>(std::chrono::duration<double, std::milli>(delay_ms));
    field(link, "/link", "loss", &s.link.loss);
    if (s.link.loss < 0 || s.link.loss >= 1) throw BadInput{"/link/loss: must be in [0, 1)"};
  }
  if (doc.contains("pingpong")) {
    const json& pp = doc["pingpong"];
    expect_object(pp, "/pingpong");
    reject_unknown(pp, "/pingpong",
                   {"pings", "retry_after_ms", "max_attempts", "drop_first", "echo_bytes"});
    auto& c = s.pingpong;
    field(pp, "/pingpong", "pings", &c.pings);
    if (c.pings < 1) throw BadInput{"/pingpong/pings: must be at least 1"};
    int64_t retry_ms = 200;
    field(pp, "/pingpong", "retry_after_ms", &retry_ms);
    if (retry_ms < 1) throw BadInput{"/pingpong/retry_after_ms: must be at least 1"};
    c.retry_after = std::chrono::milliseconds(retry_ms);
    field(pp, "/pingpong", "max_attempts", &c.max_attempts);
    field(pp, "/pingpong", "drop_first", &c.drop_first);
    field(pp, "/pingpong", "echo_bytes", &c.echo_bytes);
    if (c.echo_bytes < 1) throw BadInput{"/pingpong/echo_bytes: must be at least 1"};
  }
  return s;
}

std::string seconds(loom::Time t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f", std::chrono::duration<double>(t).count());
  return buf;
}

int run(const Scenario& s, const std::string& out_dir) {
  loom::sim::WorldOptions options;
  options.seed = s.seed;
  loom::sim::World world(options);
  size_t a = world.add_host("pinger");
  size_t b = world.add_host("responder");
  world.link(a, b, s.link);

  loom::proof::Responder responder(world.host(b), s.pingpong);
  loom::proof::Pinger pinger(world.host(a), world.host(b).address(), s.pingpong);
  for (auto started : {responder.start(), pinger.start()}) {
    if (!started) {
      std::cerr << "loom-sim: cannot start: " << started.error().message << "\n";
      return 1;
    }
  }
  std::cout << "scenario " << s.name << " (seed " << s.seed << "): pingpong between "
            << world.host(a).name() << " " << world.host(a).address().to_string() << " and "
            << world.host(b).name() << " " << world.host(b).address().to_string() << " over "
            << s.link.rate << ", " << seconds(s.link.delay) << " s delay, loss " << s.link.loss
            << "\n";
  world.run_until([&] { return pinger.done() && responder.report().stream_closed_by_peer; },
                  s.limit);

  const auto& r = pinger.report();
  const auto& rr = responder.report();
  for (size_t i = 0; i < r.events.size(); ++i) {
    std::cout << "  [" << seconds(r.event_times[i]) << " s] " << r.events[i] << "\n";
  }
  bool ok = pinger.done() && !r.failed && r.echo_ok && rr.stream_closed_by_peer;
  std::cout << "pongs " << r.pongs << "/" << s.pingpong.pings << ", retries " << r.retries
            << ", responder ignored " << rr.pings_ignored << " and echoed " << rr.bytes_echoed
            << " bytes; finished at " << seconds(r.finished_at) << " s virtual time\n";
  std::cout << (ok ? "result: ok"
                   : "result: FAILED" +
                         (r.failure.empty() ? std::string(" (did not finish)") : ": " + r.failure))
            << "\n";

  json summary = {
      {"scenario", s.name},
      {"seed", s.seed},
      {"nodes", 2},
      {"sim_seconds", std::chrono::duration<double>(world.now()).count()},
      {"ok", ok},
      {"pingpong",
       {{"pongs", r.pongs},
        {"retries", r.retries},
        {"echo_ok", r.echo_ok},
        {"echo_bytes", r.echo_received},
        {"first_pong_at_s", std::chrono::duration<double>(r.first_pong_at).count()},
        {"finished_at_s", std::chrono::duration<double>(r.finished_at).count()},
        {"events", r.events}}},
  };
  if (!out_dir.empty()) {
    std::filesystem::create_directories(out_dir);
    std::ofstream(std::filesystem::path(out_dir) / "summary.json") << summary.dump(2) << "\n";
    std::cout << "wrote " << (std::filesystem::path(out_dir) / "summary.json").string() << "\n";
  }
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"loom-sim: run a Loom scenario in the ns-3 simulator"};
  app.set_version_flag("--version", "loom-sim 0.1.0 (ns-3 3.37)");
  std::string file, out_dir;
  std::optional<uint64_t> seed;
  app.add_option("SCENARIO", file, "scenario file (JSON), e.g. scenarios/quickstart.json")
      ->required();
  app.add_option("--seed", seed, "override the scenario's seed");
  app.add_option("--out", out_dir, "write summary.json into this directory");
  app.footer(
      "Exit status: 0 when the run behaved as expected, 1 when it did not, 2 for bad input.\n"
      "Engine logs: LOOM_LOG=pingpong=info,*=warn (see docs/seam.md).");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  Scenario scenario;
  try {
    scenario = load(file);
  } catch (const BadInput& e) {
    std::cerr << "loom-sim: " << file << ": " << e.message << "\n";
    return 2;
  }
  if (seed) scenario.seed = *seed;
  return run(scenario, out_dir);
}
