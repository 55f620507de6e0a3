// Sealed data plane traffic, attacked on the wire between two peers: every
// replayed, corrupted, truncated, forged or wrongly keyed packet is dropped
// and counted by reason at the receiving switch, never delivered to a pod;
// reordering inside the replay window is accepted. fastdp (ESP in UDP 4500)
// and sleeve (secretbox on 6783) alike.
#include <gtest/gtest.h>

#include "tests/dataplane/fake_pair.h"

namespace loom::dataplane::testing {
namespace {

using namespace std::chrono_literals;

crypto::SessionKey key(uint8_t fill) {
  crypto::SessionKey k;
  k.bytes.fill(fill);
  return k;
}

DataPlaneConfig only(const char* overlay) {
  DataPlaneConfig c;
  c.overlays = {overlay};
  if (!crypto::esp_cipher_available(c.esp_cipher))
    c.esp_cipher = crypto::EspCipher::kChaCha20Poly1305;
  return c;
}

struct Case {
  const char* overlay;
  uint16_t port;       // where sealed data goes
  size_t min_size;     // the smallest packet the receiver can take apart
  size_t sealed_from;  // offset of the authenticated bytes (after SPI / sender name)
  const char* replayed;
};

const Case kFastdp{"fastdp", 4500, 34, 8, "replayed"};
const Case kSleeve{"sleeve", 6783, 6 + 24, 6, "duplicate"};

class SealedTraffic : public ::testing::TestWithParam<Case> {
 protected:
  SealedTraffic() : pair_(only(GetParam().overlay), key(7)) {
    pair_.wire.capture = true;
    pair_.wire.run_for(1s);
  }

  double rejected(const char* reason) {
    return pair_.b_host().metric("loom_dataplane_rejected_packets_total",
                                 {{"overlay", GetParam().overlay}, {"reason", reason}});
  }
  // Sends one frame from A's pod; returns the datagram that carried it
  // (held back from B when hold is set).
  Datagram send_frame(uint8_t fill, bool hold = false) {
    pair_.wire.sent.clear();
    if (hold) {
      pair_.wire.filter = [&](Datagram& d) {
        return !(d.to.port == GetParam().port && d.payload.size() > 300);
      };
    }
    pair_.a_host().port.from_pod(broadcast_frame(300, 1, fill));
    pair_.wire.run_for(10ms);
    pair_.wire.filter = nullptr;
    for (const Datagram& d : pair_.wire.sent) {
      if (d.to.port == GetParam().port && d.payload.size() > 300) return d;
    }
    ADD_FAILURE() << "no data datagram seen";
    return {};
  }
  uint64_t delivered() { return pair_.b_host().port.delivered; }

