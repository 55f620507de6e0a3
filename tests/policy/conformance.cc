#include "tests/policy/conformance.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "model/policy/policy_parser.h"

namespace loom::policy::testing {

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(file.string() + ": cannot read");
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::pair<uint16_t, Protocol> parse_port(const std::string& text, const std::string& where) {
  const size_t slash = text.find('/');
  auto protocol =
      slash == std::string::npos ? std::nullopt : parse_protocol(text.substr(slash + 1));
  if (!protocol) throw std::runtime_error(where + ": '" + text + "' is not PORT/PROTOCOL");
  return {static_cast<uint16_t>(std::stoi(text.substr(0, slash))), *protocol};
}

}  // namespace

fs::path data_dir() { return fs::path(LOOM_POLICY_DATA); }

std::vector<std::string> case_names(bool relabelled) {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(data_dir() / "cases")) {
    if (entry.is_directory() && (!relabelled || fs::exists(entry.path() / "after.json")))
      out.push_back(entry.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string case_test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

Cluster load_cluster(const fs::path& file) {
  auto cluster = parse_cluster(slurp(file));
  if (!cluster) throw std::runtime_error(file.string() + ": " + cluster.error().message);
  return std::move(*cluster);
}

Case load_case(const std::string& name) {
  Case c;
  c.name = name;
  c.dir = data_dir() / "cases" / name;
  c.cluster_file =
      fs::exists(c.dir / "cluster.json") ? c.dir / "cluster.json" : data_dir() / "cluster.json";
  c.cluster = load_cluster(c.cluster_file);
  for (const char* file : {"policies.yaml", "policies.json"}) {
    if (!fs::exists(c.dir / file)) continue;
    c.policy_files.push_back(c.dir / file);
    auto policies = parse_policies(slurp(c.dir / file));
    if (!policies)
      throw std::runtime_error((c.dir / file).string() + ": " + policies.error().message);
    for (auto& p : *policies) c.policies.push_back(std::move(p));
  }
  if (c.policy_files.empty()) throw std::runtime_error(c.dir.string() + ": no policies file");
  if (fs::exists(c.dir / "after.json")) {
    c.after_file = c.dir / "after.json";
    c.after = load_cluster(*c.after_file);
  }
  return c;
}

Expected read_expectation(const fs::path& file, const Cluster& cluster) {
  std::istringstream in(slurp(file));
  Expected out;
  // Explicit blocks first, then "*" blocks fill in what is left.
  struct Block {
    bool all = false;
    std::vector<std::pair<uint16_t, Protocol>> ports;
    std::vector<std::string> columns;
    std::vector<std::pair<std::string, std::vector<std::string>>> rows;
    int line = 0;
  };
  std::vector<Block> blocks;
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    const std::string where = file.string() + ":" + std::to_string(line_no);
    std::vector<std::string> w = words(line);
    if (w.empty() || w[0].starts_with("#")) continue;
    if (w[0] == "ports:") {
      Block b;
      b.line = line_no;
      b.all = w.size() == 2 && w[1] == "*";
      for (size_t i = 1; !b.all && i < w.size(); ++i) b.ports.push_back(parse_port(w[i], where));
      if (!b.all && b.ports.empty()) throw std::runtime_error(where + ": no ports");
      blocks.push_back(std::move(b));
    } else if (blocks.empty()) {
      throw std::runtime_error(where + ": expected 'ports:' first");
    } else if (blocks.back().columns.empty()) {
      blocks.back().columns = w;
    } else {
      if (w.size() != blocks.back().columns.size() + 1)
        throw std::runtime_error(where + ": a row needs one cell per column");
      blocks.back().rows.emplace_back(w[0], std::vector<std::string>(w.begin() + 1, w.end()));
    }
  }
  std::stable_partition(blocks.begin(), blocks.end(), [](const Block& b) { return !b.all; });
  for (const Block& b : blocks) {
    const std::string where = file.string() + ":" + std::to_string(b.line);
    for (const auto& [from, cells] : b.rows) {
      if (cluster.find_pod(from) == nullptr) throw std::runtime_error(where + ": no pod " + from);
      for (size_t i = 0; i < cells.size(); ++i) {
        const std::string& to = b.columns[i];
        const Pod* pod = cluster.find_pod(to);
        if (pod == nullptr) throw std::runtime_error(where + ": no pod " + to);
        const std::string& cell = cells[i];
        if ((from == to) != (cell == "-") || (cell != "-" && cell != "." && cell != "X")) {
          throw std::runtime_error(where + ": " + from + " -> " + to + ": cell '" + cell +
                                   "' (want '-' on the diagonal only, else '.' or 'X')");
        }
        if (from == to) continue;
        std::vector<std::pair<uint16_t, Protocol>> ports = b.ports;
        if (b.all) {
          ports.clear();
          for (const ContainerPort& p : pod->ports) ports.emplace_back(p.port, p.protocol);
        }
        for (const auto& [port, protocol] : ports) {
          if (!b.all && !std::any_of(pod->ports.begin(), pod->ports.end(), [&](const auto& p) {
                return p.port == port && p.protocol == protocol;
              })) {
            throw std::runtime_error(where + ": " + to + " does not serve " + std::to_string(port) +
                                     "/" + std::string(protocol_name(protocol)));
          }
          const ProbeKey key{from, to, port, protocol};
          if (b.all && out.contains(key)) continue;
          if (!out.emplace(key, cell == ".").second) {
            throw std::runtime_error(where + ": " + from + " -> " + to + " " +
                                     std::to_string(port) + " given twice");
          }
        }
      }
    }
  }
  return out;
}

std::vector<std::string> mismatches(const Expected& expected, const std::vector<Probe>& actual) {
  std::vector<std::string> out;
  std::set<ProbeKey> seen;
  auto name = [](const ProbeKey& k) {
    return std::get<0>(k) + " -> " + std::get<1>(k) + " " + std::to_string(std::get<2>(k)) + "/" +
           std::string(protocol_name(std::get<3>(k)));
  };
  auto word = [](bool allowed) { return allowed ? "allowed" : "denied"; };
  for (const Probe& p : actual) {
    const ProbeKey key{p.from, p.to, p.port, p.protocol};
    if (!seen.insert(key).second) out.push_back(name(key) + ": probed twice");
    auto it = expected.find(key);
    if (it == expected.end()) {
      out.push_back(name(key) + ": probed, but the table has no cell for it");
    } else if (it->second != p.allowed) {
      out.push_back(name(key) + ": expected " + word(it->second) + ", got " + word(p.allowed));
    }
  }
  for (const auto& [key, allowed] : expected) {
    if (!seen.contains(key)) out.push_back(name(key) + ": in the table, but never probed");
  }
  return out;
}

std::string render(const std::vector<Probe>& probes, const Cluster& cluster) {
  std::set<std::pair<uint16_t, Protocol>> ports;
  std::map<ProbeKey, bool> result;
  for (const Probe& p : probes) {
    ports.emplace(p.port, p.protocol);
    result[{p.from, p.to, p.port, p.protocol}] = p.allowed;
  }
  std::ostringstream out;
  for (const auto& [port, protocol] : ports) {
    out << "ports: " << port << "/" << protocol_name(protocol) << "\n     ";
    for (const Pod& to : cluster.pods) out << " " << to.key();
    out << "\n";
    for (const Pod& from : cluster.pods) {
      out << from.key();
      for (const Pod& to : cluster.pods) {
        auto it = result.find({from.key(), to.key(), port, protocol});
        const char* cell = from.key() == to.key() ? "-"
                           : it == result.end()   ? " "
                           : it->second           ? "."
                                                  : "X";
        out << std::string(to.key().size(), ' ') << cell;
      }
      out << "\n";
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace loom::policy::testing
