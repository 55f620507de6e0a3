// Decodes an IPv4 packet; a decoded packet must re-encode to its first
// total-length bytes (the checksum recomputed).
#include <vector>

#include "model/wire/checksum.h"
#include "model/wire/ipv4.h"
#include "tests/fuzz/fuzz_check.h"

using namespace loom::wire;
using loom::wire::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto ip = Ipv4Packet::decode(loom::ByteView(data, size));
  if (!ip) return 0;
  check(fuzz::inside(ip->options, data, size), "options inside input");
  check(fuzz::inside(ip->payload, data, size), "payload inside input");
  const size_t total = ip->total_length();
  check(total <= size && total == ((size_t{data[2]} << 8) | data[3]), "total length");
  check(ip->header_size() == size_t{data[0] & 0x0Fu} * 4, "header length");
  std::vector<uint8_t> out(total);
  auto written = ip->encode(out);
  check(written.ok() && *written == total, "decoded packet encodes");
  check(fuzz::same_with_checksum(out.data(), data, total, 10), "round trip");
  check(internet_checksum(loom::ByteView(out.data(), ip->header_size())) == 0,
        "encoded header checksum verifies");
  return 0;
}
