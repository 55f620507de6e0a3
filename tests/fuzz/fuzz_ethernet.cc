// Decodes an Ethernet frame; a decoded frame must re-encode to the input.
#include <vector>

#include "model/wire/ethernet.h"
#include "tests/fuzz/fuzz_check.h"

using namespace loom::wire;
using loom::wire::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto frame = EthernetFrame::decode(loom::ByteView(data, size));
  if (!frame) return 0;
  check(fuzz::inside(frame->payload, data, size), "payload inside input");
  check(frame->size() == size, "header + payload is the whole frame");
  std::vector<uint8_t> out(size);
  auto written = frame->encode(out);
  check(written.ok(), "decoded frame encodes");
  check(*written == size && std::memcmp(out.data(), data, size) == 0, "round trip");
  return 0;
}
