// `loom policy matrix`: which pod reaches which under a set of
// NetworkPolicies (docs/policy.md).
//
//   loom policy matrix --cluster CLUSTER.json --policies PATH...
//   loom policy matrix --cluster CLUSTER.json --policies PATH... --probe FROM TO PORT/PROTO
//
// Prints JSON on stdout; exit 0, or 2 for bad input with the file, the
// field and the reason on stderr.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace loom::live {

class PolicyCommand {
 public:
  // Adds `policy` and its `matrix` subcommand to `parent`.
  explicit PolicyCommand(CLI::App& parent);

  bool parsed() const { return policy_->parsed(); }
  int run(std::ostream& out, std::ostream& err) const;

 private:
  CLI::App* policy_;
  CLI::App* matrix_;
  std::string cluster_;
  std::vector<std::string> policies_;
  std::vector<std::string> probe_;
};

}  // namespace loom::live
