// The conformance table (tests/policy/data/cases/): each case is a folder
// with its policies (policies.yaml or policies.json), the full expected
// matrix (expect.txt), and optionally its own cluster.json, or an
// after.json (the cluster relabelled) with expect-after.txt.
//
// expect.txt holds blocks, one or more per case:
//
//   ports: 80/TCP 81/TCP        (or "ports: *": every other port)
//        x/a x/b ...            destinations
//   x/a   -   X  ...            one row per source: '.' allowed, 'X'
//   x/b   .   -  ...            denied, '-' the diagonal (not probed)
//
// Together the blocks must give every probe of the matrix exactly once.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "model/policy/cluster.h"
#include "model/policy/network_policy.h"
#include "model/policy/reachability.h"

namespace loom::policy::testing {

std::filesystem::path data_dir();
// Every folder under data/cases, sorted; only those with an after.json
// when `relabelled`.
std::vector<std::string> case_names(bool relabelled = false);
// A case's name as a test name ("peers-and" -> "peers_and").
std::string case_test_name(const ::testing::TestParamInfo<std::string>& info);

struct Case {
  std::string name;
  std::filesystem::path dir;
  std::filesystem::path cluster_file;
  std::vector<std::filesystem::path> policy_files;
  Cluster cluster;
  std::vector<NetworkPolicy> policies;
  std::optional<std::filesystem::path> after_file;
  std::optional<Cluster> after;
};

// Throws std::runtime_error naming the file on any problem.
Case load_case(const std::string& name);
Cluster load_cluster(const std::filesystem::path& file);

using ProbeKey = std::tuple<std::string, std::string, uint16_t, Protocol>;  // from, to, port
using Expected = std::map<ProbeKey, bool>;

// Throws std::runtime_error naming the file and line on a malformed table.
Expected read_expectation(const std::filesystem::path& file, const Cluster& cluster);

// "x/a -> y/b 80/TCP: expected denied, got allowed" for each difference,
// plus probes missing from either side.
std::vector<std::string> mismatches(const Expected& expected, const std::vector<Probe>& actual);

// The actual matrix in expect.txt's layout, one block per port: what to
// paste when a case is being written.
std::string render(const std::vector<Probe>& probes, const Cluster& cluster);

}  // namespace loom::policy::testing
