// Decodes an ICMP echo; a decoded message must re-encode to the input (the
// checksum recomputed).
#include <vector>

#include "model/wire/icmp.h"
#include "tests/fuzz/fuzz_check.h"

using namespace loom::wire;
using loom::wire::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto echo = IcmpEcho::decode(loom::ByteView(data, size));
  if (!echo) return 0;
  check(fuzz::inside(echo->payload, data, size), "payload inside input");
  check(echo->size() == size, "header + payload is the whole message");
  std::vector<uint8_t> out(size);
  auto written = echo->encode(out);
  check(written.ok() && *written == size, "decoded message encodes");
  check(fuzz::same_with_checksum(out.data(), data, size, 2), "round trip");
  return 0;
}
