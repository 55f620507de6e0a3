#include "model/mesh/protocol.h"

#include <string>

#include <gtest/gtest.h>

namespace loom::mesh {
namespace {

Bytes bytes_of(std::string_view s) { return ByteView(s).to_bytes(); }

TEST(ProtocolHeader, EncodesWeaveAndVersions) {
  const auto header = ProtocolHeader{1, 2}.encode();
  EXPECT_EQ(Bytes(header.begin(), header.end()), (Bytes{'w', 'e', 'a', 'v', 'e', 1, 2}));
  auto decoded = ProtocolHeader::decode(header);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->min_version, 1);
  EXPECT_EQ(decoded->max_version, 2);
}

TEST(ProtocolHeader, GarbageIsNotRecognisedInWeavesWords) {
  auto decoded = ProtocolHeader::decode(bytes_of("GET / H"));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().message, "remote protocol header not recognised: [71 69 84 32 47]");
  EXPECT_FALSE(ProtocolHeader::decode(bytes_of("weave")).ok());
}

TEST(NegotiateVersion, PicksTheHighestCommonVersion) {
  EXPECT_EQ(*negotiate_version({1, 2}, {1, 2}), 2);
  EXPECT_EQ(*negotiate_version({1, 2}, {1, 1}), 1);
  EXPECT_EQ(*negotiate_version({2, 2}, {1, 5}), 2);
  auto bad = negotiate_version({1, 2}, {3, 4});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "remote version range [3,4] is incompatible with ours [1,2]");
}

TEST(EncryptionIntro, FlagAndKey) {
  EXPECT_EQ(encode_encryption_intro(std::nullopt), Bytes{0});
  crypto::PublicKey key{};
  key[0] = 0xAB;
  const Bytes intro = encode_encryption_intro(key);
  ASSERT_EQ(intro.size(), 33u);
  EXPECT_EQ(intro[0], 1);
  EXPECT_EQ(intro[1], 0xAB);
}

TEST(Framing, LengthPrefixIsBigEndian) {
  auto framed = frame_message(Bytes{7, 8, 9});
  ASSERT_TRUE(framed.ok());
  EXPECT_EQ(*framed, (Bytes{0, 0, 0, 3, 7, 8, 9}));
  auto too_long = frame_message(Bytes(11), 10);
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().message, "outgoing message exceeds maximum size: 11 > 10");
}

TEST(FrameReader, AnyChunkingGivesTheSameMessages) {
  Bytes stream;
  for (size_t n : {0u, 1u, 300u, 5u}) {
    auto framed = frame_message(Bytes(n, static_cast<uint8_t>(n)));
    stream.insert(stream.end(), framed->begin(), framed->end());
  }
  for (size_t chunk : {size_t{1}, size_t{3}, size_t{7}, stream.size()}) {
    FrameReader reader;
    std::vector<Bytes> got;
    for (size_t at = 0; at < stream.size(); at += chunk) {
      reader.append(ByteView(stream).subview(at, chunk));
      for (;;) {
        auto next = reader.next();
        ASSERT_TRUE(next.ok());
        if (!next->has_value()) break;
        got.push_back(**next);
      }
    }
    ASSERT_EQ(got.size(), 4u) << "chunk " << chunk;
    EXPECT_EQ(got[2], Bytes(300, 44));
    EXPECT_EQ(reader.buffered(), 0u);
  }
}

// A connection that once received a big message (IPAM's state is megabytes
// at a thousand peers) must not hold that much for the rest of its life:
// at a thousand peers with thirty connections each, that was gigabytes.
TEST(FrameReader, GivesBackABigMessagesMemoryOnceItIsRead) {
  FrameReader reader;
  reader.append(*frame_message(Bytes(1 << 20, 5)));
  EXPECT_GE(reader.held(), size_t{1} << 20);
  auto next = reader.next();
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE(next->has_value());
  EXPECT_EQ((*next)->size(), size_t{1} << 20);
  EXPECT_LE(reader.held(), size_t{4} * 1024);
  // Nor a middling one (gossip at a few hundred peers is tens of KB).
  reader.append(*frame_message(Bytes(40 * 1024, 6)));
  auto middling = reader.next();
  ASSERT_TRUE(middling.ok() && middling->has_value());
  EXPECT_EQ((*middling)->size(), size_t{40} * 1024);
  EXPECT_LE(reader.held(), size_t{4} * 1024);
  // Small messages keep their (small) buffer, and still read correctly.
  reader.append(*frame_message(Bytes{1, 2}));
  auto small = reader.next();
  ASSERT_TRUE(small.ok() && small->has_value());
  EXPECT_EQ(**small, (Bytes{1, 2}));
}

