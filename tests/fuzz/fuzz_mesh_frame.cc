// Arbitrary bytes into the mesh connection's decoders: a handshake (as the
// listener, with and without a password, in chunks the input chooses), then
// MessageChannels (plaintext and sealed) and the gossip and features
// decoders on whatever bodies come out. Nothing may crash; a decoded
// gossip message must re-encode to the bytes it came from.
#include <cstddef>
#include <cstdint>

#include "model/mesh/handshake.h"
#include "model/mesh/protocol.h"
#include "tests/fuzz/fuzz_check.h"

using namespace loom;
using namespace loom::mesh;
using loom::wire::fuzz::check;

namespace {

HandshakeConfig listener(bool password) {
  HandshakeConfig c;
  c.name = PeerName(0x0A0000000001);
  c.nickname = "fuzz";
  c.uid = 1;
  c.short_id = 1;
  if (password) c.password = "pw";
  return c;
}

void check_body(ByteView body) {
  if (body.empty()) return;
  const auto tag = static_cast<ProtocolTag>(body[0]);
  const ByteView payload = body.subview(1);
  if (tag == ProtocolTag::kGossip || tag == ProtocolTag::kGossipUnicast ||
      tag == ProtocolTag::kGossipBroadcast) {
    auto m = decode_gossip(tag, payload);
    if (m) {
      auto again = encode_gossip(*m);
      check(again.ok() && *again == payload.to_bytes(), "gossip round trip");
    }
  }
  auto features = decode_features(body);
  if (features) {
    (void)parse_features(*features);
    auto again = encode_features(*features);
    check(again.ok() && *again == body.to_bytes(), "features round trip");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteView input(data, size);
  const size_t chunk = size == 0 ? 1 : static_cast<size_t>(data[0] % 16) + 1;

  for (bool password : {false, true}) {
    Random random(7);
    Handshake h(listener(password), random);
    for (size_t at = 0; at < size; at += chunk) h.feed(input.subview(at, chunk));
    (void)h.take_output();
    if (h.status() == Handshake::Status::kSucceeded) {
      MessageChannel channel = h.take_channel();
      auto messages = channel.feed({});
      if (messages) {
        for (const auto& m : *messages) check(m.payload.size() < size, "payload inside input");
      }
    }
  }

  // The post-handshake decoder, on its own.
  crypto::SessionKey key;
  for (bool sealed : {false, true}) {
    MessageChannel channel(sealed ? std::optional(key) : std::nullopt, false, 1 << 16);
    for (size_t at = 0; at < size; at += chunk) {
      auto messages = channel.feed(input.subview(at, chunk));
      if (!messages) break;
      for (const auto& m : *messages) {
        Bytes body{static_cast<uint8_t>(m.tag)};
        body.insert(body.end(), m.payload.begin(), m.payload.end());
        check_body(body);
      }
    }
  }
  check_body(input);
  return 0;
}
