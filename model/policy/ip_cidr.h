// IpCidr: an ipBlock's cidr or except entry, IPv4 or IPv6.
//
// Loom's pods and flows are IPv4, but a valid policy may name IPv6 blocks
// (dual-stack clusters write them); they are parsed and validated as the API
// server does, and never match an IPv4 address.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "model/address.h"
#include "model/result.h"

namespace loom::policy {

class IpCidr {
 public:
  // "10.0.0.0/8", "2001:db8::/32". Host bits may be set ("10.0.0.1/24" is
  // 10.0.0.0/24), as Go's net.ParseCIDR allows. The error is the reason.
  static Result<IpCidr> parse(std::string_view text);

  bool is_ipv6() const { return v6_; }
  int prefix_len() const { return prefix_; }
  bool contains(Ipv4 address) const;
  // Whether `inner` lies inside this block (same family, longer or equal prefix).
  bool contains(const IpCidr& inner) const;
  // The canonical form: "10.0.0.0/24".
  std::string to_string() const;

  friend bool operator==(const IpCidr&, const IpCidr&) = default;

 private:
  bool prefix_matches(const std::array<uint8_t, 16>& bytes) const;

  std::array<uint8_t, 16> bytes_{};  // IPv4 in the first 4 bytes; host bits zero
  int prefix_ = 0;
  bool v6_ = false;
};

}  // namespace loom::policy
