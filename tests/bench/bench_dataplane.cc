// The data plane's per-frame cost, through the real forwarder code: a
// 1,450-byte frame from a pod through the switch, the overlay switch and
// the fastdp forwarder (VXLAN, then ESP with AES-256-GCM or
// ChaCha20-Poly1305) to the UDP socket, and back from the socket to the
// pod; the same for sleeve (secretbox); and the switch's lookups.
//
// Two DataPlanes are joined by hand on in-memory hosts (tests/dataplane/
// fake_pair.h); the sockets hand datagrams over without copying them when
// asked to. Each measurement sits beside libsodium's raw AEAD (or
// secretbox) on the same bytes in the same run; the ratio table at the end
// is the figure to read.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <sodium.h>

#include "model/dataplane/flow.h"
#include "model/dataplane/mac_cache.h"
#include "tests/bench/ratio_reporter.h"
#include "tests/bench/reference_crypto.h"
#include "tests/dataplane/fake_pair.h"

namespace loom::dataplane::testing {
namespace {

using namespace std::chrono_literals;
using crypto::EspCipher;

constexpr size_t kFrameSize = 1450;
constexpr size_t kPool = 4096;  // distinct datagrams for the open benchmarks

enum class Path { kFastdpPlain, kFastdpAes, kFastdpChaCha, kSleevePlain, kSleeveSealed };

bool sealed(Path p) {
  return p == Path::kFastdpAes || p == Path::kFastdpChaCha || p == Path::kSleeveSealed;
}
bool fastdp(Path p) { return p != Path::kSleevePlain && p != Path::kSleeveSealed; }

std::unique_ptr<FakePair> make_pair(Path path) {
  DataPlaneConfig c;
  c.overlays = {fastdp(path) ? "fastdp" : "sleeve"};
  c.fastdp_mtu = kFrameSize;  // a 1450-byte frame fits the datapath
  c.esp_cipher = path == Path::kFastdpChaCha ? EspCipher::kChaCha20Poly1305 : EspCipher::kAes256Gcm;
  std::optional<crypto::SessionKey> key;
  if (sealed(path)) {
    key.emplace();
    key->bytes.fill(0x17);
  }
  auto pair = std::make_unique<FakePair>(c, key);
  pair->wire.run_for(1s);
  return pair;
}

bool unavailable(benchmark::State& state, Path path) {
  if (path == Path::kFastdpAes && !crypto::esp_cipher_available(EspCipher::kAes256Gcm)) {
    state.SkipWithError("AES-256-GCM needs AES-NI and PCLMUL");
    return true;
  }
  return false;
}

const Bytes& frame() {
  static const Bytes f = broadcast_frame(kFrameSize);
  return f;
}

// Pod -> switch -> forwarder -> (seal) -> socket.
void BM_EncapSeal(benchmark::State& state, Path path) {
  if (unavailable(state, path)) return;
  auto pair = make_pair(path);
  if (!pair->established()) {
    state.SkipWithError("pair not established");
    return;
  }
  pair->wire.drop_all = true;
  FakePort& port = pair->a_host().port;
  const bool flush = !fastdp(path);  // sleeve sends from its zero-delay flush
  for (auto _ : state) {
    port.from_pod(frame());
    if (flush) pair->wire.run_for(Time(0));
  }
  const double sent = pair->a_host().metric("loom_dataplane_sent_frames_total",
                                            {{"overlay", fastdp(path) ? "fastdp" : "sleeve"}});
  if (sent < static_cast<double>(state.iterations())) state.SkipWithError("frames were not sent");
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kFrameSize));
}

// Socket -> (open) -> forwarder -> switch -> pod. Distinct datagrams in
// order (each must pass the replay window): a fresh pair every kPool.
void BM_OpenDecap(benchmark::State& state, Path path) {
  if (unavailable(state, path)) return;
  const uint16_t port = fastdp(path) ? (sealed(path) ? 4500 : 6784) : 6783;
  std::unique_ptr<FakePair> pair;
  std::vector<Datagram> pool;
  size_t next = 0;
  uint64_t expected = 0;
  auto refill = [&] {
    pair = make_pair(path);
    pair->wire.capture = true;
    pair->wire.drop_all = true;
    pair->wire.sent.clear();
    for (size_t i = 0; i < kPool; ++i) {
      pair->a_host().port.from_pod(frame());
      pair->wire.run_for(Time(0));
    }
    pool.clear();
    for (Datagram& d : pair->wire.sent) {
      if (d.to.port == port && d.payload.size() > kFrameSize) pool.push_back(std::move(d));
    }
    pair->wire.sent.clear();
    pair->wire.capture = false;
    next = 0;
    pair->b_host().port.keep_last = false;
    expected = pair->b_host().port.delivered;
  };
  FakeSocket* socket = nullptr;
  for (auto _ : state) {
    if (next >= pool.size()) {
      state.PauseTiming();
      if (pair && pair->b_host().port.delivered != expected)
        state.SkipWithError("frames were lost");
      refill();
      socket = pair->b_host().socket(port);
      state.ResumeTiming();
      if (pool.empty()) {
        state.SkipWithError("no datagrams captured");
        break;
      }
    }
    const Datagram& d = pool[next++];
    socket->deliver(d.from, d.payload);
    ++expected;
  }
  if (pair && pair->b_host().port.delivered != expected) state.SkipWithError("frames were lost");
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kFrameSize));
}

