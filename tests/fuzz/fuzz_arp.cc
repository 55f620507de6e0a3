// Decodes an ARP packet; a decoded packet must re-encode to its 28 bytes.
#include <array>

#include "model/wire/arp.h"
#include "tests/fuzz/fuzz_check.h"

using namespace loom::wire;
using loom::wire::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto arp = ArpPacket::decode(loom::ByteView(data, size));
  if (!arp) return 0;
  std::array<uint8_t, ArpPacket::kSize> out{};
  auto written = arp->encode(out);
  check(written.ok() && *written == ArpPacket::kSize, "decoded packet encodes");
  check(std::memcmp(out.data(), data, ArpPacket::kSize) == 0, "round trip");
  return 0;
}
