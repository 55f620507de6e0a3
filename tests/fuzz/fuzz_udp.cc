// Input: 4 bytes source address, 4 bytes destination address, then a UDP
// datagram. A decoded datagram must re-encode to its first length bytes.
#include <vector>

#include "model/wire/byte_order.h"
#include "model/wire/udp.h"
#include "tests/fuzz/fuzz_check.h"

using namespace loom::wire;
using loom::wire::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  const loom::Ipv4 src(load_be32(data));
  const loom::Ipv4 dst(load_be32(data + 4));
  const uint8_t* segment = data + 8;
  const size_t n = size - 8;
  auto udp = UdpDatagram::decode(loom::ByteView(segment, n), src, dst);
  if (!udp) return 0;
  check(fuzz::inside(udp->payload, segment, n), "payload inside input");
  const size_t length = udp->size();
  check(length <= n && length == load_be16(segment + 4), "length");
  std::vector<uint8_t> out(length);
  const auto mode = udp->checksum == 0 ? UdpChecksum::kNone : UdpChecksum::kCompute;
  auto written = udp->encode(out, src, dst, mode);
  check(written.ok() && *written == length, "decoded datagram encodes");
  check(std::memcmp(out.data(), segment, length) == 0, "round trip");
  return 0;
}
