// Decodes a VXLAN header; a decoded packet must re-encode to the input,
// reserved bits included.
#include <vector>

#include "model/wire/vxlan.h"
#include "tests/fuzz/fuzz_check.h"

using namespace loom::wire;
using loom::wire::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto vxlan = VxlanPacket::decode(loom::ByteView(data, size));
  if (!vxlan) return 0;
  check(fuzz::inside(vxlan->payload, data, size), "payload inside input");
  check(vxlan->vni <= VxlanPacket::kMaxVni, "VNI fits 24 bits");
  std::vector<uint8_t> out(size);
  auto written = vxlan->encode(out);
  check(written.ok() && *written == size, "decoded packet encodes");
  check(std::memcmp(out.data(), data, size) == 0, "round trip");
  return 0;
}
