#include "model/crypto/sleeve_crypto.h"

#include <sodium.h>

#include "model/crypto/sodium.h"

namespace loom::crypto {

static_assert(sleeve_overlay_mtu(1500, false) == 1438);
static_assert(sleeve_overlay_mtu(1500, true) == 1414);

namespace {

void store_be64(uint8_t* p, uint64_t v) {
  for (size_t i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
}

uint64_t load_be64(const uint8_t* p) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

Nonce udp_nonce(bool sender_outbound, uint64_t sequence_and_df) {
  Nonce nonce{};
  nonce[0] = sender_outbound ? 0x80 : 0x00;
  store_be64(nonce.data() + 16, sequence_and_df);
  return nonce;
}

Result<Bytes> SleeveEncryptor::seal(ByteView frames) {
  if (sequence_ >= kSleeveDfFlag) {
    return make_error(
        "sleeve: 2^63 datagrams sealed under one key; the connection must be rebuilt");
  }
  ensure_sodium();
  const uint64_t header = sequence_ | (df_ ? kSleeveDfFlag : 0);
  const Nonce nonce = udp_nonce(outbound_, header);
  Bytes out(kSleeveSequenceSize + kSecretboxOverhead + frames.size());
  store_be64(out.data(), header);
  crypto_secretbox_easy(out.data() + kSleeveSequenceSize, frames.data(), frames.size(),
                        nonce.data(), key_.bytes.data());
  ++sequence_;
  return out;
}

const char* to_string(SleeveReject reason) {
  switch (reason) {
    case SleeveReject::kTruncated:
      return "truncated";
    case SleeveReject::kAuthFailed:
      return "auth_failed";
    case SleeveReject::kDuplicate:
      return "duplicate";
    case SleeveReject::kTooOld:
      return "too_old";
  }
  return "unknown";
}

OpenResult<SleevePayload, SleeveReject> SleeveDecryptor::open(ByteView sealed) {
  if (sealed.size() < kSleeveSealOverhead) return SleeveReject::kTruncated;
  ensure_sodium();
  const uint64_t header = load_be64(sealed.data());
  const Nonce nonce = udp_nonce(sender_outbound_, header);
  const ByteView box = sealed.subview(kSleeveSequenceSize);
  SleevePayload out;
  out.frames.resize(box.size() - kSecretboxOverhead);
  if (crypto_secretbox_open_easy(out.frames.data(), box.data(), box.size(), nonce.data(),
                                 key_.bytes.data()) != 0) {
    return SleeveReject::kAuthFailed;
  }
  out.df = (header & kSleeveDfFlag) != 0;
  out.sequence = header & ~kSleeveDfFlag;
  switch ((out.df ? window_df_ : window_).advance(out.sequence)) {
    case SleeveWindow::Verdict::kDuplicate:
      return SleeveReject::kDuplicate;
    case SleeveWindow::Verdict::kTooOld:
      return SleeveReject::kTooOld;
    case SleeveWindow::Verdict::kFresh:
      break;
  }
  return out;
}

}  // namespace loom::crypto
