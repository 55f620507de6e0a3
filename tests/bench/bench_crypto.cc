// The data plane's sealing, per 1,450-byte frame: ESP with AES-256-GCM and
// with ChaCha20-Poly1305 (seal; open with its replay window), and sleeve's
// secretbox (seal; open with its window).
//
// Each is measured beside references in the same run: libsodium's raw AEAD
// on the same bytes (what any implementation pays), a memcpy of the frame
// and the plain VXLAN encapsulation of model/wire (what the unsealed path
// pays). The table of ratios printed at the end is the figure to read;
// the nanoseconds depend on the machine.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ostream>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <sodium.h>

#include "model/crypto/esp.h"
#include "model/crypto/sleeve_crypto.h"
#include "model/wire/vxlan_frame.h"
#include "tests/bench/ratio_reporter.h"
#include "tests/bench/reference_crypto.h"

namespace loom::crypto {
namespace {

constexpr size_t kFrameSize = 1450;
constexpr size_t kPool = 1024;  // distinct packets for the open benchmarks

Bytes frame() {
  Bytes f(kFrameSize);
  for (size_t i = 0; i < f.size(); ++i) f[i] = static_cast<uint8_t>(i * 31 + 7);
  return f;
}

EspSaConfig esp_config(EspCipher cipher) {
  EspSaConfig c;
  c.spi = 0x1000;
  c.cipher = cipher;
  c.key.key.fill(0x42);
  c.key.salt = {1, 2, 3, 4};
  return c;
}

SessionKey session_key() {
  SessionKey k;
  k.bytes.fill(0x17);
  return k;
}

bool skip_unavailable(benchmark::State& state, EspCipher cipher) {
  if (esp_cipher_available(cipher)) return false;
  state.SkipWithError("AES-256-GCM needs AES-NI and PCLMUL");
  return true;
}

// --- References -------------------------------------------------------------

void BM_Reference_Memcpy(benchmark::State& state) {
  const Bytes in = frame();
  Bytes out(kFrameSize);
  for (auto _ : state) {
    std::memcpy(out.data(), in.data(), kFrameSize);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kFrameSize));
}
BENCHMARK(BM_Reference_Memcpy);

void BM_Reference_VxlanEncap(benchmark::State& state) {
  const Bytes in = frame();
  wire::VxlanTunnel t;
  t.src_mac = *wire::MacAddress::parse("02:00:00:00:00:01");
  t.dst_mac = *wire::MacAddress::parse("02:00:00:00:00:02");
  t.src_ip = Ipv4::from_octets(192, 168, 77, 1);
  t.dst_ip = Ipv4::from_octets(192, 168, 77, 2);
  t.vni = 42;
  Bytes out(wire::kVxlanOverhead + kFrameSize);
  uint16_t id = 0;
  for (auto _ : state) {
    auto written = wire::vxlan_encap(t, id++, in, out);
    benchmark::DoNotOptimize(written);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kFrameSize));
}
BENCHMARK(BM_Reference_VxlanEncap);

// libsodium alone (tests/bench/reference_crypto.h).
LOOM_REFERENCE_CRYPTO_BENCHMARKS();

// --- Ours -------------------------------------------------------------------

// A whole ESP packet per frame: header, IV, copy, padding, AEAD, and the
// returned buffer.
void BM_EspSeal(benchmark::State& state, EspCipher cipher) {
  if (skip_unavailable(state, cipher)) return;
  const Bytes in = frame();
  EspSa sa = *EspSa::create(esp_config(cipher));
  for (auto _ : state) {
    auto packet = sa.seal(in, kEspNextHeaderUdp);
    benchmark::DoNotOptimize(packet);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kFrameSize));
}
BENCHMARK_CAPTURE(BM_EspSeal, aes256gcm, EspCipher::kAes256Gcm);
BENCHMARK_CAPTURE(BM_EspSeal, chacha20poly1305, EspCipher::kChaCha20Poly1305);

// Opening distinct packets in order (each must pass the replay window); a
// fresh receiving SA every kPool packets, which costs a copy of the SA.
void BM_EspOpen(benchmark::State& state, EspCipher cipher) {
  if (skip_unavailable(state, cipher)) return;
  const EspSaConfig config = esp_config(cipher);
  EspSa sender = *EspSa::create(config);
  const EspSa pristine = *EspSa::create(config);
  std::vector<Bytes> packets;
  for (size_t i = 0; i < kPool; ++i) packets.push_back(*sender.seal(frame(), kEspNextHeaderUdp));
  EspSa receiver = pristine;
  size_t next = 0;
  for (auto _ : state) {
    if (next == kPool) {
      receiver = pristine;
      next = 0;
    }
    auto opened = receiver.open(packets[next++]);
    if (!opened) state.SkipWithError(to_string(opened.reason()));
    benchmark::DoNotOptimize(opened);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kFrameSize));
}
BENCHMARK_CAPTURE(BM_EspOpen, aes256gcm, EspCipher::kAes256Gcm);
BENCHMARK_CAPTURE(BM_EspOpen, chacha20poly1305, EspCipher::kChaCha20Poly1305);

void BM_SleeveSeal(benchmark::State& state) {
  const Bytes in = frame();
  SleeveEncryptor enc(session_key(), true, false);
  for (auto _ : state) {
    auto sealed = enc.seal(in);
    benchmark::DoNotOptimize(sealed);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kFrameSize));
}
BENCHMARK(BM_SleeveSeal);

void BM_SleeveOpen(benchmark::State& state) {
  SleeveEncryptor enc(session_key(), true, false);
  std::vector<Bytes> sealed;
  for (size_t i = 0; i < kPool; ++i) sealed.push_back(*enc.seal(frame()));
  SleeveDecryptor dec(session_key(), false);
  size_t next = 0;
  for (auto _ : state) {
    if (next == kPool) {
      dec = SleeveDecryptor(session_key(), false);
      next = 0;
    }
    auto opened = dec.open(sealed[next++]);
    if (!opened) state.SkipWithError(to_string(opened.reason()));
    benchmark::DoNotOptimize(opened);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kFrameSize));
}
BENCHMARK(BM_SleeveOpen);

}  // namespace
}  // namespace loom::crypto

int main(int argc, char** argv) {
  return loom::bench::run_with_ratios(
      argc, argv, "Ratios of CPU time per 1450-byte frame",
      {
          {"BM_EspSeal/aes256gcm", "BM_Reference_RawAeadSeal/aes256gcm"},
          {"BM_EspOpen/aes256gcm", "BM_Reference_RawAeadOpen/aes256gcm"},
          {"BM_EspSeal/chacha20poly1305", "BM_Reference_RawAeadSeal/chacha20poly1305"},
          {"BM_EspOpen/chacha20poly1305", "BM_Reference_RawAeadOpen/chacha20poly1305"},
          {"BM_SleeveSeal", "BM_Reference_RawSecretboxSeal"},
          {"BM_SleeveOpen", "BM_Reference_RawSecretboxOpen"},
          {"BM_EspSeal/aes256gcm", "BM_Reference_VxlanEncap"},
          {"BM_EspSeal/chacha20poly1305", "BM_Reference_VxlanEncap"},
          {"BM_SleeveSeal", "BM_Reference_VxlanEncap"},
          {"BM_EspSeal/aes256gcm", "BM_Reference_Memcpy"},
          {"BM_EspSeal/chacha20poly1305", "BM_Reference_Memcpy"},
          {"BM_SleeveSeal", "BM_Reference_Memcpy"},
      });
}
