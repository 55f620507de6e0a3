#include "model/crypto/sleeve_crypto.h"

#include <algorithm>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "model/random.h"
#include "tests/wire/hex.h"

namespace loom::crypto {
namespace {

using wire::testing::from_hex;

SessionKey counting_key(uint8_t first = 0) {
  SessionKey key;
  for (size_t i = 0; i < key.bytes.size(); ++i) key.bytes[i] = static_cast<uint8_t>(first + i);
  return key;
}

Bytes frames(size_t n, uint8_t seed = 1) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 13);
  return b;
}

// --- Layout ---------------------------------------------------------------

TEST(SleeveNonce, IsWeavesUdpLayout) {
  // Outbound sender, DF, sequence 5: polarity bit, no TCP bit, the header.
  EXPECT_EQ(ByteView(udp_nonce(true, kSleeveDfFlag | 5)).to_bytes(),
            from_hex("80000000000000000000000000000000 8000000000000005"));
  EXPECT_EQ(ByteView(udp_nonce(false, 0x0102030405060708)).to_bytes(),
            from_hex("00000000000000000000000000000000 0102030405060708"));
  // Never a TCP nonce (bit 6 of byte 0), whatever the number.
  EXPECT_NE(udp_nonce(true, 5), tcp_nonce(true, 5));
}

// The datagram is the clear 8-byte header, then secretbox under the nonce
// built from it: checked against secretbox_seal (tested on NaCl's own
// vectors) with the nonce written out byte by byte.
TEST(SleeveEncryptor, SealsHeaderThenSecretboxUnderWeavesNonce) {
  SleeveEncryptor plain(counting_key(), /*outbound=*/false, /*df=*/false);
  SleeveEncryptor df(counting_key(), /*outbound=*/false, /*df=*/true);
  const Bytes f = frames(40);
  for (uint64_t seq = 0; seq < 3; ++seq) {
    auto sealed = plain.seal(f);
    ASSERT_TRUE(sealed.ok());
    Nonce nonce{};
    nonce[23] = static_cast<uint8_t>(seq);
    Bytes expected = from_hex("00000000000000");
    expected.push_back(static_cast<uint8_t>(seq));
    const Bytes box = secretbox_seal(counting_key(), nonce, f);
    expected.insert(expected.end(), box.begin(), box.end());
    EXPECT_EQ(*sealed, expected) << seq;
  }
  // The DF encryptor counts on its own, with the DF bit in the header.
  auto sealed = df.seal(f);
  ASSERT_TRUE(sealed.ok());
  Nonce nonce{};
  nonce[16] = 0x80;
  EXPECT_EQ(ByteView(sealed->data(), 8).to_bytes(), from_hex("8000000000000000"));
  EXPECT_EQ(ByteView(*sealed).subview(8).to_bytes(), secretbox_seal(counting_key(), nonce, f));
  EXPECT_EQ(plain.next_sequence(), 3u);
  EXPECT_EQ(df.next_sequence(), 1u);
}

// weave-protocol.md 3.4: 28 (IPv4, UDP) + 6 (sender) [+ 8 + 16 sealed] +
// 14 (frame header) + 14 (inner Ethernet) under a 1500-byte underlay.
TEST(SleeveMtu, IsWeaves1438PlainAnd1414Sealed) {
  EXPECT_EQ(sleeve_packet_overhead(false), 6u);
  EXPECT_EQ(sleeve_packet_overhead(true), 30u);
  EXPECT_EQ(sleeve_overlay_mtu(1500, false), 1438u);
  EXPECT_EQ(sleeve_overlay_mtu(1500, true), 1414u);
  EXPECT_EQ(sleeve_overlay_mtu(9001, true), 8915u);
  EXPECT_EQ(sleeve_overlay_mtu(80, true), 0u);
  // And the encryptor really adds what the arithmetic says: an overlay
  // packet of 1414 bytes in one frame makes a 1472-byte UDP payload,
  // which is 1500 with the IPv4 and UDP headers.
  SleeveEncryptor enc(counting_key(), true, true);
  const size_t frame = kSleeveFrameHeaderSize + kSleeveInnerEthernetSize + 1414;
  const size_t datagram = kSleeveSenderNameSize + enc.seal(frames(frame))->size();
  EXPECT_EQ(datagram + kSleeveUnderlayHeaders, 1500u);
}

// --- Opening ----------------------------------------------------------------

