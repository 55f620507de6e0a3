#include "model/mesh/handshake.h"

#include <string>

#include <gtest/gtest.h>

namespace loom::mesh {
namespace {

using Status = Handshake::Status;

HandshakeConfig config(uint64_t name, std::string nickname, PeerUID uid, bool outbound) {
  HandshakeConfig c;
  c.name = PeerName(name);
  c.nickname = std::move(nickname);
  c.uid = uid;
  c.short_id = static_cast<ShortID>(name & 0xFFF);
  c.outbound = outbound;
  c.overlays = "fastdp sleeve";
  return c;
}

HandshakeConfig dialler(std::optional<std::string> password = std::nullopt) {
  auto c = config(0xAA0000000001, "alpha", 111, true);
  c.password = std::move(password);
  c.trust_remote = true;
  return c;
}

HandshakeConfig listener(std::optional<std::string> password = std::nullopt) {
  auto c = config(0xBB0000000002, "beta", 222, false);
  c.password = std::move(password);
  return c;
}

void feed_in_chunks(Handshake& h, const Bytes& bytes, size_t chunk) {
  for (size_t at = 0; at < bytes.size(); at += chunk) h.feed(ByteView(bytes).subview(at, chunk));
}

// Carries each side's output to the other, chunk bytes at a time, until
// neither has anything more to say. Records what went each way.
struct Wire {
  Bytes a_to_b, b_to_a;
};
Wire pump(Handshake& a, Handshake& b, size_t chunk) {
  Wire wire;
  for (int round = 0; round < 100; ++round) {
    Bytes ab = a.take_output();
    Bytes ba = b.take_output();
    if (ab.empty() && ba.empty()) break;
    wire.a_to_b.insert(wire.a_to_b.end(), ab.begin(), ab.end());
    wire.b_to_a.insert(wire.b_to_a.end(), ba.begin(), ba.end());
    feed_in_chunks(b, ab, chunk);
    feed_in_chunks(a, ba, chunk);
  }
  return wire;
}

struct Pair {
  Random ra{1}, rb{2};
  Handshake a, b;
  Pair(HandshakeConfig ca, HandshakeConfig cb) : a(std::move(ca), ra), b(std::move(cb), rb) {}
};

void expect_messages_both_ways(MessageChannel& a, MessageChannel& b) {
  for (int i = 0; i < 3; ++i) {
    const Bytes payload(static_cast<size_t>(100 * i), static_cast<uint8_t>(i));
    auto ab = a.encode(ProtocolTag::kGossip, payload);
    ASSERT_TRUE(ab.ok());
    auto got = b.feed(*ab);
    ASSERT_TRUE(got.ok()) << got.error().message;
    ASSERT_EQ(got->size(), 1u);
    EXPECT_EQ((*got)[0].tag, ProtocolTag::kGossip);
    EXPECT_EQ((*got)[0].payload, payload);

    auto ba = b.encode(ProtocolTag::kHeartbeat, {});
    ASSERT_TRUE(ba.ok());
    auto back = a.feed(*ba);
    ASSERT_TRUE(back.ok()) << back.error().message;
    ASSERT_EQ(back->size(), 1u);
    EXPECT_EQ((*back)[0].tag, ProtocolTag::kHeartbeat);
    EXPECT_TRUE((*back)[0].payload.empty());
  }
}

class HandshakeChunking : public ::testing::TestWithParam<std::tuple<bool, size_t>> {};

TEST_P(HandshakeChunking, SucceedsAndCarriesMessagesBothWays) {
  const auto [encrypted, chunk] = GetParam();
  std::optional<std::string> password;
  if (encrypted) password = "correct horse battery staple";
  Pair p(dialler(password), listener(password));
  pump(p.a, p.b, chunk);
  ASSERT_EQ(p.a.status(), Status::kSucceeded) << p.a.error().reason;
  ASSERT_EQ(p.b.status(), Status::kSucceeded) << p.b.error().reason;

  const HandshakeResult& ra = p.a.result();
  const HandshakeResult& rb = p.b.result();
  EXPECT_EQ(ra.version, 2);
  EXPECT_EQ(rb.version, 2);
  EXPECT_EQ(ra.connection_uid, rb.connection_uid);
  EXPECT_EQ(ra.connection_uid, p.a.local_conn_id() ^ p.b.local_conn_id());
  EXPECT_EQ(ra.session_key.has_value(), encrypted);
  if (encrypted) {
    EXPECT_EQ(*ra.session_key, *rb.session_key);
  }

  // Each learnt the other's identity.
  EXPECT_EQ(ra.remote.name, PeerName(0xBB0000000002));
  EXPECT_EQ(ra.remote.nickname, "beta");
  EXPECT_EQ(ra.remote.uid, 222u);
  EXPECT_EQ(ra.remote.short_id, ShortID{2});
  EXPECT_EQ(ra.remote.conn_id, p.b.local_conn_id());
  EXPECT_EQ(ra.remote.overlays, "fastdp sleeve");
  EXPECT_FALSE(ra.remote.trusted);  // beta does not trust alpha
  EXPECT_EQ(rb.remote.name, PeerName(0xAA0000000001));
  EXPECT_EQ(rb.remote.nickname, "alpha");
  EXPECT_TRUE(rb.remote.trusted);
  EXPECT_EQ(rb.features.at("PeerNameFlavour"), "mac");

  MessageChannel ca = p.a.take_channel();
  MessageChannel cb = p.b.take_channel();
  EXPECT_EQ(ca.encrypted(), encrypted);
  expect_messages_both_ways(ca, cb);
}

INSTANTIATE_TEST_SUITE_P(EveryChunking, HandshakeChunking,
                         ::testing::Combine(::testing::Bool(),
                                            ::testing::Values(size_t{1}, size_t{2}, size_t{7},
                                                              size_t{33}, size_t{1} << 20)));

TEST(Handshake, BytesAfterTheFeaturesAreKeptForTheChannel) {
  Pair p(dialler("pw"), listener("pw"));
  // Run b to completion first, then hand a everything b says at once,
  // followed by b's first message in the same chunk.
  Bytes a_out = p.a.take_output();
  p.b.feed(a_out);
  Bytes b_out = p.b.take_output();
  p.a.feed(b_out);
  p.b.feed(p.a.take_output());
  ASSERT_EQ(p.b.status(), Status::kSucceeded);
  MessageChannel cb = p.b.take_channel();
  Bytes chunk = p.b.take_output();
  auto first = cb.encode(ProtocolTag::kOverlayControlMsg, Bytes{1, 2});
  chunk.insert(chunk.end(), first->begin(), first->end());
  p.a.feed(chunk);
  ASSERT_EQ(p.a.status(), Status::kSucceeded) << p.a.error().reason;
  MessageChannel ca = p.a.take_channel();
  auto held = ca.feed({});
  ASSERT_TRUE(held.ok());
  ASSERT_EQ(held->size(), 1u);
  EXPECT_EQ((*held)[0].tag, ProtocolTag::kOverlayControlMsg);
  EXPECT_EQ((*held)[0].payload, (Bytes{1, 2}));
}

void expect_failure(const Handshake& h, HandshakeFailure kind, const std::string& reason) {
  ASSERT_EQ(h.status(), Status::kFailed);
  EXPECT_EQ(h.error().kind, kind) << to_string(h.error().kind) << ": " << h.error().reason;
  EXPECT_EQ(h.error().reason, reason);
}

TEST(Handshake, WrongPasswordFailsToOpenTheFeatures) {
  Pair p(dialler("one"), listener("two"));
  pump(p.a, p.b, 1 << 20);
  expect_failure(p.a, HandshakeFailure::kDecryptFailed, "Unable to decrypt TCP msg");
  expect_failure(p.b, HandshakeFailure::kDecryptFailed, "Unable to decrypt TCP msg");
}

TEST(Handshake, PasswordOnOneSideOnlyFailsBothInWeavesWords) {
  Pair p(dialler("secret"), listener());
  pump(p.a, p.b, 1 << 20);
  expect_failure(p.a, HandshakeFailure::kEncryptionExpected,
                 "password specified, but peer requested an unencrypted connection");
  expect_failure(p.b, HandshakeFailure::kEncryptionUnexpected,
                 "no password specificed, but peer requested an encrypted connection");
}

TEST(Handshake, EmptyPasswordMeansNone) {
  Pair p(dialler(""), listener());
  pump(p.a, p.b, 1 << 20);
  EXPECT_EQ(p.a.status(), Status::kSucceeded);
  EXPECT_EQ(p.b.status(), Status::kSucceeded);
}

TEST(Handshake, VersionRangesThatDoNotMeet) {
  auto theirs = listener();
  theirs.min_version = 3;
  theirs.max_version = 3;
  Pair p(dialler(), theirs);
  pump(p.a, p.b, 1 << 20);
  expect_failure(p.a, HandshakeFailure::kVersionMismatch,
                 "remote version range [3,3] is incompatible with ours [1,2]");
  expect_failure(p.b, HandshakeFailure::kVersionMismatch,
                 "remote version range [1,2] is incompatible with ours [3,3]");
}

TEST(Handshake, VersionOneIsNotSpoken) {
  auto old = listener();
  old.max_version = 1;
  Pair p(dialler(), old);
  pump(p.a, p.b, 1 << 20);
  ASSERT_EQ(p.a.status(), Status::kFailed);
  EXPECT_EQ(p.a.error().kind, HandshakeFailure::kUnsupportedVersion);
}

TEST(Handshake, GarbageSpeakerIsNotWeave) {
  Random r(1);
  Handshake h(listener(), r);
  EXPECT_EQ(h.feed(ByteView(std::string_view("GET / HTTP/1.1\r\n"))), Status::kFailed);
  expect_failure(h, HandshakeFailure::kBadHeader,
                 "remote protocol header not recognised: [71 69 84 32 47]");
  // Only our header went out.
  EXPECT_EQ(h.take_output().size(), kProtocolHeaderSize);
  EXPECT_EQ(h.feed(Bytes{1, 2, 3}), Status::kFailed);  // finished: ignored
}

Bytes header_and_flag(uint8_t flag) {
  const auto header = ProtocolHeader{1, 2}.encode();
  Bytes out(header.begin(), header.end());
  out.push_back(flag);
  return out;
}

TEST(Handshake, BadEncryptionFlag) {
  Random r(1);
  Handshake h(listener(), r);
  h.feed(header_and_flag(5));
  expect_failure(h, HandshakeFailure::kBadEncryptionFlag, "Bad encryption flag 5");
}

TEST(Handshake, OverLongLengthFailsAsSoonAsItArrives) {
  Random r(1);
  Handshake h(listener(), r);
  Bytes in = header_and_flag(0);
  in.insert(in.end(), {0xFF, 0xFF, 0xFF, 0xFF});
  h.feed(in);
  expect_failure(h, HandshakeFailure::kMessageTooLong,
                 "incoming message exceeds maximum size: 4294967295 > 10485760");
}

// A plaintext peer that sends the features we choose.
Handshake::Status feed_features(Handshake& h, const Features& features) {
  Bytes in = header_and_flag(0);
  auto framed = frame_message(*encode_features(features));
  in.insert(in.end(), framed->begin(), framed->end());
  return h.feed(in);
}

Features remote_features() {
  PeerFeatures p;
  p.name = PeerName(0xCC0000000003);
  p.nickname = "gamma";
  p.uid = 333;
  p.conn_id = 7;
  return make_features(p);
}

TEST(Handshake, MissingRequiredFeature) {
  for (const char* key : {"Name", "NickName", "UID", "ConnID", "PeerNameFlavour"}) {
    Random r(1);
    Handshake h(listener(), r);
    Features f = remote_features();
    f.erase(key);
    feed_features(h, f);
    expect_failure(h, HandshakeFailure::kMissingFeature,
                   std::string("Field ") + key + " is missing");
  }
}

TEST(Handshake, FlavourMismatch) {
  Random r(1);
  Handshake h(listener(), r);
  Features f = remote_features();
  f["PeerNameFlavour"] = "hash";
  feed_features(h, f);
  expect_failure(h, HandshakeFailure::kFlavourMismatch,
                 "Peer name flavour mismatch (ours: 'mac', theirs: 'hash')");
}

TEST(Handshake, UndecodableFeatures) {
  Random r(1);
  Handshake h(listener(), r);
  Bytes in = header_and_flag(0);
  in.insert(in.end(), {0, 0, 0, 1, 0xFF});
  h.feed(in);
  expect_failure(h, HandshakeFailure::kBadFeatures, "features: truncated count");
}

TEST(Handshake, ConnectToSelf) {
  Pair p(dialler(), dialler());
  pump(p.a, p.b, 1 << 20);
  expect_failure(p.a, HandshakeFailure::kConnectToSelf, "cannot connect to ourself");
  expect_failure(p.b, HandshakeFailure::kConnectToSelf, "cannot connect to ourself");
}

TEST(Handshake, NameCollision) {
  auto impostor = dialler();
  impostor.uid = 999;
  impostor.nickname = "other";
  impostor.outbound = false;
  Pair p(dialler(), impostor);
  pump(p.a, p.b, 1 << 20);
  expect_failure(p.a, HandshakeFailure::kNameCollision,
                 "local \"aa:00:00:00:00:01(alpha)\" and remote \"aa:00:00:00:00:01(other)\" "
                 "peer names collision");
  EXPECT_EQ(p.b.error().kind, HandshakeFailure::kNameCollision);
}

std::pair<MessageChannel, MessageChannel> connected(bool encrypted) {
  std::optional<std::string> pw;
  if (encrypted) pw = "pw";
  Pair p(dialler(pw), listener(pw));
  pump(p.a, p.b, 1 << 20);
  EXPECT_EQ(p.a.status(), Status::kSucceeded);
  EXPECT_EQ(p.b.status(), Status::kSucceeded);
  return {p.a.take_channel(), p.b.take_channel()};
}

TEST(MessageChannel, TamperedSealedMessageIsAnError) {
  auto [a, b] = connected(true);
  Bytes m = *a.encode(ProtocolTag::kGossip, Bytes{1, 2, 3});
  m.back() ^= 0x01;
  auto got = b.feed(m);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().message, "Unable to decrypt TCP msg");
  // Dead for good, even for a genuine next message.
  EXPECT_FALSE(b.feed(*a.encode(ProtocolTag::kHeartbeat, {})).ok());
}

TEST(MessageChannel, ReplayedSealedMessageIsAnError) {
  auto [a, b] = connected(true);
  const Bytes m = *a.encode(ProtocolTag::kGossip, Bytes{1});
  ASSERT_TRUE(b.feed(m).ok());
  EXPECT_FALSE(b.feed(m).ok());
}

TEST(MessageChannel, ReorderedSealedMessagesAreAnError) {
  auto [a, b] = connected(true);
  const Bytes first = *a.encode(ProtocolTag::kGossip, Bytes{1});
  const Bytes second = *a.encode(ProtocolTag::kGossip, Bytes{2});
  EXPECT_FALSE(b.feed(second).ok());
  (void)first;
}

TEST(MessageChannel, ManyMessagesInOneChunkAndBlankOnesSkipped) {
  auto [a, b] = connected(false);
  Bytes chunk = *frame_message(Bytes{});  // blank: ignored, as Weave does
  for (uint8_t i = 0; i < 4; ++i) {
    auto m = a.encode(ProtocolTag::kGossipUnicast, Bytes{i});
    chunk.insert(chunk.end(), m->begin(), m->end());
  }
  auto got = b.feed(chunk);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 4u);
  EXPECT_EQ((*got)[3].payload, Bytes{3});
}

