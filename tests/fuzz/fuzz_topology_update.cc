// Decodes arbitrary bytes as a topology update and merges them into a small
// state. Must never crash; an accepted update must re-encode and decode.
#include "model/mesh/peers.h"
#include "model/mesh/routes.h"
#include "tests/fuzz/fuzz_check.h"

using loom::wire::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace loom::mesh;
  Peers peers(PeerName(1), "one", 11, 5, true);
  peers.add_connection(PeerName(2), loom::Endpoint{}, true, true);
  peers.add_reference(PeerName(3), "three", 33);
  auto r = peers.merge(loom::ByteView(data, size));
  if (!r.ok()) return 0;
  check(peers.find(PeerName(1)) != nullptr, "we survive every merge");
  auto again = TopologyUpdateView::decode(peers.encode_all());
  check(again.ok(), "encode_all decodes");
  Routes routes(peers);
  for (PeerName n : routes.peers()) (void)routes.broadcast_all(n);
  return 0;
}
