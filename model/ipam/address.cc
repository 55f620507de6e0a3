#include "model/ipam/address.h"

#include <cassert>
#include <charconv>

#include "model/address.h"

namespace loom::ipam {

std::string format_address(Address a) { return Ipv4(a).to_string(); }

Result<Address> parse_address(std::string_view text) {
  const std::optional<Ipv4> ip = Ipv4::parse(text);
  if (!ip) return make_error("invalid IP address: \"" + std::string(text) + "\"");
  return ip->value;
}

Range Range::biggest_cidr_block() const {
  if (empty()) return Range{start, start};
  // The largest power of two whose first aligned address at or after start
  // still leaves a whole block before end. 64-bit so nothing overflows.
  const uint64_t lo = start;
  const uint64_t hi = end;
  for (uint64_t block = uint64_t{1} << 31; block >= 1; block >>= 1) {
    if (block > hi - lo) continue;
    const uint64_t aligned = (lo + block - 1) & ~(block - 1);
    if (aligned + block <= hi) {
      return Range{static_cast<Address>(aligned), static_cast<Address>(aligned + block)};
    }
  }
  return Range{start, start};  // unreachable: block 1 always fits
}

std::string Range::to_string() const {
  return format_address(start) + "-" + format_address(end - 1);
}

std::string Range::as_cidr_string() const {
  int prefix = 32;
  for (Count s = size(); s > 1; s /= 2) {
    if (s % 2 != 0) return to_string();  // not a power of two
    --prefix;
  }
  return Cidr{start, prefix}.to_string();
}

Result<Cidr> Cidr::parse(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return make_error("invalid CIDR address: \"" + std::string(text) + "\" (" + std::string(why) +
                      ")");
  };
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return bad("no /prefix length");
  const std::optional<Ipv4> ip = Ipv4::parse(text.substr(0, slash));
  if (!ip) return bad("the address is not a dotted quad");
  const std::string_view digits = text.substr(slash + 1);
  int prefix = -1;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
  const bool digits_only =
      !digits.empty() && digits.find_first_not_of("0123456789") == std::string_view::npos;
  if (!digits_only || digits.size() > 2 || ec != std::errc() ||
      end != digits.data() + digits.size() || (digits.size() == 2 && digits[0] == '0')) {
    return bad("the prefix length is not a number");
  }
  if (prefix < 0 || prefix > 32) return bad("the prefix length must be 0-32");
  return Cidr{ip->value, prefix};
}

std::string Cidr::to_string() const {
  return format_address(addr) + "/" + std::to_string(prefix_len);
}

Range Cidr::range() const {
  assert(uint64_t{addr} + size() <= UINT32_MAX);
  return Range{addr, static_cast<Address>(addr + size())};
}

Range Cidr::host_range() const {
  const Range r = range();
  if (size() < 3) return Range{r.start, r.start};
  return Range{r.start + 1, r.end - 1};
}

Result<Cidr> parse_subnet(std::string_view text) {
  Result<Cidr> cidr = Cidr::parse(text);
  if (!cidr) return cidr;
  if (!cidr->is_subnet()) {
    return make_error("invalid subnet - bits after network prefix are not all zero: " +
                      std::string(text));
  }
  if (cidr->size() < kMinSubnetSize) {
    return make_error("invalid subnet - smaller than minimum size " +
                      std::to_string(kMinSubnetSize) + ": " + std::string(text));
  }
  return cidr;
}

Result<Cidr> parse_allocation_range(std::string_view text) {
  Result<Cidr> cidr = parse_subnet(text);
  if (!cidr) return cidr;
  if (uint64_t{cidr->addr} + cidr->size() > UINT32_MAX) {
    return make_error("IP allocation range " + std::string(text) +
                      " includes 255.255.255.255, which Loom does not support");
  }
  return cidr;
}

std::vector<Range> ring_ranges(const Range& universe, Address start, Address end) {
  if (end == universe.start) return {Range{start, universe.end}};
  if (end <= start) return {Range{universe.start, end}, Range{start, universe.end}};
  return {Range{start, end}};
}

}  // namespace loom::ipam
