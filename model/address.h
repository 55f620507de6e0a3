// Ipv4 and Endpoint: underlay addresses as the engines see them.
// Valid C++17 (included by host.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace loom {

// An IPv4 address, held in host byte order (10.0.0.1 is 0x0A000001).
struct Ipv4 {
  uint32_t value = 0;

  constexpr Ipv4() = default;
  constexpr explicit Ipv4(uint32_t host_order) : value(host_order) {}
  static constexpr Ipv4 from_octets(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return Ipv4((uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d);
  }
  // Dotted quad only ("10.32.0.1"); no leading zeros, no shorthand forms.
  static std::optional<Ipv4> parse(std::string_view text);
  std::string to_string() const;

  constexpr bool is_any() const { return value == 0; }
  friend constexpr bool operator==(Ipv4 a, Ipv4 b) { return a.value == b.value; }
  friend constexpr bool operator!=(Ipv4 a, Ipv4 b) { return a.value != b.value; }
  friend constexpr bool operator<(Ipv4 a, Ipv4 b) { return a.value < b.value; }
};

struct Endpoint {
  Ipv4 addr;
  uint16_t port = 0;

  // "10.0.0.1:6783"
  static std::optional<Endpoint> parse(std::string_view text);
  std::string to_string() const;

  friend constexpr bool operator==(const Endpoint& a, const Endpoint& b) {
    return a.addr == b.addr && a.port == b.port;
  }
  friend constexpr bool operator!=(const Endpoint& a, const Endpoint& b) { return !(a == b); }
  friend constexpr bool operator<(const Endpoint& a, const Endpoint& b) {
    return a.addr != b.addr ? a.addr < b.addr : a.port < b.port;
  }
};

}  // namespace loom
