// `loom policy matrix` as users run it (the built binary): every case of
// the conformance table gives the expected matrix as JSON; --probe
// explains one verdict; bad input exits 2 naming the file, the field and
// the reason.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/policy/conformance.h"

namespace loom::policy::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Outcome {
  int status = -1;
  std::string out;
  std::string err;
};

std::string quote(const std::string& s) {
  std::string out(1, '\'');
  for (char c : s) {
    if (c == '\'') {
      out.append("'\\''");
    } else {
      out.push_back(c);
    }
  }
  out.push_back('\'');
  return out;
}

// This process's scratch folder (ctest runs tests in parallel), removed
// when the tests end; one subfolder per test.
fs::path scratch_root() {
  return fs::temp_directory_path() / ("loom-policy-cli-" + std::to_string(getpid()));
}

class ScratchCleanup : public ::testing::Environment {
 public:
  void TearDown() override { fs::remove_all(scratch_root()); }
};
[[maybe_unused]] auto* const kCleanup = ::testing::AddGlobalTestEnvironment(new ScratchCleanup);

fs::path scratch() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  fs::path dir = scratch_root() / info->name();
  fs::create_directories(dir);
  return dir;
}

Outcome loom(const std::vector<std::string>& args) {
  const fs::path err_file = scratch() / "stderr";
  std::string cmd = quote(LOOM_BINARY);
  for (const std::string& a : args) cmd.append(" ").append(quote(a));
  cmd.append(" 2>").append(quote(err_file.string()));
  Outcome r;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, pipe)) > 0;) r.out.append(buf, n);
  const int status = pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(err_file);
  std::stringstream s;
  s << in.rdbuf();
  r.err = s.str();
  return r;
}

std::vector<Probe> probes_of(const std::string& text) {
  std::vector<Probe> out;
  const json doc = json::parse(text);
  for (const json& p : doc.at("probes")) {
    out.push_back({p.at("from"), p.at("to"), p.at("port"),
                   *parse_protocol(p.at("protocol").get<std::string>()), p.at("allowed")});
  }
  return out;
}

std::vector<std::string> matrix_args(const fs::path& cluster, const std::vector<fs::path>& files) {
  std::vector<std::string> args{"policy", "matrix", "--cluster", cluster.string(), "--policies"};
  for (const fs::path& f : files) args.push_back(f.string());
  return args;
}

void expect_cli_matrix(const fs::path& cluster_file, const Cluster& cluster,
                       const std::vector<fs::path>& policies, const fs::path& table) {
  const Outcome r = loom(matrix_args(cluster_file, policies));
  ASSERT_EQ(r.status, 0) << r.err;
  const auto problems = mismatches(read_expectation(table, cluster), probes_of(r.out));
  std::string shown;
  for (size_t i = 0; i < problems.size() && i < 20; ++i) shown += "  " + problems[i] + "\n";
  EXPECT_TRUE(problems.empty()) << table.string() << ":\n" << shown;
}

class CliConformance : public ::testing::TestWithParam<std::string> {};

TEST_P(CliConformance, MatrixJsonMatchesTheTable) {
  const Case c = load_case(GetParam());
  expect_cli_matrix(c.cluster_file, c.cluster, c.policy_files, c.dir / "expect.txt");
  if (c.after)
    expect_cli_matrix(*c.after_file, *c.after, c.policy_files, c.dir / "expect-after.txt");
}

INSTANTIATE_TEST_SUITE_P(Cases, CliConformance, ::testing::ValuesIn(case_names()), case_test_name);

const fs::path kCluster = data_dir() / "cluster.json";
const fs::path kUnion = data_dir() / "cases" / "multi-policy-union" / "policies.json";

TEST(PolicyCli, PrintsOneProbePerLineInTheDocumentedShape) {
  const Outcome r = loom(matrix_args(kCluster, {kUnion}));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find('\n', r.out.find('\n') + 1)),
            "{\"probes\": [\n  {\"from\":\"x/a\",\"to\":\"x/b\",\"port\":80,\"protocol\":\"TCP\","
            "\"allowed\":true},");
  EXPECT_EQ(probes_of(r.out).size(), 9u * 8u * 7u);
}

TEST(PolicyCli, ReadsEveryManifestOfADirectory) {
  const fs::path dir = scratch() / "policies";
  fs::create_directories(dir);
  fs::copy_file(kUnion, dir / "b.json", fs::copy_options::overwrite_existing);
  fs::copy_file(data_dir() / "cases" / "deny-all-ingress" / "policies.yaml", dir / "a.yaml",
                fs::copy_options::overwrite_existing);
  std::ofstream(dir / "notes.txt") << "not a manifest";
  const Outcome r = loom(matrix_args(kCluster, {dir}));
  ASSERT_EQ(r.status, 0) << r.err;
  // x is closed to all ingress but what allow-y-on-80 and allow-b open into x/a.
  for (const Probe& p : probes_of(r.out)) {
    if (p.to == "x/b" || p.to == "x/c") {
      EXPECT_FALSE(p.allowed) << p.from << " -> " << p.to;
    }
    if (p.from == "y/a" && p.to == "x/a") {
      EXPECT_EQ(p.allowed, p.port == 80 && p.protocol == Protocol::kTcp);
    }
  }
}

