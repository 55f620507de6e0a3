#include "model/mesh/peer_name.h"

#include <cstdio>
#include <vector>

namespace loom::mesh {

namespace {

std::optional<uint8_t> parse_group(std::string_view g) {
  if (g.empty() || g.size() > 2) return std::nullopt;
  unsigned v = 0;
  for (char c : g) {
    v <<= 4;
    if (c >= '0' && c <= '9') {
      v |= static_cast<unsigned>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      v |= static_cast<unsigned>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      v |= static_cast<unsigned>(c - 'A' + 10);
    } else {
      return std::nullopt;
    }
  }
  return static_cast<uint8_t>(v);
}

// Splits "a:b:c" into groups; an empty text gives no groups.
std::optional<std::vector<uint8_t>> parse_groups(std::string_view text) {
  std::vector<uint8_t> out;
  if (text.empty()) return out;
  while (true) {
    size_t colon = text.find(':');
    auto g = parse_group(text.substr(0, colon));
    if (!g) return std::nullopt;
    out.push_back(*g);
    if (colon == std::string_view::npos) break;
    text = text.substr(colon + 1);
  }
  return out;
}

}  // namespace

std::optional<PeerName> PeerName::parse(std::string_view text) {
  std::vector<uint8_t> groups;
  size_t gap = text.find("::");
  if (gap == std::string_view::npos) {
    auto all = parse_groups(text);
    if (!all || all->size() != 6) return std::nullopt;
    groups = *all;
  } else {
    if (text.find("::", gap + 1) != std::string_view::npos) return std::nullopt;
    auto head = parse_groups(text.substr(0, gap));
    auto tail = parse_groups(text.substr(gap + 2));
    if (!head || !tail || head->size() + tail->size() > 5) return std::nullopt;
    groups = *head;
    groups.resize(6 - tail->size(), 0);
    groups.insert(groups.end(), tail->begin(), tail->end());
  }
  uint64_t v = 0;
  for (uint8_t g : groups) v = (v << 8) | g;
  return PeerName(v);
}

std::string PeerName::to_string() const {
  char buf[18];
  std::snprintf(
      buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", static_cast<unsigned>((value >> 40) & 0xff),
      static_cast<unsigned>((value >> 32) & 0xff), static_cast<unsigned>((value >> 24) & 0xff),
      static_cast<unsigned>((value >> 16) & 0xff), static_cast<unsigned>((value >> 8) & 0xff),
      static_cast<unsigned>(value & 0xff));
  return buf;
}

}  // namespace loom::mesh
