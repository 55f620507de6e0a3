// PeerName: a Weave peer's 48-bit name, printed like a MAC address.
//
// Weave (mesh's "mac" flavour) keeps the name in a uint64, prints it as
// aa:bb:cc:dd:ee:ff, sends it as 6 bytes, and accepts an IPv6-like "::"
// shorthand on input ("::1" is 00:00:00:00:00:01). 0 is UnknownPeerName.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace loom::mesh {

struct PeerName {
  uint64_t value = 0;  // only the low 48 bits are used

  static constexpr uint64_t kMask = (uint64_t{1} << 48) - 1;
  static constexpr size_t kWireSize = 6;

  constexpr PeerName() = default;
  constexpr explicit PeerName(uint64_t v) : value(v & kMask) {}

  // "aa:bb:cc:dd:ee:ff", or with "::" standing for a run of zero groups
  // ("::1", "aa::ff"). Hex digits in either case; each group 1-2 digits.
  static std::optional<PeerName> parse(std::string_view text);
  std::string to_string() const;  // always the full lower-case form

  constexpr bool is_unknown() const { return value == 0; }
  friend constexpr auto operator<=>(PeerName, PeerName) = default;
};

inline constexpr PeerName kUnknownPeerName{};

// A peer's incarnation: a random non-zero uint64 drawn at every start. 0
// marks a placeholder peer known only by name.
using PeerUID = uint64_t;

// 12-bit fastdp short ID.
using ShortID = uint16_t;
inline constexpr ShortID kShortIDBits = 12;

}  // namespace loom::mesh
