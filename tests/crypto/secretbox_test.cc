#include "model/crypto/secretbox.h"

#include <string_view>

#include <gtest/gtest.h>

#include "tests/wire/hex.h"

namespace loom::crypto {
namespace {

using wire::testing::from_hex;

SessionKey key_from_hex(std::string_view hex) {
  SessionKey key;
  const Bytes b = from_hex(hex);
  std::copy(b.begin(), b.end(), key.bytes.begin());
  return key;
}

SessionKey counting_key() {
  SessionKey key;
  for (size_t i = 0; i < key.bytes.size(); ++i) key.bytes[i] = static_cast<uint8_t>(i);
  return key;
}

TEST(TcpNonce, IsWeavesLayout) {
  // Outbound sender, message 5: polarity bit, TCP bit, big-endian sequence.
  EXPECT_EQ(ByteView(tcp_nonce(true, 5)).to_bytes(),
            from_hex("c0000000000000000000000000000000 0000000000000005"));
  EXPECT_EQ(ByteView(tcp_nonce(false, 0x0102030405060708)).to_bytes(),
            from_hex("40000000000000000000000000000000 0102030405060708"));
}

// NaCl's own secretbox test (libsodium test/default/secretbox.c): firstkey,
// its nonce and 131-byte message; the expected tag || ciphertext as NaCl
// prints it, reproduced by an independent Python implementation.
TEST(Secretbox, NaclPublishedVector) {
  const SessionKey key =
      key_from_hex("1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389");
  Nonce nonce{};
  const Bytes n = from_hex("69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37");
  std::copy(n.begin(), n.end(), nonce.begin());
  const Bytes message = from_hex(
      "be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffc"
      "e5ecbaaf33bd751a1ac728d45e6c61296cdc3c01233561f41db66cce314adb31"
      "0e3be8250c46f06dceea3a7fa1348057e2f6556ad6b1318a024a838f21af1fde"
      "048977eb48f59ffd4924ca1c60902e52f0a089bc76897040e082f93776384864"
      "5e0705");
  const Bytes expected = from_hex(
      "f3ffc7703f9400e52a7dfb4b3d3305d9"
      "8e993b9f48681273c29650ba32fc76ce48332ea7164d96a4476fb8c531a1186a"
      "c0dfc17c98dce87b4da7f011ec48c97271d2c20f9b928fe2270d6fb863d51738"
      "b48eeee314a7cc8ab932164548e526ae90224368517acfeabd6bb3732bc0e9da"
      "99832b61ca01b6de56244a9e88d5f9b37973f622a43d14a6599b1f654cb45a74"
      "e355a5");
  EXPECT_EQ(secretbox_seal(key, nonce, message), expected);
  auto opened = secretbox_open(key, nonce, expected);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, message);
}

// Key 00..1f, Weave's nonce for an outbound sender's message 5; computed
// with the independent Python implementation.
TEST(Secretbox, KnownAnswerWithWeaveNonce) {
  const std::string_view text = "Loom mesh control message";
  EXPECT_EQ(secretbox_seal(counting_key(), tcp_nonce(true, 5), ByteView(text)),
            from_hex("1a7afe0dfa6097f2f1a922888adf7c85"
                     "79ec916810e6dbf29b936996c8cf9656a2cc5ee1f493878fa0"));
  // An empty message is just its tag (inbound sender, message 0).
  EXPECT_EQ(secretbox_seal(counting_key(), tcp_nonce(false, 0), ByteView{}),
            from_hex("d35be651c0f7db1162dc65c317d7e953"));
}

TEST(Secretbox, TamperedOrShortBoxFailsToOpen) {
  Bytes box = secretbox_seal(counting_key(), tcp_nonce(true, 0), Bytes{1, 2, 3});
  box[box.size() - 1] ^= 1;
  EXPECT_FALSE(secretbox_open(counting_key(), tcp_nonce(true, 0), box).ok());
  auto short_box = secretbox_open(counting_key(), tcp_nonce(true, 0), Bytes(15));
  ASSERT_FALSE(short_box.ok());
  EXPECT_NE(short_box.error().message.find("shorter than its 16-byte tag"), std::string::npos);
}

TEST(SecretboxSenderReceiver, InOrderBothDirections) {
  // The dialler (outbound) and the listener hold the same key.
  SecretboxSender dialler_tx(counting_key(), true);
  SecretboxReceiver listener_rx(counting_key(), false);
  SecretboxSender listener_tx(counting_key(), false);
  SecretboxReceiver dialler_rx(counting_key(), true);
  for (uint8_t i = 0; i < 5; ++i) {
    const Bytes m{i, 42};
    auto a = listener_rx.open(dialler_tx.seal(m));
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(*a, m);
    auto b = dialler_rx.open(listener_tx.seal(m));
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(*b, m);
  }
  EXPECT_EQ(dialler_tx.next_sequence(), 5u);
  EXPECT_EQ(listener_rx.next_sequence(), 5u);
}

TEST(SecretboxSenderReceiver, DirectionsUseDifferentNonces) {
  SecretboxSender a(counting_key(), true);
  SecretboxSender b(counting_key(), false);
  EXPECT_NE(a.seal(Bytes{1}), b.seal(Bytes{1}));
  // A message reflected back at its sender does not open.
  SecretboxSender tx(counting_key(), true);
  SecretboxReceiver own(counting_key(), false);  // expects the dialler's nonces
  SecretboxReceiver reflected(counting_key(), true);
  const Bytes box = tx.seal(Bytes{9});
  EXPECT_FALSE(reflected.open(box).ok());
  EXPECT_TRUE(own.open(box).ok());
}

TEST(SecretboxSenderReceiver, ReplayReorderAndDropAreErrors) {
  SecretboxSender tx(counting_key(), true);
  const Bytes m0 = tx.seal(Bytes{0});
  const Bytes m1 = tx.seal(Bytes{1});
  const Bytes m2 = tx.seal(Bytes{2});

  SecretboxReceiver replay(counting_key(), false);
  ASSERT_TRUE(replay.open(m0).ok());
  auto again = replay.open(m0);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().message, "Unable to decrypt TCP msg");
  // A failure does not advance the expected number.
  EXPECT_EQ(replay.next_sequence(), 1u);
  EXPECT_TRUE(replay.open(m1).ok());

  SecretboxReceiver reorder(counting_key(), false);
  EXPECT_FALSE(reorder.open(m1).ok());

  SecretboxReceiver drop(counting_key(), false);
  ASSERT_TRUE(drop.open(m0).ok());
  EXPECT_FALSE(drop.open(m2).ok());
}

}  // namespace
}  // namespace loom::crypto