TEST(SleeveDecryptor, OpensWhatThePeerSealedInBothDfModes) {
  // The dialler's encryptors, the listener's decryptor.
  SleeveEncryptor plain(counting_key(), true, false), df(counting_key(), true, true);
  SleeveDecryptor dec(counting_key(), false);
  for (int i = 0; i < 3; ++i) {
    for (SleeveEncryptor* e : {&plain, &df}) {
      const Bytes f = frames(100 + static_cast<size_t>(i));
      auto opened = dec.open(*e->seal(f));
      ASSERT_TRUE(opened.ok()) << to_string(opened.reason());
      EXPECT_EQ(opened->frames, f);
      EXPECT_EQ(opened->df, e->df());
      EXPECT_EQ(opened->sequence, static_cast<uint64_t>(i));
    }
  }
  // Empty: a datagram of only the header and the tag still opens.
  SleeveEncryptor lone(counting_key(), true, false);
  SleeveDecryptor fresh(counting_key(), false);
  auto opened = fresh.open(*lone.seal({}));
  ASSERT_TRUE(opened.ok());
  EXPECT_TRUE(opened->frames.empty());
}

TEST(SleeveDecryptor, OwnDatagramsReflectedBackDoNotOpen) {
  // Both ends believing they dialled (or a datagram sent back to its
  // sender) means the polarity bit is wrong.
  SleeveEncryptor enc(counting_key(), true, false);
  SleeveDecryptor same_side(counting_key(), true);
  EXPECT_EQ(same_side.open(*enc.seal(frames(10))).reason(), SleeveReject::kAuthFailed);
}

TEST(SleeveDecryptor, TcpMessagesUnderTheSameKeyDoNotOpenAsUdp) {
  // SecretboxSender (TCP) message 0 with its 8-byte number in front, as a
  // sleeve header would be: the TCP bit makes the nonces differ.
  SecretboxSender tcp(counting_key(), true);
  Bytes datagram(8, 0);
  const Bytes box = tcp.seal(frames(10));
  datagram.insert(datagram.end(), box.begin(), box.end());
  SleeveDecryptor dec(counting_key(), false);
  EXPECT_EQ(dec.open(datagram).reason(), SleeveReject::kAuthFailed);
}

TEST(SleeveDecryptor, EveryTamperedByteTruncationOrWrongKeyIsRejected) {
  SleeveEncryptor enc(counting_key(), true, false);
  const Bytes sealed = *enc.seal(frames(50));
  SleeveDecryptor dec(counting_key(), false);
  for (size_t i = 0; i < sealed.size(); ++i) {
    Bytes forged = sealed;
    forged[i] ^= 0x01;
    auto opened = dec.open(forged);
    ASSERT_FALSE(opened.ok()) << i;
    // Header (sequence and DF bit, through the nonce), tag and ciphertext alike.
    EXPECT_EQ(opened.reason(), SleeveReject::kAuthFailed) << i;
  }
  for (size_t n = 0; n < sealed.size(); ++n) {
    auto opened = dec.open(ByteView(sealed.data(), n));
    ASSERT_FALSE(opened.ok()) << n;
    EXPECT_EQ(opened.reason(),
              n < kSleeveSealOverhead ? SleeveReject::kTruncated : SleeveReject::kAuthFailed)
        << n;
  }
  SleeveDecryptor wrong_key(counting_key(1), false);
  EXPECT_EQ(wrong_key.open(sealed).reason(), SleeveReject::kAuthFailed);
  // Nothing above moved the window: the genuine datagram opens.
  EXPECT_TRUE(dec.open(sealed).ok());
}

TEST(SleeveDecryptor, DuplicatesAreRefusedAfterAuthentication) {
  SleeveEncryptor enc(counting_key(), true, false);
  SleeveDecryptor dec(counting_key(), false);
  const Bytes a = *enc.seal(frames(10));
  ASSERT_TRUE(dec.open(a).ok());
  EXPECT_EQ(dec.open(a).reason(), SleeveReject::kDuplicate);
  EXPECT_EQ(dec.open(a).reason(), SleeveReject::kDuplicate);
}

TEST(SleeveDecryptor, ReorderedDatagramsAreAcceptedOnce) {
  SleeveEncryptor enc(counting_key(), true, false);
  SleeveDecryptor dec(counting_key(), false);
  std::vector<Bytes> sealed;
  sealed.reserve(5000);
  for (int i = 0; i < 5000; ++i) sealed.push_back(*enc.seal(frames(16, static_cast<uint8_t>(i))));
  Random random(3);
  std::shuffle(sealed.begin(), sealed.end(), random);
  std::set<uint64_t> seen;
  for (const Bytes& d : sealed) {
    auto opened = dec.open(d);
    ASSERT_TRUE(opened.ok()) << to_string(opened.reason());
    seen.insert(opened->sequence);
  }
  EXPECT_EQ(seen.size(), 5000u);
  for (const Bytes& d : sealed) EXPECT_EQ(dec.open(d).reason(), SleeveReject::kDuplicate);
}

