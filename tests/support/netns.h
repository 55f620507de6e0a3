// Test fixtures for live end-to-end tests, as root: network namespaces, a
// veth pair between two or a bridge joining several, created by the test and
// removed when it ends (also when an assertion fails). Traffic stays inside them.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "model/address.h"

namespace loom::testing_live {

// Runs a command through /bin/sh; returns its exit status (-1 if it could
// not run). Output goes to the test log.
int run_command(const std::string& command);

// Why live tests that build network namespaces cannot run here ("" when
// they can): not root, or `ip netns` unavailable. Tests GTEST_SKIP with it.
std::string why_no_netns();

// Removes the namespaces "loomtest-<tag>-<pid>-..." left by earlier runs that
// crashed (their process <pid> is gone, or is us); returns how many.
size_t remove_leftover_namespaces(const std::string& tag);

// n namespaces, "loomtest-<tag>-<pid>-0" to "-<n-1>", each with eth0 at
// address(i)/24 and loopback up, joined by veth pairs to a Linux bridge in a
// further namespace "loomtest-<tag>-<pid>-br": every one reaches all the
// others. Leftovers of crashed runs with the same tag are removed first;
// everything is removed when the object goes (also when an assertion fails),
// links included, as they all live inside the namespaces.
class BridgedNamespaces {
 public:
  static constexpr size_t kMaxSize = 250;

  BridgedNamespaces(const std::string& tag, size_t n);
  ~BridgedNamespaces();
  BridgedNamespaces(const BridgedNamespaces&) = delete;
  BridgedNamespaces& operator=(const BridgedNamespaces&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  size_t size() const { return names_.size(); }
  const std::string& name(size_t i) const { return names_.at(i); }
  const std::string& bridge_name() const { return bridge_; }
  // 10.99.0.<i+1>
  static Ipv4 address(size_t i) {
    return Ipv4::from_octets(10, 99, 0, static_cast<uint8_t>(i + 1));
  }

 private:
  // Namespace i, its veth pair, its port on the bridge.
  bool join_bridge(size_t i);
  bool step(const std::string& command);

  std::string bridge_, error_;
  std::vector<std::string> names_;
};

// Two namespaces, "loom-<tag>-<pid>-a" and "-b", joined by a veth pair with
// addr_a()/30 and addr_b()/30, links and loopback up.
class VethPair {
 public:
  explicit VethPair(const std::string& tag);
  ~VethPair();
  VethPair(const VethPair&) = delete;
  VethPair& operator=(const VethPair&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& ns_a() const { return ns_a_; }
  const std::string& ns_b() const { return ns_b_; }
  Ipv4 addr_a() const { return Ipv4::from_octets(10, 254, 0, 1); }
  Ipv4 addr_b() const { return Ipv4::from_octets(10, 254, 0, 2); }

 private:
  bool step(const std::string& command);

  std::string ns_a_, ns_b_, error_;
};

}  // namespace loom::testing_live
