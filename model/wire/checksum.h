// The Internet checksum (RFC 1071): IPv4 header, UDP, ICMP.
//
// A checksum is written as finish() stored big-endian. To verify, add the
// whole message (checksum field included) and expect finish() == 0.
#pragma once

#include <cstdint>

#include "model/address.h"
#include "model/bytes.h"

namespace loom::wire {

// The ones' complement sum of a message given in pieces, in order. Pieces
// may have odd lengths (a pseudo header, then a header, then a payload).
class InternetChecksum {
 public:
  // Adds bytes as if they followed everything added so far.
  InternetChecksum& add(ByteView data);
  // Adds two bytes, value big-endian.
  InternetChecksum& add16(uint16_t value);
  // Adds four bytes, value big-endian (an Ipv4 is value.value).
  InternetChecksum& add32(uint32_t value);

  // The ones' complement of the folded sum: the value for a checksum field.
  uint16_t finish() const;

 private:
  uint64_t sum_ = 0;  // big-endian 16-bit words, not yet folded
  bool odd_ = false;  // an odd number of bytes so far: the next byte is a low byte
};

// RFC 1071 over one buffer: the value to store (big-endian) in a checksum
// field that was zero while summing.
uint16_t internet_checksum(ByteView data);

// The IPv4 pseudo header of UDP and TCP (RFC 768): src, dst, zero, protocol,
// length.
InternetChecksum& add_ipv4_pseudo_header(InternetChecksum& sum, Ipv4 src, Ipv4 dst,
                                         uint8_t protocol, uint16_t length);

}  // namespace loom::wire
