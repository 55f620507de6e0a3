#include "tests/support/netns.h"

#include <cstdlib>

#include <sys/wait.h>
#include <unistd.h>

namespace loom::testing_live {

int run_command(const std::string& command) {
  int status = std::system(command.c_str());
  if (status == -1 || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
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