TEST(SleeveDecryptor, DfAndNonDfKeepSeparateWindows) {
  SleeveEncryptor plain(counting_key(), true, false), df(counting_key(), true, true);
  SleeveDecryptor dec(counting_key(), false);
  // Both send their number 0; neither is a duplicate of the other.
  EXPECT_TRUE(dec.open(*plain.seal(frames(8))).ok());
  EXPECT_TRUE(dec.open(*df.seal(frames(8))).ok());
}

TEST(SleeveDecryptor, AForgedHighSequenceNumberCannotMoveTheWindow) {
  // Weave's reason for authenticating first: a forged datagram numbered
  // 2^62 would otherwise push every genuine number "too old".
  SleeveDecryptor dec(counting_key(), false);
  Bytes forged = from_hex("4000000000000000");
  forged.resize(100, 0x55);
  EXPECT_EQ(dec.open(forged).reason(), SleeveReject::kAuthFailed);
  EXPECT_EQ(dec.window(false).current_window(), 0u);
  SleeveEncryptor enc(counting_key(), true, false);
  EXPECT_TRUE(dec.open(*enc.seal(frames(8))).ok());
}

TEST(SleeveReject, NamesAreDistinctMetricLabels) {
  std::set<std::string> names;
  for (size_t i = 0; i < kSleeveRejectReasons; ++i) {
    names.insert(to_string(static_cast<SleeveReject>(i)));
  }
  EXPECT_EQ(names.size(), kSleeveRejectReasons);
  EXPECT_EQ(names.count("unknown"), 0u);
}

// --- The window alone (Weave's advanceState) --------------------------------

using Verdict = SleeveWindow::Verdict;
constexpr uint64_t kW = SleeveWindow::kWindowSize;

TEST(SleeveWindow, IsTwoToTheTwentyWide) { EXPECT_EQ(kW, 1048576u); }

TEST(SleeveWindow, AcceptsTheCurrentAndPreviousWindowOnce) {
  SleeveWindow w;
  EXPECT_EQ(w.advance(5), Verdict::kFresh);
  EXPECT_EQ(w.advance(5), Verdict::kDuplicate);
  EXPECT_EQ(w.advance(kW + 7), Verdict::kFresh);  // one window ahead: slides
  EXPECT_EQ(w.current_window(), 1u);
  EXPECT_EQ(w.advance(5), Verdict::kDuplicate);  // now in the previous window, still seen
  EXPECT_EQ(w.advance(6), Verdict::kFresh);      // previous window, unseen
  EXPECT_EQ(w.advance(kW - 1), Verdict::kFresh);
  EXPECT_EQ(w.advance(2 * kW), Verdict::kFresh);  // slides again
  EXPECT_EQ(w.advance(6), Verdict::kTooOld);      // two windows back
  EXPECT_EQ(w.advance(kW + 7), Verdict::kDuplicate);
}

TEST(SleeveWindow, AJumpOfManyWindowsStartsAfresh) {
  // Long packet loss: Weave resets both bitsets and carries on.
  SleeveWindow w;
  EXPECT_EQ(w.advance(1), Verdict::kFresh);
  EXPECT_EQ(w.advance(10 * kW + 3), Verdict::kFresh);
  EXPECT_EQ(w.current_window(), 10u);
  EXPECT_EQ(w.advance(9 * kW + 3), Verdict::kFresh);  // the (empty) previous window
  EXPECT_EQ(w.advance(1), Verdict::kTooOld);
  EXPECT_EQ(w.advance(10 * kW + 3), Verdict::kDuplicate);
}

TEST(SleeveWindow, HowFarBackDependsOnWhereTheHighestFalls) {
  // Highest at the start of window 1: anything in window 0 (up to 2^20
  // back) still counts. At the end of window 1: up to 2^21 - 1 back.
  SleeveWindow early;
  early.advance(kW);
  EXPECT_EQ(early.advance(0), Verdict::kFresh);
  SleeveWindow late;
  late.advance(2 * kW - 1);
  EXPECT_EQ(late.advance(0), Verdict::kFresh);
  late.advance(2 * kW);
  EXPECT_EQ(late.advance(kW - 1), Verdict::kTooOld);
}

}  // namespace
}  // namespace loom::crypto