TEST(FrameReader, OverLongLengthIsAnErrorAtOnce) {
  FrameReader reader;
  reader.append(Bytes{0x00, 0xA0, 0x00, 0x01});  // 10 MiB + 1
  auto next = reader.next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.error().message, "incoming message exceeds maximum size: 10485761 > 10485760");
  reader.append(Bytes{1, 2, 3});
  EXPECT_FALSE(reader.next().ok());  // dead for good
}

TEST(FrameReader, ExactlyTheMaximumIsAccepted) {
  FrameReader reader(16);
  auto framed = frame_message(Bytes(16, 1), 16);
  reader.append(*framed);
  auto next = reader.next();
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE(next->has_value());
  EXPECT_EQ((*next)->size(), 16u);
}

PeerFeatures sample_peer() {
  PeerFeatures p;
  p.name = *PeerName::parse("aa:bb:cc:dd:ee:ff");
  p.nickname = "host-1";
  p.uid = 18446744073709551615u;
  p.short_id = 4095;
  p.conn_id = 12345;
  p.trusted = true;
  p.overlays = "fastdp sleeve";
  return p;
}

TEST(Features, MakeUsesWeavesKeysAndRoundTrips) {
  const Features f = make_features(sample_peer());
  EXPECT_EQ(f.at("PeerNameFlavour"), "mac");
  EXPECT_EQ(f.at("Name"), "aa:bb:cc:dd:ee:ff");
  EXPECT_EQ(f.at("NickName"), "host-1");
  EXPECT_EQ(f.at("UID"), "18446744073709551615");
  EXPECT_EQ(f.at("ConnID"), "12345");
  EXPECT_EQ(f.at("ShortID"), "4095");
  EXPECT_EQ(f.at("Trusted"), "true");
  EXPECT_EQ(f.at("Overlays"), "fastdp sleeve");

  auto encoded = encode_features(f);
  ASSERT_TRUE(encoded.ok());
  auto decoded = decode_features(*encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, f);

  auto parsed = parse_features(*decoded);
  ASSERT_TRUE(std::holds_alternative<PeerFeatures>(parsed));
  const auto& p = std::get<PeerFeatures>(parsed);
  EXPECT_EQ(p.name, sample_peer().name);
  EXPECT_EQ(p.uid, sample_peer().uid);
  EXPECT_EQ(p.short_id, ShortID{4095});
  EXPECT_TRUE(p.trusted);
  EXPECT_EQ(p.overlays, "fastdp sleeve");
}

TEST(Features, EncodingIsCountThenSortedPairs) {
  auto encoded = encode_features(Features{{"b", "2"}, {"a", ""}});
  EXPECT_EQ(*encoded, (Bytes{0, 2, 0, 1, 'a', 0, 0, 0, 1, 'b', 0, 1, '2'}));
}

TEST(Features, DecoderRejectsTruncationDuplicatesAndTrailingBytes) {
  EXPECT_EQ(decode_features(Bytes{0}).error().message, "features: truncated count");
  EXPECT_EQ(decode_features(Bytes{0, 1, 0, 5, 'a'}).error().message,
            "features: entry 0: truncated key");
  EXPECT_EQ(decode_features(Bytes{0, 1, 0, 1, 'a', 0, 9}).error().message,
            "features: entry 0: truncated value");
  EXPECT_EQ(decode_features(Bytes{0, 2, 0, 1, 'a', 0, 0, 0, 1, 'a', 0, 0}).error().message,
            "features: duplicate key \"a\"");
  EXPECT_EQ(decode_features(Bytes{0, 2, 0, 1, 'b', 0, 0, 0, 1, 'a', 0, 0}).error().message,
            "features: key \"a\" out of order");
  EXPECT_EQ(decode_features(Bytes{0, 0, 9}).error().message, "features: 1 trailing bytes");
}

FeaturesFailure failure_of(const Features& f) {
  auto parsed = parse_features(f);
  EXPECT_TRUE(std::holds_alternative<FeaturesFailure>(parsed));
  return std::holds_alternative<FeaturesFailure>(parsed) ? std::get<FeaturesFailure>(parsed)
                                                         : FeaturesFailure{};
}

