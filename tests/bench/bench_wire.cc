// The codecs of model/wire on the data plane's hot path: VXLAN encap and
// decap of a full-size inner frame, IPv4 decode, the Internet checksum.
#include <cstdint>
#include <vector>

#include <benchmark/benchmark.h>

#include "model/wire/checksum.h"
#include "model/wire/ipv4.h"
#include "model/wire/vxlan_frame.h"

namespace loom::wire {
namespace {

constexpr size_t kInnerFrameSize = 1450;

// An inner Ethernet frame of n bytes: header, then filler.
Bytes inner_frame(size_t n) {
  Bytes frame(n);
  for (size_t i = 0; i < n; ++i) frame[i] = static_cast<uint8_t>(i * 31 + 7);
  frame[12] = 0x08;
  frame[13] = 0x00;
  return frame;
}

VxlanTunnel tunnel(UdpChecksum udp_checksum) {
  VxlanTunnel t;
  t.src_mac = *MacAddress::parse("02:00:00:00:00:01");
  t.dst_mac = *MacAddress::parse("02:00:00:00:00:02");
  t.src_ip = Ipv4::from_octets(192, 168, 77, 1);
  t.dst_ip = Ipv4::from_octets(192, 168, 77, 2);
  t.src_port = 49171;
  t.vni = 42;
  t.udp_checksum = udp_checksum;
  return t;
}

UdpChecksum checksum_arg(const benchmark::State& state) {
  return state.range(0) != 0 ? UdpChecksum::kCompute : UdpChecksum::kNone;
}

// Encap (outer headers around a copy of the inner frame, IPv4 checksum, UDP
// checksum when asked), then decap (every layer validated) back to the
// inner frame. Bytes processed counts the inner frame once per round trip.
void BM_VxlanEncapDecap(benchmark::State& state) {
  const Bytes inner = inner_frame(kInnerFrameSize);
  const VxlanTunnel t = tunnel(checksum_arg(state));
  Bytes buffer(kVxlanOverhead + kInnerFrameSize);
  uint16_t id = 0;
  for (auto _ : state) {
    auto written = vxlan_encap(t, id++, inner, buffer);
    auto frame = vxlan_decap(ByteView(buffer.data(), *written), kVxlanPort);
    if (!frame) state.SkipWithError(frame.error().message.c_str());
    benchmark::DoNotOptimize(frame->inner_frame().data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kInnerFrameSize));
}
BENCHMARK(BM_VxlanEncapDecap)->ArgName("udp_checksum")->Arg(0)->Arg(1);

void BM_VxlanEncap(benchmark::State& state) {
  const Bytes inner = inner_frame(kInnerFrameSize);
  const VxlanTunnel t = tunnel(checksum_arg(state));
  Bytes buffer(kVxlanOverhead + kInnerFrameSize);
  uint16_t id = 0;
  for (auto _ : state) {
    auto written = vxlan_encap(t, id++, inner, buffer);
    benchmark::DoNotOptimize(written);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kInnerFrameSize));
}
BENCHMARK(BM_VxlanEncap)->ArgName("udp_checksum")->Arg(0)->Arg(1);

// Encap with the inner frame already in place (read straight into the
// buffer after kVxlanOverhead bytes): no copy, headers only.
void BM_VxlanEncapInPlace(benchmark::State& state) {
  const Bytes inner = inner_frame(kInnerFrameSize);
  const VxlanTunnel t = tunnel(checksum_arg(state));
  Bytes buffer(kVxlanOverhead + kInnerFrameSize);
  std::copy(inner.begin(), inner.end(), buffer.begin() + kVxlanOverhead);
  const ByteView in_place(buffer.data() + kVxlanOverhead, kInnerFrameSize);
  uint16_t id = 0;
  for (auto _ : state) {
    auto written = vxlan_encap(t, id++, in_place, buffer);
    benchmark::DoNotOptimize(written);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kInnerFrameSize));
}
BENCHMARK(BM_VxlanEncapInPlace)->ArgName("udp_checksum")->Arg(0)->Arg(1);

void BM_VxlanDecap(benchmark::State& state) {
  const Bytes inner = inner_frame(kInnerFrameSize);
  Bytes buffer(kVxlanOverhead + kInnerFrameSize);
  (void)vxlan_encap(tunnel(checksum_arg(state)), 1, inner, buffer);
  for (auto _ : state) {
    auto frame = vxlan_decap(buffer, kVxlanPort);
    if (!frame) state.SkipWithError(frame.error().message.c_str());
    benchmark::DoNotOptimize(frame);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kInnerFrameSize));
}
BENCHMARK(BM_VxlanDecap)->ArgName("udp_checksum")->Arg(0)->Arg(1);

void BM_Ipv4Decode(benchmark::State& state) {
  Bytes buffer(kVxlanOverhead + kInnerFrameSize);
  (void)vxlan_encap(tunnel(UdpChecksum::kNone), 1, inner_frame(kInnerFrameSize), buffer);
  const ByteView packet = ByteView(buffer).subview(EthernetFrame::kHeaderSize);
  for (auto _ : state) {
    auto ip = Ipv4Packet::decode(packet);
    benchmark::DoNotOptimize(ip);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Ipv4Decode);

void BM_InternetChecksum(benchmark::State& state) {
  const Bytes data = inner_frame(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    uint16_t sum = internet_checksum(data);
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_InternetChecksum)->Arg(20)->Arg(64)->Arg(1450)->Arg(9000);

}  // namespace
}  // namespace loom::wire

BENCHMARK_MAIN();
