// MacAddress: a 48-bit Ethernet address.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace loom::wire {

struct MacAddress {
  std::array<uint8_t, 6> bytes{};

  static constexpr MacAddress broadcast() { return {{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}}; }
  static MacAddress from(const uint8_t* p) { return {{p[0], p[1], p[2], p[3], p[4], p[5]}}; }
  // Six pairs of hex digits separated by colons ("aa:bb:cc:dd:ee:ff", any
  // case); nothing else.
  static std::optional<MacAddress> parse(std::string_view text);
  // Lower case, "aa:bb:cc:dd:ee:ff".
  std::string to_string() const;

  constexpr bool is_broadcast() const { return *this == broadcast(); }
  // The I/G bit: group addresses (broadcast included) go to many ports.
  constexpr bool is_multicast() const { return (bytes[0] & 0x01) != 0; }
  constexpr bool is_unicast() const { return !is_multicast(); }
  // The U/L bit: set in addresses made up by software (Weave's peer names).
  constexpr bool is_locally_administered() const { return (bytes[0] & 0x02) != 0; }
  constexpr bool is_zero() const { return *this == MacAddress{}; }

  friend constexpr bool operator==(const MacAddress&, const MacAddress&) = default;
  friend constexpr auto operator<=>(const MacAddress&, const MacAddress&) = default;
};

}  // namespace loom::wire
