#include "tests/support/netns.h"

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace loom::testing_live {

int run_command(const std::string& command) {
  int status = std::system(command.c_str());
  if (status == -1 || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

std::string why_no_netns() {
  if (geteuid() != 0) return "needs root to create network namespaces";
  if (run_command("ip netns list >/dev/null 2>&1") != 0) {
    return "`ip netns` is unavailable (is iproute2 installed?)";
  }
  return "";
}

size_t remove_leftover_namespaces(const std::string& tag) {
  const std::string prefix = "loomtest-" + tag + "-";
  std::error_code ec;
  std::vector<std::string> stale;
  for (const auto& entry : std::filesystem::directory_iterator("/var/run/netns", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    // "<pid>-<rest>": the run that made it.
    const std::string rest = name.substr(prefix.size());
    const size_t dash = rest.find('-');
    if (dash == 0 || dash == std::string::npos) continue;
    if (rest.find_first_not_of("0123456789") != dash) continue;
    const long pid = std::strtol(rest.substr(0, dash).c_str(), nullptr, 10);
    const bool gone = ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
    if (gone || pid == getpid()) stale.push_back(name);
  }
  size_t removed = 0;
  for (const std::string& name : stale) {
    if (run_command("ip netns del " + name) == 0) ++removed;
  }
  return removed;
}

BridgedNamespaces::BridgedNamespaces(const std::string& tag, size_t n) {
  const std::string base = "loomtest-" + tag + "-" + std::to_string(getpid()) + "-";
  bridge_ = base + "br";
  for (size_t i = 0; i < n && i < kMaxSize; ++i) names_.push_back(base + std::to_string(i));
  if (n == 0 || n > kMaxSize) {
    error_ = "BridgedNamespaces: " + std::to_string(n) + " namespaces, want 1 to " +
             std::to_string(kMaxSize);
    return;
  }
  remove_leftover_namespaces(tag);
  if (!(step("ip netns add " + bridge_) && step("ip -n " + bridge_ + " link add br0 type bridge") &&
        step("ip -n " + bridge_ + " link set br0 up"))) {
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    if (!join_bridge(i)) return;
  }
}

bool BridgedNamespaces::join_bridge(size_t i) {
  // Each end is created inside its namespace, so short fixed names cannot
  // clash with anything outside.
  const std::string& ns = names_[i];
  // append, not "v" + ...: g++ 12 reports a false -Wrestrict for that.
  const std::string port = std::string("v").append(std::to_string(i));
  return step("ip netns add " + ns) &&
         step("ip link add " + port + " netns " + bridge_ + " type veth peer name eth0 netns " +
              ns) &&
         step("ip -n " + bridge_ + " link set " + port + " master br0 up") &&
         step("ip -n " + ns + " addr add " + address(i).to_string() + "/24 dev eth0") &&
         step("ip -n " + ns + " link set eth0 up") && step("ip -n " + ns + " link set lo up");
}

BridgedNamespaces::~BridgedNamespaces() {
  // A namespace takes its veth ends (and so the pairs) and the bridge with it.
  for (const std::string& ns : names_) run_command("ip netns del " + ns + " 2>/dev/null");
  run_command("ip netns del " + bridge_ + " 2>/dev/null");
}

bool BridgedNamespaces::step(const std::string& command) {
  if (run_command(command) == 0) return true;
  error_ = "failed: " + command;
  return false;
}

VethPair::VethPair(const std::string& tag) {
  std::string base = "loom-" + tag + "-" + std::to_string(getpid());
  ns_a_ = base + "-a";
  ns_b_ = base + "-b";
  // Interface names are limited to 15 characters.
  std::string veth_a = "lv" + std::to_string(getpid() % 1000000) + "a";
  std::string veth_b = "lv" + std::to_string(getpid() % 1000000) + "b";
  const std::string a = addr_a().to_string(), b = addr_b().to_string();
  step("ip netns add " + ns_a_) && step("ip netns add " + ns_b_) &&
      step("ip link add " + veth_a + " netns " + ns_a_ + " type veth peer name " + veth_b +
           " netns " + ns_b_) &&
      step("ip -n " + ns_a_ + " addr add " + a + "/30 dev " + veth_a) &&
      step("ip -n " + ns_b_ + " addr add " + b + "/30 dev " + veth_b) &&
      step("ip -n " + ns_a_ + " link set lo up") && step("ip -n " + ns_b_ + " link set lo up") &&
      step("ip -n " + ns_a_ + " link set " + veth_a + " up") &&
      step("ip -n " + ns_b_ + " link set " + veth_b + " up");
}

VethPair::~VethPair() {
  // Deleting a namespace destroys the veth end inside it, and with it the pair.
  run_command("ip netns del " + ns_a_ + " 2>/dev/null");
  run_command("ip netns del " + ns_b_ + " 2>/dev/null");
}

bool VethPair::step(const std::string& command) {
  if (run_command(command) == 0) return true;
  error_ = "failed: " + command;
  return false;
}

}  // namespace loom::testing_live
