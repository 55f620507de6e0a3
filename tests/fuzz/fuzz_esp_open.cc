// ESP open (docs/crypto.md) on arbitrary bytes. The first byte picks:
//   0, 1  the rest is a datagram for UDP 4500: it must never open (under
//         either cipher, with or without ESN), only be refused;
//   2     the rest is a payload: sealed, it must open to itself; with one
//         byte flipped (where and how the input says), it must not;
//   3     up to 16 packets sealed, then delivered in the order the input
//         gives, repeats included: each opens exactly once.
#include <cstddef>
#include <cstdint>
#include <set>
#include <vector>

#include "model/crypto/esp.h"
#include "tests/fuzz/fuzz_check.h"

using namespace loom;
using namespace loom::crypto;
using loom::wire::fuzz::check;

namespace {

EspSaConfig config(EspCipher cipher, bool esn) {
  EspSaConfig c;
  c.spi = 0x00c0ffee;
  c.cipher = cipher;
  c.esn = esn;
  for (size_t i = 0; i < c.key.key.size(); ++i) c.key.key[i] = static_cast<uint8_t>(i);
  c.key.salt = {9, 8, 7, 6};
  return c;
}

EspCipher cipher_for(uint8_t selector) {
  return (selector & 0x80) != 0 && esp_cipher_available(EspCipher::kAes256Gcm)
             ? EspCipher::kAes256Gcm
             : EspCipher::kChaCha20Poly1305;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  const ByteView rest(data + 1, size - 1);
  const EspCipher cipher = cipher_for(selector);

  switch (selector & 3) {
    case 0:
    case 1: {
      for (bool esn : {true, false}) {
        EspSa sa = *EspSa::create(config(cipher, esn));
        auto opened = sa.open(rest);
        check(!opened.ok(), "garbage never authenticates");
        check(sa.replay_window().top() == 0, "a refused packet never moves the window");
      }
      const auto kind = classify_esp_udp(rest);
      check((esp_spi(rest).has_value()) == (kind == EspUdpKind::kEsp), "SPI exactly for ESP");
      return 0;
    }
    case 2: {
      EspSa sender = *EspSa::create(config(cipher, true));
      EspSa receiver = *EspSa::create(config(cipher, true));
      const Bytes packet = *sender.seal(rest, kEspNextHeaderUdp);
      check(packet.size() == rest.size() + kEspMinOverhead + esp_padding_size(rest.size()),
            "sealed size");
      if (rest.size() >= 2) {
        Bytes forged = packet;
        forged[(rest[0] | (size_t{rest[1]} << 8)) % forged.size()] ^=
            static_cast<uint8_t>(rest[1] | 1);
        check(!receiver.open(forged).ok(), "a flipped byte never opens");
      }
      auto opened = receiver.open(packet);
      check(opened.ok(), "the genuine packet opens");
      check(opened->data == rest.to_bytes() && opened->next_header == kEspNextHeaderUdp,
            "round trip");
      check(!receiver.open(packet).ok(), "and only once");
      return 0;
    }
    default: {
      EspSa sender = *EspSa::create(config(cipher, true));
      EspSa receiver = *EspSa::create(config(cipher, true));
      std::vector<Bytes> packets;
      for (size_t i = 0; i < 16; ++i) packets.push_back(*sender.seal(rest.subview(0, i * 7), 17));
      std::set<size_t> opened_once;
      for (uint8_t b : rest) {
        const size_t i = b % packets.size();
        auto opened = receiver.open(packets[i]);
        const bool first = opened_once.insert(i).second;
        check(opened.ok() == first, "each packet opens exactly once, in any order");
        if (!first) check(opened.reason() == EspReject::kReplayed, "a repeat is a replay");
      }
      return 0;
    }
  }
}
