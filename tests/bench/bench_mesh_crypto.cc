// The mesh control plane's crypto: sealing and opening one framed control
// message (1 KiB, 64 KiB) through a MessageChannel, and a full handshake
// pair with a password (two X25519 key pairs and agreements, two sealed
// features messages). They measure; they do not pass or fail.
#include <cstdint>

#include <benchmark/benchmark.h>

#include "model/mesh/handshake.h"

namespace loom::mesh {
namespace {

HandshakeConfig peer(uint64_t name, bool outbound) {
  HandshakeConfig c;
  c.name = PeerName(name);
  c.nickname = "bench";
  c.uid = name;
  c.outbound = outbound;
  c.password = "bench password";
  return c;
}

// Runs both ends to completion, all bytes at once.
void handshake(Handshake& a, Handshake& b) {
  for (;;) {
    Bytes ab = a.take_output();
    Bytes ba = b.take_output();
    if (ab.empty() && ba.empty()) return;
    b.feed(ab);
    a.feed(ba);
  }
}

void BM_SealOpen(benchmark::State& state) {
  Random ra(1), rb(2);
  Handshake a(peer(1, true), ra), b(peer(2, false), rb);
  handshake(a, b);
  MessageChannel tx = a.take_channel();
  MessageChannel rx = b.take_channel();
  const Bytes payload(static_cast<size_t>(state.range(0)), 0x5A);
  for (auto _ : state) {
    auto framed = tx.encode(ProtocolTag::kGossip, payload);
    auto messages = rx.feed(*framed);
    benchmark::DoNotOptimize(messages);
    if (!messages.ok() || messages->size() != 1) state.SkipWithError("message lost");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_SealOpen)->Arg(1024)->Arg(64 * 1024);

void BM_HandshakePair(benchmark::State& state) {
  Random ra(1), rb(2);
  for (auto _ : state) {
    Handshake a(peer(1, true), ra), b(peer(2, false), rb);
    handshake(a, b);
    if (a.status() != Handshake::Status::kSucceeded) state.SkipWithError("handshake failed");
    benchmark::DoNotOptimize(a.result().connection_uid);
  }
}
BENCHMARK(BM_HandshakePair);

}  // namespace
}  // namespace loom::mesh

BENCHMARK_MAIN();
