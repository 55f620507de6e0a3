#include "model/host.h"

namespace loom {

std::optional<std::string> MemoryStore::get(std::string_view key) const {
  auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

Result<void> MemoryStore::put(std::string_view key, std::string_view value) {
  values_.insert_or_assign(std::string(key), std::string(value));
  return {};
}

Result<void> MemoryStore::erase(std::string_view key) {
  auto it = values_.find(key);
  if (it != values_.end()) values_.erase(it);
  return {};
}

std::vector<std::string> MemoryStore::keys() const {
  std::vector<std::string> out;
  out.reserve(values_.size());
  for (const auto& [key, value] : values_) out.push_back(key);
  return out;
}

}  // namespace loom
