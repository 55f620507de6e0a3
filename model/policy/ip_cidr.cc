#include "model/policy/ip_cidr.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <vector>

namespace loom::policy {

namespace {

std::optional<std::array<uint8_t, 16>> parse_ipv4_bytes(std::string_view text) {
  auto v4 = Ipv4::parse(text);
  if (!v4) return std::nullopt;
  std::array<uint8_t, 16> out{};
  for (int i = 0; i < 4; ++i) out[i] = static_cast<uint8_t>(v4->value >> (24 - 8 * i));
  return out;
}

// RFC 4291 text: hex groups, one "::" at most, an optional dotted quad last.
std::optional<std::array<uint8_t, 16>> parse_ipv6_bytes(std::string_view text) {
  std::vector<uint16_t> head, tail;
  std::vector<uint16_t>* groups = &head;
  bool compressed = false;
  if (text.substr(0, 2) == "::") {
    compressed = true;
    groups = &tail;
    text.remove_prefix(2);
  }
  while (!text.empty()) {
    size_t colon = text.find(':');
    std::string_view group = text.substr(0, colon);
    if (colon == std::string_view::npos && group.find('.') != std::string_view::npos) {
      auto v4 = parse_ipv4_bytes(group);  // ::ffff:10.0.0.1
      if (!v4) return std::nullopt;
      groups->push_back(static_cast<uint16_t>(((*v4)[0] << 8) | (*v4)[1]));
      groups->push_back(static_cast<uint16_t>(((*v4)[2] << 8) | (*v4)[3]));
      break;
    }
    unsigned value = 0;
    auto [end, ec] = std::from_chars(group.data(), group.data() + group.size(), value, 16);
    if (group.empty() || group.size() > 4 || ec != std::errc() ||
        end != group.data() + group.size())
      return std::nullopt;
    groups->push_back(static_cast<uint16_t>(value));
    if (colon == std::string_view::npos) break;
    text.remove_prefix(colon + 1);
    if (text.substr(0, 1) == ":") {
      if (compressed) return std::nullopt;
      compressed = true;
      groups = &tail;
      text.remove_prefix(1);
    } else if (text.empty()) {
      return std::nullopt;  // a trailing single colon
    }
  }
  const size_t count = head.size() + tail.size();
  if ((compressed && count > 7) || (!compressed && count != 8)) return std::nullopt;
  std::array<uint8_t, 16> out{};
  auto put = [&](size_t index, uint16_t g) {
    out[2 * index] = static_cast<uint8_t>(g >> 8);
    out[2 * index + 1] = static_cast<uint8_t>(g);
  };
  for (size_t i = 0; i < head.size(); ++i) put(i, head[i]);
  for (size_t i = 0; i < tail.size(); ++i) put(8 - tail.size() + i, tail[i]);
  return out;
}

}  // namespace

Result<IpCidr> IpCidr::parse(std::string_view text) {
  const Error invalid = make_error("invalid CIDR address: " + std::string(text));
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return invalid;
  std::string_view address = text.substr(0, slash);
  std::string_view length = text.substr(slash + 1);
  IpCidr out;
  out.v6_ = address.find(':') != std::string_view::npos;
  auto bytes = out.v6_ ? parse_ipv6_bytes(address) : parse_ipv4_bytes(address);
  if (!bytes) return invalid;
  int prefix = -1;
  auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), prefix);
  const int max = out.v6_ ? 128 : 32;
  if (length.empty() || length.size() > 3 || ec != std::errc() ||
      end != length.data() + length.size() || prefix < 0 || prefix > max ||
      (length.size() > 1 && length[0] == '0'))
    return invalid;
  out.prefix_ = prefix;
  for (int i = 0; i < 16; ++i) {
    const int keep = std::clamp(prefix - 8 * i, 0, 8);
    (*bytes)[i] &= static_cast<uint8_t>(0xff00u >> keep);
  }
  out.bytes_ = *bytes;
  return out;
}

bool IpCidr::prefix_matches(const std::array<uint8_t, 16>& bytes) const {
  for (int i = 0; i < 16 && 8 * i < prefix_; ++i) {
    const int keep = std::min(prefix_ - 8 * i, 8);
    const auto mask = static_cast<uint8_t>(0xff00u >> keep);
    if ((bytes[i] & mask) != bytes_[i]) return false;
  }
  return true;
}

bool IpCidr::contains(Ipv4 address) const {
  if (v6_) return false;
  if (prefix_ == 0) return true;
  const uint32_t mask = ~uint32_t{0} << (32 - prefix_);
  const uint32_t network = (uint32_t{bytes_[0]} << 24) | (uint32_t{bytes_[1]} << 16) |
                           (uint32_t{bytes_[2]} << 8) | bytes_[3];
  return (address.value & mask) == network;
}

bool IpCidr::contains(const IpCidr& inner) const {
  return inner.v6_ == v6_ && inner.prefix_ >= prefix_ && prefix_matches(inner.bytes_);
}

std::string IpCidr::to_string() const {
  std::string out;
  if (!v6_) {
    out = std::to_string(bytes_[0]) + "." + std::to_string(bytes_[1]) + "." +
          std::to_string(bytes_[2]) + "." + std::to_string(bytes_[3]);
  } else {
    // Full groups without "::" compression: unambiguous, if not the shortest.
    char group[8];
    for (int i = 0; i < 8; ++i) {
      auto [end, ec] = std::to_chars(group, group + sizeof group,
                                     (unsigned{bytes_[2 * i]} << 8) | bytes_[2 * i + 1], 16);
      (void)ec;
      if (i > 0) out += ':';
      out.append(group, end);
    }
  }
  return out + "/" + std::to_string(prefix_);
}

}  // namespace loom::policy