TEST(Features, ParseNamesWhatIsWrong) {
  Features f = make_features(sample_peer());
  f.erase("ConnID");
  auto missing = failure_of(f);
  EXPECT_EQ(missing.kind, FeaturesError::kMissingField);
  EXPECT_EQ(missing.message, "Field ConnID is missing");

  f = make_features(sample_peer());
  f["PeerNameFlavour"] = "hash";
  auto flavour = failure_of(f);
  EXPECT_EQ(flavour.kind, FeaturesError::kFlavourMismatch);
  EXPECT_EQ(flavour.message, "Peer name flavour mismatch (ours: 'mac', theirs: 'hash')");

  for (auto [key, value] : {std::pair{"Name", "zz"},
                            {"UID", "-1"},
                            {"UID", "18446744073709551616"},
                            {"ShortID", "4096"},
                            {"Trusted", "yes"},
                            {"ConnID", ""}}) {
    f = make_features(sample_peer());
    f[key] = value;
    auto bad = failure_of(f);
    EXPECT_EQ(bad.kind, FeaturesError::kBadValue) << key;
    EXPECT_EQ(bad.message, std::string("feature ") + key + ": invalid value \"" + value + "\"");
  }

  // Optional keys may be absent.
  f = make_features(sample_peer());
  f.erase("ShortID");
  f.erase("Trusted");
  f.erase("Overlays");
  auto parsed = parse_features(f);
  ASSERT_TRUE(std::holds_alternative<PeerFeatures>(parsed));
  EXPECT_FALSE(std::get<PeerFeatures>(parsed).short_id.has_value());
  EXPECT_FALSE(std::get<PeerFeatures>(parsed).overlays.has_value());
}

TEST(Tags, AreWeavesNumbers) {
  EXPECT_EQ(static_cast<int>(ProtocolTag::kHeartbeat), 0);
  EXPECT_EQ(static_cast<int>(ProtocolTag::kGossip), 4);
  EXPECT_EQ(static_cast<int>(ProtocolTag::kGossipUnicast), 5);
  EXPECT_EQ(static_cast<int>(ProtocolTag::kGossipBroadcast), 6);
  EXPECT_EQ(static_cast<int>(ProtocolTag::kOverlayControlMsg), 7);
  EXPECT_EQ(tag_name(ProtocolTag::kGossipBroadcast), "ProtocolGossipBroadcast");
  EXPECT_EQ(tag_name(static_cast<ProtocolTag>(99)), "unknown");
}

TEST(Gossip, EachKindRoundTrips) {
  for (auto kind : {GossipMessage::Kind::gossip, GossipMessage::Kind::unicast,
                    GossipMessage::Kind::broadcast}) {
    GossipMessage m;
    m.kind = kind;
    m.channel = "topology";
    m.source = PeerName(0x0102030405);
    if (kind == GossipMessage::Kind::unicast) m.destination = PeerName(0xAABBCCDDEEFF);
    m.payload = {1, 2, 3};
    auto encoded = encode_gossip(m);
    ASSERT_TRUE(encoded.ok());
    auto decoded = decode_gossip(gossip_tag(kind), *encoded);
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_EQ(decoded->kind, kind);
    EXPECT_EQ(decoded->channel, "topology");
    EXPECT_EQ(decoded->source, m.source);
    EXPECT_EQ(decoded->destination, m.destination);
    EXPECT_EQ(decoded->payload, m.payload);
  }
}

TEST(Gossip, UnicastLayout) {
  GossipMessage m;
  m.kind = GossipMessage::Kind::unicast;
  m.channel = "ip";
  m.source = PeerName(1);
  m.destination = PeerName(2);
  m.payload = {9};
  EXPECT_EQ(*encode_gossip(m),
            (Bytes{0, 2, 'i', 'p', 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 1, 9}));
}

TEST(Gossip, DecoderNamesWhatIsWrong) {
  EXPECT_EQ(decode_gossip(ProtocolTag::kHeartbeat, Bytes{}).error().message,
            "tag 0 is not a gossip message");
  EXPECT_EQ(decode_gossip(ProtocolTag::kGossip, Bytes{0, 5, 'a'}).error().message,
            "ProtocolGossip: truncated channel name");
  EXPECT_EQ(decode_gossip(ProtocolTag::kGossip, Bytes{0, 0, 1, 2}).error().message,
            "ProtocolGossip: truncated source peer name");
  EXPECT_EQ(
      decode_gossip(ProtocolTag::kGossipUnicast, Bytes{0, 0, 1, 2, 3, 4, 5, 6, 7}).error().message,
      "ProtocolGossipUnicast: truncated destination peer name");
  EXPECT_EQ(
      decode_gossip(ProtocolTag::kGossipBroadcast, Bytes{0, 0, 1, 2, 3, 4, 5, 6, 0, 0, 0, 9, 1})
          .error()
          .message,
      "ProtocolGossipBroadcast: payload of 9 bytes but only 1 follow");
  EXPECT_EQ(decode_gossip(ProtocolTag::kGossip, Bytes{0, 0, 1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 7})
                .error()
                .message,
            "ProtocolGossip: 1 trailing bytes");
}

}  // namespace
}  // namespace loom::mesh
