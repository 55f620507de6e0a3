#include "model/wire/icmp.h"

#include <gtest/gtest.h>

#include "tests/wire/captures.h"
#include "tests/wire/hex.h"

namespace loom::wire {
namespace {

using testing::error_of;
using testing::from_hex;

constexpr size_t kInnerIcmp = 14 + 20 + 8 + 8 + 14 + 20;  // in the captured VXLAN frames

Bytes icmp_of(std::string_view frame_hex) {
  const Bytes frame = from_hex(frame_hex);
  return Bytes(frame.begin() + kInnerIcmp, frame.end());
}

TEST(IcmpEcho, DecodesACapturedRequestAndReply) {
  const Bytes request_bytes = icmp_of(testing::kVxlanPingRequestFrame);
  auto request = IcmpEcho::decode(request_bytes);
  ASSERT_TRUE(request) << error_of(request);
  EXPECT_TRUE(request->is_request());
  EXPECT_EQ(request->code, 0);
  EXPECT_EQ(request->checksum, 0x982E);
  EXPECT_EQ(request->id, 0x1068);
  EXPECT_EQ(request->seq, 1);
  ASSERT_EQ(request->payload.size(), 24u);
  EXPECT_EQ(request->payload.as_chars().substr(16), "LoomLoom");

  const Bytes reply_bytes = icmp_of(testing::kVxlanPingReplyFrame);
  auto reply = IcmpEcho::decode(reply_bytes);
  ASSERT_TRUE(reply) << error_of(reply);
  EXPECT_FALSE(reply->is_request());
  EXPECT_EQ(reply->type, kIcmpEchoReply);
  EXPECT_EQ(reply->id, request->id);
  EXPECT_EQ(reply->seq, request->seq);
  EXPECT_EQ(reply->payload.to_bytes(), request->payload.to_bytes());
}

TEST(IcmpEcho, RefusesEveryTruncation) {
  const Bytes bytes = icmp_of(testing::kVxlanPingRequestFrame);
  for (size_t n = 0; n < 8; ++n) {
    EXPECT_EQ(error_of(IcmpEcho::decode(ByteView(bytes.data(), n))),
              "icmp: message of " + std::to_string(n) + " bytes is shorter than the 8-byte header");
  }
  // Cut in the payload, the checksum no longer adds up.
  for (size_t n = 8; n < bytes.size(); ++n) {
    EXPECT_FALSE(IcmpEcho::decode(ByteView(bytes.data(), n))) << n;
  }
}

TEST(IcmpEcho, RefusesOtherTypes) {
  Bytes bytes = icmp_of(testing::kVxlanPingRequestFrame);
  bytes[0] = 3;  // destination unreachable
  EXPECT_EQ(error_of(IcmpEcho::decode(bytes)),
            "icmp: type 3 is neither echo request (8) nor echo reply (0)");
}

TEST(IcmpEcho, RefusesABadChecksumAndSaysWhatItShouldBe) {
  Bytes bytes = icmp_of(testing::kVxlanPingRequestFrame);
  bytes[0] = kIcmpEchoReply;  // type rewritten without fixing the checksum
  EXPECT_EQ(error_of(IcmpEcho::decode(bytes)), "icmp: checksum 0x982e is wrong (expected 0xa02e)");
  bytes[0] = kIcmpEchoRequest;
  bytes.back() ^= 0x20;  // "LoomLooM"
  EXPECT_FALSE(IcmpEcho::decode(bytes));
}

TEST(IcmpEcho, RoundTripsCapturedMessages) {
  for (auto hex : {testing::kVxlanPingRequestFrame, testing::kVxlanPingReplyFrame,
                   testing::kVxlanPingRequestWithUdpChecksumFrame}) {
    const Bytes bytes = icmp_of(hex);
    auto echo = IcmpEcho::decode(bytes);
    ASSERT_TRUE(echo) << error_of(echo);
    Bytes out(bytes.size());
    auto written = echo->encode(out);
    ASSERT_TRUE(written) << error_of(written);
    EXPECT_EQ(*written, bytes.size());
    EXPECT_EQ(out, bytes);
  }
}

TEST(IcmpEcho, EncodeBuildsAReplyThatDecodes) {
  const Bytes payload = from_hex("4c6f 6f6d");
  IcmpEcho echo;
  echo.type = kIcmpEchoReply;
  echo.id = 7;
  echo.seq = 9;
  echo.payload = payload;
  Bytes out(12);
  ASSERT_TRUE(echo.encode(out));
  EXPECT_EQ(out, from_hex("0000 4413 0007 0009 4c6f 6f6d"));
  EXPECT_TRUE(IcmpEcho::decode(out));
}

TEST(IcmpEcho, EncodeRefusesOtherTypesAndSmallBuffers) {
  IcmpEcho echo;
  Bytes out(8);
  EXPECT_EQ(error_of(echo.encode(std::span(out).first(7))), "icmp: needs 8 bytes, buffer holds 7");
  echo.type = 11;
  EXPECT_EQ(error_of(echo.encode(out)),
            "icmp: type 11 is neither echo request (8) nor echo reply (0)");
}

}  // namespace
}  // namespace loom::wire
