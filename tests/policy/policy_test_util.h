// Small helpers the policy tests share.
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "model/policy/policy_engine.h"
#include "model/policy/policy_parser.h"

namespace loom::policy::testing {

inline Ipv4 ip(const char* text) { return *Ipv4::parse(text); }

// Every policy of a YAML manifest into `engine`; a parse error fails the test.
inline void apply_policies(PolicyEngine& engine, const std::string& yaml) {
  auto policies = parse_policies(yaml);
  ASSERT_TRUE(policies) << policies.error().message;
  for (NetworkPolicy& p : *policies) engine.set_policy(std::move(p));
}

}  // namespace loom::policy::testing