BENCHMARK_CAPTURE(BM_EncapSeal, fastdp_plain, Path::kFastdpPlain);
BENCHMARK_CAPTURE(BM_EncapSeal, fastdp_aes256gcm, Path::kFastdpAes);
BENCHMARK_CAPTURE(BM_EncapSeal, fastdp_chacha20poly1305, Path::kFastdpChaCha);
BENCHMARK_CAPTURE(BM_EncapSeal, sleeve_plain, Path::kSleevePlain);
BENCHMARK_CAPTURE(BM_EncapSeal, sleeve_secretbox, Path::kSleeveSealed);
BENCHMARK_CAPTURE(BM_OpenDecap, fastdp_plain, Path::kFastdpPlain);
BENCHMARK_CAPTURE(BM_OpenDecap, fastdp_aes256gcm, Path::kFastdpAes);
BENCHMARK_CAPTURE(BM_OpenDecap, fastdp_chacha20poly1305, Path::kFastdpChaCha);
BENCHMARK_CAPTURE(BM_OpenDecap, sleeve_plain, Path::kSleevePlain);
BENCHMARK_CAPTURE(BM_OpenDecap, sleeve_secretbox, Path::kSleeveSealed);

// --- References: libsodium alone on the same bytes --------------------------

LOOM_REFERENCE_CRYPTO_BENCHMARKS();

// --- The switch's lookups per frame -------------------------------------------

// MAC -> peer among 10,000 entries.
void BM_SwitchMacLookup(benchmark::State& state) {
  MacCache cache;
  std::vector<wire::MacAddress> macs;
  for (uint32_t i = 0; i < 10000; ++i) {
    wire::MacAddress m{{0x02, 0, static_cast<uint8_t>(i >> 24), static_cast<uint8_t>(i >> 16),
                        static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)}};
    cache.add_forced(m, PeerName(i % 100 + 1), Time(0));
    macs.push_back(m);
  }
  size_t i = 0;
  for (auto _ : state) {
    auto peer = cache.lookup(macs[i]);
    benchmark::DoNotOptimize(peer);
    i = (i + 7919) % macs.size();
  }
}
BENCHMARK(BM_SwitchMacLookup);

// An established flow: parse the frame's 5-tuple, hit the cache.
void BM_SwitchFlowLookup(benchmark::State& state) {
  Bytes f = broadcast_frame(kFrameSize);
  f[12] = 0x08;
  f[13] = 0x00;
  const uint8_t ip[20] = {0x45, 0, 0x05, 0x9c, 0, 0, 0x40, 0,  64, 17,
                          0,    0, 10,   32,   0, 1, 10,   32, 0,  2};
  std::copy(ip, ip + 20, f.begin() + 14);
  uint32_t sum = 0;
  for (size_t i = 0; i < 20; i += 2) sum += uint32_t{ip[i]} << 8 | ip[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  f[24] = static_cast<uint8_t>(~sum >> 8);
  f[25] = static_cast<uint8_t>(~sum);
  FlowCache cache;
  for (uint16_t p = 0; p < 1000; ++p) {
    cache.insert(
        FlowKey{Ipv4::from_octets(10, 32, 0, 1), Ipv4::from_octets(10, 32, 0, 2), 17, p, 80},
        FlowDirection::kEgress, true);
  }
  auto key = flow_of(f);
  if (!key) {
    state.SkipWithError("not a flow");
    return;
  }
  cache.insert(*key, FlowDirection::kEgress, true);
  for (auto _ : state) {
    auto flow = flow_of(f);
    auto hit = cache.lookup(*flow, FlowDirection::kEgress);
    benchmark::DoNotOptimize(hit);
  }
}
BENCHMARK(BM_SwitchFlowLookup);

}  // namespace
}  // namespace loom::dataplane::testing

int main(int argc, char** argv) {
  return loom::bench::run_with_ratios(
      argc, argv, "Ratios of CPU time per 1450-byte frame",
      {
          {"BM_EncapSeal/fastdp_aes256gcm", "BM_Reference_RawAeadSeal/aes256gcm"},
          {"BM_OpenDecap/fastdp_aes256gcm", "BM_Reference_RawAeadOpen/aes256gcm"},
          {"BM_EncapSeal/fastdp_chacha20poly1305", "BM_Reference_RawAeadSeal/chacha20poly1305"},
          {"BM_OpenDecap/fastdp_chacha20poly1305", "BM_Reference_RawAeadOpen/chacha20poly1305"},
          {"BM_EncapSeal/sleeve_secretbox", "BM_Reference_RawSecretboxSeal"},
          {"BM_OpenDecap/sleeve_secretbox", "BM_Reference_RawSecretboxOpen"},
          {"BM_EncapSeal/fastdp_aes256gcm", "BM_EncapSeal/fastdp_plain"},
          {"BM_OpenDecap/fastdp_aes256gcm", "BM_OpenDecap/fastdp_plain"},
          {"BM_EncapSeal/sleeve_secretbox", "BM_EncapSeal/sleeve_plain"},
          {"BM_OpenDecap/sleeve_secretbox", "BM_OpenDecap/sleeve_plain"},
      });
}
