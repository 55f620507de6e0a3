#include "model/address.h"

#include <charconv>

namespace loom {

namespace {

// Parses a decimal number in [0, max] with no sign and no leading zeros.
std::optional<uint32_t> parse_decimal(std::string_view text, uint32_t max) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  if (text.size() > 1 && text[0] == '0') return std::nullopt;
  uint32_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  if (value > max) return std::nullopt;
  return value;
}

}  // namespace

std::optional<Ipv4> Ipv4::parse(std::string_view text) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    size_t dot = text.find('.');
    if ((i < 3) != (dot != std::string_view::npos)) return std::nullopt;
    auto octet = parse_decimal(text.substr(0, dot), 255);
    if (!octet) return std::nullopt;
    value = (value << 8) | *octet;
    text = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  }
  return Ipv4(value);
}

std::string Ipv4::to_string() const {
  return std::to_string(value >> 24) + "." + std::to_string((value >> 16) & 0xff) + "." +
         std::to_string((value >> 8) & 0xff) + "." + std::to_string(value & 0xff);
}

std::optional<Endpoint> Endpoint::parse(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto addr = Ipv4::parse(text.substr(0, colon));
  auto port = parse_decimal(text.substr(colon + 1), 65535);
  if (!addr || !port) return std::nullopt;
  return Endpoint{*addr, static_cast<uint16_t>(*port)};
}

std::string Endpoint::to_string() const { return addr.to_string() + ":" + std::to_string(port); }

}  // namespace loom
