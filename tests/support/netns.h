// Test fixtures for live end-to-end tests, as root: network namespaces and a
// veth pair between them, created by the test and removed when it ends
// (also when an assertion fails). Traffic stays inside them.
#pragma once

#include <string>
#include <vector>

#include "model/address.h"

namespace loom::testing_live {

// Runs a command through /bin/sh; returns its exit status (-1 if it could
// not run). Output goes to the test log.
int run_command(const std::string& command);

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
