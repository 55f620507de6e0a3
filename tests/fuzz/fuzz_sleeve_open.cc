// Sleeve open (docs/crypto.md) on arbitrary bytes. The first byte picks:
//   0, 1  the rest is a sealed datagram (after the sender name): it must
//         never open, under either polarity;
//   2     the rest is a batch of frames: sealed, it opens to itself; with
//         one byte flipped (where and how the input says), it does not;
//   3     up to 16 datagrams sealed by the DF and non-DF encryptors, then
//         delivered in the order the input gives: each opens exactly once.
#include <cstddef>
#include <cstdint>
#include <set>
#include <vector>

#include "model/crypto/sleeve_crypto.h"
#include "tests/fuzz/fuzz_check.h"

using namespace loom;
using namespace loom::crypto;
using loom::wire::fuzz::check;

namespace {

SessionKey key() {
  SessionKey k;
  for (size_t i = 0; i < k.bytes.size(); ++i) k.bytes[i] = static_cast<uint8_t>(3 * i);
  return k;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  const ByteView rest(data + 1, size - 1);

  switch (selector & 3) {
    case 0:
    case 1: {
      for (bool outbound : {true, false}) {
        SleeveDecryptor dec(key(), outbound);
        check(!dec.open(rest).ok(), "garbage never authenticates");
        check(dec.window(false).current_window() == 0 && dec.window(true).current_window() == 0,
              "a refused datagram never moves a window");
      }
      return 0;
    }
    case 2: {
      SleeveEncryptor enc(key(), true, (selector & 0x80) != 0);
      SleeveDecryptor dec(key(), false);
      const Bytes sealed = *enc.seal(rest);
      check(sealed.size() == rest.size() + kSleeveSealOverhead, "sealed size");
      if (rest.size() >= 2) {
        Bytes forged = sealed;
        forged[(rest[0] | (size_t{rest[1]} << 8)) % forged.size()] ^=
            static_cast<uint8_t>(rest[1] | 1);
        check(!dec.open(forged).ok(), "a flipped byte never opens");
      }
      auto opened = dec.open(sealed);
      check(opened.ok() && opened->frames == rest.to_bytes(), "round trip");
      check(opened->df == enc.df() && opened->sequence == 0, "header");
      check(!dec.open(sealed).ok(), "and only once");
      return 0;
    }
    default: {
      SleeveEncryptor plain(key(), false, false), df(key(), false, true);
      SleeveDecryptor dec(key(), true);
      std::vector<Bytes> sealed;
      for (size_t i = 0; i < 16; ++i) {
        sealed.push_back(*(i % 3 == 0 ? df : plain).seal(rest.subview(0, i * 5)));
      }
      std::set<size_t> opened_once;
      for (uint8_t b : rest) {
        const size_t i = b % sealed.size();
        auto opened = dec.open(sealed[i]);
        const bool first = opened_once.insert(i).second;
        check(opened.ok() == first, "each datagram opens exactly once, in any order");
        if (!first) check(opened.reason() == SleeveReject::kDuplicate, "a repeat is a duplicate");
      }
      return 0;
    }
  }
}
