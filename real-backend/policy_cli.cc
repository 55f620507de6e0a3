#include "real-backend/policy_cli.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <sstream>

#include "model/policy/cluster.h"
#include "model/policy/policy_engine.h"
#include "model/policy/policy_parser.h"
#include "model/policy/reachability.h"

namespace loom::live {

namespace {

namespace fs = std::filesystem;
using namespace loom::policy;

struct BadInput {
  std::string message;
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw BadInput{path.string() + ": cannot read: " + std::strerror(errno)};
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// A file as given, or a directory's .yaml, .yml and .json files (not
// recursive, sorted), as `kubectl apply -f DIR` reads them.
std::vector<fs::path> manifest_files(const std::string& arg) {
  std::error_code ec;
  if (!fs::is_directory(arg, ec)) return {fs::path(arg)};
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(arg, ec)) {
    const std::string ext = entry.path().extension().string();
    if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml" || ext == ".json"))
      out.push_back(entry.path());
  }
  if (ec) throw BadInput{arg + ": cannot read: " + ec.message()};
  if (out.empty()) throw BadInput{arg + ": no .yaml, .yml or .json files in this directory"};
  std::sort(out.begin(), out.end());
  return out;
}

struct Loaded {
  Cluster cluster;
  PolicyEngine engine;
};

void load(const std::string& cluster_file, const std::vector<std::string>& policy_args,
          Loaded& out) {
  auto cluster = parse_cluster(read_file(cluster_file));
  if (!cluster) throw BadInput{cluster_file + ": " + cluster.error().message};
  out.cluster = std::move(*cluster);
  if (auto r = out.engine.load(out.cluster); !r)
    throw BadInput{cluster_file + ": " + r.error().message};
  std::map<std::string, std::string> defined_in;  // policy key -> file
  for (const std::string& arg : policy_args) {
    for (const fs::path& file : manifest_files(arg)) {
      auto policies = parse_policies(read_file(file));
      if (!policies) throw BadInput{file.string() + ": " + policies.error().message};
      for (NetworkPolicy& p : *policies) {
        const std::string where = file.string() + ": NetworkPolicy " + p.key();
        if (!out.cluster.namespaces.contains(p.namespace_name)) {
          throw BadInput{where + ": metadata.namespace: '" + p.namespace_name +
                         "' is not one of the cluster's namespaces"};
        }
        if (auto [it, fresh] = defined_in.emplace(p.key(), file.string()); !fresh)
          throw BadInput{where + ": metadata.name: also defined in " + it->second};
        out.engine.set_policy(std::move(p));
      }
    }
  }
}

struct ProbeEnd {
  std::string name;  // "namespace/name", or the address
  Ipv4 ip;
  const Pod* pod = nullptr;
};

ProbeEnd probe_end(const Cluster& cluster, const std::string& text, const char* role) {
  if (const Pod* pod = cluster.find_pod(text)) return {pod->key(), pod->ip, pod};
  if (auto ip = Ipv4::parse(text)) return {text, *ip, nullptr};
  throw BadInput{std::string("--probe: ") + role + " '" + text +
                 "' is neither a pod of the cluster (namespace/name) nor an IPv4 address"};
}

// "80/TCP", "80" (TCP), "serve-80-tcp/TCP" (resolved on the destination pod).
std::pair<uint16_t, Protocol> probe_port(const std::string& text, const ProbeEnd& to) {
  const std::string where = "--probe: PORT/PROTO '" + text + "'";
  const size_t slash = text.find('/');
  const std::string port_text = text.substr(0, slash);
  std::string proto_text = slash == std::string::npos ? "TCP" : text.substr(slash + 1);
  std::transform(proto_text.begin(), proto_text.end(), proto_text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  auto protocol = parse_protocol(proto_text);
  if (!protocol) throw BadInput{where + ": the protocol must be TCP, UDP or SCTP"};
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec == std::errc() && end == port_text.data() + port_text.size()) {
    if (port < 1 || port > 65535) throw BadInput{where + ": the port must be in 1-65535"};
    return {static_cast<uint16_t>(port), *protocol};
  }
  std::optional<uint16_t> named;
  if (to.pod != nullptr) named = to.pod->named_port(port_text, *protocol);
  if (!named) {
    throw BadInput{where + ": " + to.name + " has no " + proto_text + " port named '" + port_text +
                   "'"};
  }
  return {*named, *protocol};
}

nlohmann::ordered_json probe(const Loaded& loaded, const std::vector<std::string>& args) {
  const ProbeEnd from = probe_end(loaded.cluster, args[0], "FROM");
  const ProbeEnd to = probe_end(loaded.cluster, args[1], "TO");
  const auto [port, protocol] = probe_port(args[2], to);
  const Flow flow{from.ip, to.ip, static_cast<uint8_t>(protocol), kProbeSourcePort, port};
  nlohmann::ordered_json out;
  out["from"] = from.name;
  out["to"] = to.name;
  out["port"] = port;
  out["protocol"] = protocol_name(protocol);
  const nlohmann::ordered_json verdict = to_json(loaded.engine.explain(flow));
  for (const auto& [key, value] : verdict.items()) out[key] = value;
  return out;
}

// One probe per line: readable, and diff-friendly.
void print_matrix(std::ostream& out, const nlohmann::ordered_json& matrix) {
  const auto& probes = matrix.at("probes");
  out << "{\"probes\": [";
  for (size_t i = 0; i < probes.size(); ++i) out << (i == 0 ? "\n  " : ",\n  ") << probes[i].dump();
  out << (probes.empty() ? "]}\n" : "\n]}\n");
}

}  // namespace

PolicyCommand::PolicyCommand(CLI::App& parent) {
  policy_ = parent.add_subcommand("policy", "Kubernetes NetworkPolicy tools (docs/policy.md)");
  policy_->allow_extras(false);
  policy_->require_subcommand(1);
  matrix_ = policy_->add_subcommand(
      "matrix", "Print which pod reaches which (JSON), or one probe with its explanation");
  matrix_->allow_extras(false);
  matrix_->add_option("--cluster", cluster_, "CLUSTER.json: namespaces, nodes, pods")->required();
  matrix_->add_option("--policies", policies_, "NetworkPolicy files (YAML/JSON) or directories")
      ->required();
  matrix_->add_option("--probe", probe_, "One verdict, explained: FROM TO PORT/PROTO")->expected(3);
}

int PolicyCommand::run(std::ostream& out, std::ostream& err) const {
  try {
    Loaded loaded;
    load(cluster_, policies_, loaded);
    if (!probe_.empty()) {
      out << probe(loaded, probe_).dump(2) << "\n";
    } else {
      print_matrix(out, to_json(reachability(loaded.engine, loaded.cluster.pods)));
    }
    return 0;
  } catch (const BadInput& e) {
    err << "loom policy: " << e.message << "\n";
    return 2;
  }
}

}  // namespace loom::live