TEST(MessageChannel, OverLongIncomingAndOutgoing) {
  auto [a, b] = connected(true);
  auto got = b.feed(Bytes{0x00, 0xA0, 0x00, 0x01});
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().message, "incoming message exceeds maximum size: 10485761 > 10485760");
  // 1 tag byte + 16 tag bytes of the box push this just over the limit.
  auto too_big = a.encode(ProtocolTag::kGossip, Bytes(kMaxTcpMessageSize - 16));
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.error().message, "outgoing message exceeds maximum size: 10485761 > 10485760");
}

TEST(MessageChannel, RefusedOutgoingMessageUsesNoSequenceNumber) {
  auto [a, b] = connected(true);
  EXPECT_FALSE(a.encode(ProtocolTag::kGossip, Bytes(kMaxTcpMessageSize)).ok());
  auto got = b.feed(*a.encode(ProtocolTag::kHeartbeat, {}));
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->size(), 1u);
}

TEST(Handshake, SameSeedsSameBytesOnTheWire) {
  auto run = [](uint64_t seed_a, uint64_t seed_b) {
    Random ra(seed_a), rb(seed_b);
    Handshake a(dialler("pw"), ra), b(listener("pw"), rb);
    Wire wire = pump(a, b, 3);
    auto ma = a.take_channel().encode(ProtocolTag::kGossip, Bytes{1, 2, 3});
    wire.a_to_b.insert(wire.a_to_b.end(), ma->begin(), ma->end());
    return wire;
  };
  const Wire one = run(10, 20), two = run(10, 20), other = run(11, 20);
  EXPECT_EQ(one.a_to_b, two.a_to_b);
  EXPECT_EQ(one.b_to_a, two.b_to_a);
  EXPECT_NE(one.a_to_b, other.a_to_b);
  // b's header and public key depend only on b's seed; its sealed features
  // depend on the session key, hence on a's seed too.
  const size_t clear = kProtocolHeaderSize + 1 + crypto::kPublicKeySize;
  EXPECT_EQ(ByteView(one.b_to_a).subview(0, clear).to_bytes(),
            ByteView(other.b_to_a).subview(0, clear).to_bytes());
  EXPECT_NE(one.b_to_a, other.b_to_a);
}

}  // namespace
}  // namespace loom::mesh