  FakePair pair_;
};

TEST_P(SealedTraffic, GenuineFramesPassAndReplaysAreRefused) {
  ASSERT_TRUE(pair_.established());
  const uint64_t before = delivered();
  const Datagram d = send_frame(1);
  EXPECT_EQ(delivered(), before + 1);
  for (int i = 0; i < 3; ++i) pair_.wire.deliver(d);
  EXPECT_EQ(delivered(), before + 1);
  EXPECT_EQ(rejected(GetParam().replayed), 3);
}

// Corrupted copies first (a corrupted packet must not move the window),
// then the genuine one, which still opens.
TEST_P(SealedTraffic, EveryCorruptedByteIsRefused) {
  const Datagram d = send_frame(2, true);
  const uint64_t before = delivered();
  size_t tried = 0;
  for (size_t i = GetParam().sealed_from; i < d.payload.size(); i += 7) {
    Datagram bad = d;
    bad.payload[i] ^= 0x01;
    pair_.wire.deliver(bad);
    ++tried;
  }
  EXPECT_EQ(delivered(), before);
  EXPECT_EQ(rejected("auth_failed"), static_cast<double>(tried));
  pair_.wire.deliver(d);
  EXPECT_EQ(delivered(), before + 1);
  send_frame(3);
  EXPECT_EQ(delivered(), before + 2);
}

TEST_P(SealedTraffic, TruncatedPacketsAreRefused) {
  const Datagram d = send_frame(4, true);
  const uint64_t before = delivered();
  for (size_t n : {size_t{0}, size_t{3}, GetParam().min_size - 1, d.payload.size() - 1}) {
    Datagram cut = d;
    cut.payload.resize(n);
    pair_.wire.deliver(cut);
  }
  EXPECT_EQ(delivered(), before);
  double refused = 0;
  for (const auto& s : pair_.b_host().metrics().snapshot()) {
    if (s.name == "loom_dataplane_rejected_packets_total" ||
        (s.name == "loom_dataplane_dropped_frames_total" && s.labels[0].second == "bad_datagram")) {
      refused += s.value;
    }
  }
  EXPECT_EQ(refused, 4);
  EXPECT_GE(rejected("truncated") + rejected("auth_failed"), 2);
}

TEST_P(SealedTraffic, ReorderingInsideTheWindowIsAcceptedOnce) {
  // Hold three datagrams, then deliver them backwards, then again.
  std::vector<Datagram> held;
  for (uint8_t i = 0; i < 3; ++i) held.push_back(send_frame(10 + i, true));
  ASSERT_EQ(held.size(), 3u);
  const uint64_t before = delivered();
  for (auto it = held.rbegin(); it != held.rend(); ++it) pair_.wire.deliver(*it);
  EXPECT_EQ(delivered(), before + 3);
  for (const Datagram& d : held) pair_.wire.deliver(d);
  EXPECT_EQ(delivered(), before + 3);
  EXPECT_EQ(rejected(GetParam().replayed), 3);
}

INSTANTIATE_TEST_SUITE_P(Overlays, SealedTraffic, ::testing::Values(kFastdp, kSleeve),
                         [](const auto& test) { return std::string(test.param.overlay); });

// The two ends hold different session keys (a wrong password): nothing
// opens, so the encrypted overlay never establishes and no frame arrives.
TEST(SealedTrafficWrongKey, NothingOpensUnderAnotherKey) {
  for (const char* overlay : {"fastdp", "sleeve"}) {
    FakePair pair(only(overlay), key(7), key(8));
    pair.wire.run_for(2s);
    EXPECT_FALSE(pair.established()) << overlay;
    pair.a_host().port.from_pod(broadcast_frame(300));
    pair.wire.run_for(10ms);
    EXPECT_EQ(pair.b_host().port.delivered, 0u) << overlay;
    EXPECT_GT(pair.b_host().metric("loom_dataplane_rejected_packets_total",
                                   {{"overlay", overlay}, {"reason", "auth_failed"}}),
              0)
        << overlay;
  }
}

// ESP on 4500 for an SPI nobody holds, and plain VXLAN from a peer we hold
// an SA with: both refused.
TEST(SealedTrafficForgery, UnknownSpiAndPlainVxlanFromAnEncryptedPeerAreRefused) {
  FakePair pair(only("fastdp"), key(7));
  pair.wire.run_for(1s);
  ASSERT_TRUE(pair.established());
  Bytes forged(100, 0x11);  // SPI 0x11111111
  pair.wire.deliver(Datagram{Endpoint{pair.a_host().address(), 4500},
                             Endpoint{pair.b_host().address(), 4500}, forged});
  EXPECT_EQ(pair.b_host().metric("loom_dataplane_rejected_packets_total",
                                 {{"overlay", "fastdp"}, {"reason", "wrong_spi"}}),
            1);
  // A well-formed VXLAN packet (VNI 1 | 2 << 12) in the clear.
  Bytes vxlan = {0x08, 0, 0, 0, 0x00, 0x20, 0x01, 0};
  const Bytes frame = broadcast_frame(100);
  vxlan.insert(vxlan.end(), frame.begin(), frame.end());
  pair.wire.deliver(Datagram{Endpoint{pair.a_host().address(), 6784},
                             Endpoint{pair.b_host().address(), 6784}, vxlan});
  EXPECT_EQ(pair.b_host().metric("loom_dataplane_dropped_frames_total",
                                 {{"reason", "plaintext_from_encrypted_peer"}}),
            1);
  EXPECT_EQ(pair.b_host().port.delivered, 0u);
}

// Unencrypted, the same VXLAN packet is a frame from A's pod.
TEST(PlainTraffic, VxlanFromAKnownPeerIsDelivered) {
  FakePair pair(only("fastdp"));
  pair.wire.run_for(1s);
  ASSERT_TRUE(pair.established());
  Bytes vxlan = {0x08, 0, 0, 0, 0x00, 0x20, 0x01, 0};
  const Bytes frame = broadcast_frame(100);
  vxlan.insert(vxlan.end(), frame.begin(), frame.end());
  pair.wire.deliver(Datagram{Endpoint{pair.a_host().address(), 6784},
                             Endpoint{pair.b_host().address(), 6784}, vxlan});
  EXPECT_EQ(pair.b_host().port.delivered, 1u);
  EXPECT_EQ(pair.b_host().port.last, frame);
}

}  // namespace
}  // namespace loom::dataplane::testing