TEST(PolicyCli, ProbeExplainsOneVerdict) {
  std::vector<std::string> args = matrix_args(kCluster, {kUnion});
  for (const char* a : {"--probe", "y/a", "x/a", "80/TCP"}) args.push_back(a);
  Outcome r = loom(args);
  ASSERT_EQ(r.status, 0) << r.err;
  json v = json::parse(r.out);
  EXPECT_EQ(v["from"], "y/a");
  EXPECT_EQ(v["allowed"], true);
  EXPECT_EQ(v["ingress"]["policies"], json({"x/allow-b", "x/allow-y-on-80"}));
  EXPECT_EQ(v["ingress"]["allowed_by"],
            json({{"policy", "x/allow-y-on-80"}, {"rule", "ingress[0]"}}));
  EXPECT_EQ(v["egress"]["reason"], "no policy isolates y/a for egress");

  args.back() = "serve-81-udp/udp";  // a named port, resolved on the destination
  r = loom(args);
  ASSERT_EQ(r.status, 0) << r.err;
  v = json::parse(r.out);
  EXPECT_EQ(v["port"], 81);
  EXPECT_EQ(v["protocol"], "UDP");
  EXPECT_EQ(v["allowed"], false);
  EXPECT_EQ(v["ingress"]["reason"],
            "x/a's ingress is isolated by x/allow-b, x/allow-y-on-80 and no rule of theirs "
            "allows it");

  args[args.size() - 3] = "203.0.113.7";  // from outside the cluster
  args.back() = "80";
  r = loom(args);
  ASSERT_EQ(r.status, 0) << r.err;
  v = json::parse(r.out);
  EXPECT_EQ(v["from"], "203.0.113.7");
  EXPECT_EQ(v["allowed"], false);
}

struct BadRun {
  std::vector<std::string> args;
  std::string error;
};

void expect_bad_input(const BadRun& bad) {
  const Outcome r = loom(bad.args);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.err.find(bad.error), std::string::npos)
      << "stderr: " << r.err << "\nwant: " << bad.error;
  EXPECT_EQ(r.out, "");
}

TEST(PolicyCli, BadInputExits2NamingFileFieldAndReason) {
  const fs::path dir = scratch();
  auto write = [&](const char* name, const std::string& text) {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  };
  const std::string bad_cluster = write(
      "bad-cluster.json",
      R"({"namespaces": {"x": {}}, "pods": [{"namespace": "x", "name": "a", "ip": "10.0.0.300"}]})");
  const std::string bad_policy = write("bad.yaml", R"(apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  ingress:
  - from:
    - ipBlock: {cidr: 10.0.0.0/8}
      podSelector: {}
)");
  const std::string other_ns = write("other-ns.yaml",
                                     "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                                     "metadata: {name: p, namespace: q}\n");
  const std::string cluster = kCluster.string();
  const std::string pols = kUnion.string();
  std::filesystem::create_directories(dir / "empty");
  for (const BadRun& bad : std::vector<BadRun>{
           {{"policy", "matrix", "--cluster", bad_cluster, "--policies", pols},
            "bad-cluster.json: pods[0].ip: '10.0.0.300' is not an IPv4 address"},
           {{"policy", "matrix", "--cluster", cluster, "--policies", bad_policy},
            "bad.yaml: NetworkPolicy x/p: spec.ingress[0].from[0]: may not specify both "
            "ipBlock and another peer"},
           {{"policy", "matrix", "--cluster", cluster, "--policies", other_ns},
            "other-ns.yaml: NetworkPolicy q/p: metadata.namespace: 'q' is not one of the "
            "cluster's namespaces"},
           {{"policy", "matrix", "--cluster", cluster, "--policies", pols, pols},
            "policies.json: NetworkPolicy x/allow-y-on-80: metadata.name: also defined in "},
           {{"policy", "matrix", "--cluster", cluster, "--policies", (dir / "nope.yaml").string()},
            "nope.yaml: cannot read: No such file or directory"},
           {{"policy", "matrix", "--cluster", cluster, "--policies", (dir / "empty").string()},
            "empty: no .yaml, .yml or .json files in this directory"},
           {{"policy", "matrix", "--cluster", cluster, "--policies", pols, "--probe", "x/q", "x/a",
             "80/TCP"},
            "--probe: FROM 'x/q' is neither a pod of the cluster (namespace/name) nor an IPv4 "
            "address"},
           {{"policy", "matrix", "--cluster", cluster, "--policies", pols, "--probe", "x/b", "x/a",
             "80/ICMP"},
            "--probe: PORT/PROTO '80/ICMP': the protocol must be TCP, UDP or SCTP"},
           {{"policy", "matrix", "--cluster", cluster, "--policies", pols, "--probe", "x/b", "x/a",
             "http/TCP"},
            "--probe: PORT/PROTO 'http/TCP': x/a has no TCP port named 'http'"},
           {{"policy", "matrix", "--policies", pols}, "--cluster is required"},
           {{"policy", "matrix", "--cluster", cluster, "--policies", pols, "--bogus"}, "--bogus"},
       }) {
    expect_bad_input(bad);
  }
}

}  // namespace
}  // namespace loom::policy::testing
