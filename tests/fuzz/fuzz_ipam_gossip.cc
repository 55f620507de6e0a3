// Decodes arbitrary bytes as the IPAM gossip message (nicknames, Paxos
// claims, ring) and feeds its Paxos claims to an elector. Must never crash;
// what decodes re-encodes to the same message.
#include "model/ipam/codec.h"
#include "tests/fuzz/fuzz_check.h"

using loom::wire::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace loom::ipam;
  const auto gossip = decode_gossip(loom::ByteView(data, size));
  if (!gossip.ok()) return 0;
  const auto again = decode_gossip(encode_gossip(*gossip));
  check(again.ok(), "a decoded message re-encodes");
  check(again->nicknames == gossip->nicknames && again->paxos == gossip->paxos,
        "nicknames and claims survive a round trip");
  check(again->ring.has_value() == gossip->ring.has_value(), "the ring survives a round trip");

  auto node = paxos::Participant::elector(PeerName(1), 1, 2);
  node.propose();
  node.update(gossip->paxos);
  node.think();
  (void)node.consensus();
  node.propose();
  node.think();
  return 0;
}
