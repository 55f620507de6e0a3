// A GossipData for tests: a set of strings, merged by union; each string is
// encoded as one message.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "model/mesh/gossip.h"

namespace loom::mesh::testing {

class StringSet final : public GossipData {
 public:
  explicit StringSet(std::set<std::string> items) : items_(std::move(items)) {}
  std::vector<Bytes> encode() const override {
    std::vector<Bytes> out;
    for (const std::string& s : items_) out.emplace_back(s.begin(), s.end());
    return out;
  }
  std::unique_ptr<GossipData> merge(const GossipData& other) const override {
    std::set<std::string> all = items_;
    const auto& o = static_cast<const StringSet&>(other);
    all.insert(o.items_.begin(), o.items_.end());
    return std::make_unique<StringSet>(std::move(all));
  }
  const std::set<std::string>& items() const { return items_; }

 private:
  std::set<std::string> items_;
};

inline GossipDataPtr strings(std::set<std::string> items) {
  return std::make_shared<StringSet>(std::move(items));
}

inline std::string text(const Bytes& b) { return std::string(b.begin(), b.end()); }

}  // namespace loom::mesh::testing
