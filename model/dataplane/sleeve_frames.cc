#include "model/dataplane/sleeve_frames.h"

#include <algorithm>
#include <string>

#include "model/wire/byte_order.h"

namespace loom::dataplane {

void put_peer_name(uint8_t* out, PeerName name) {
  for (int i = 5; i >= 0; --i) {
    out[i] = static_cast<uint8_t>(name.value >> (8 * (5 - i)));
  }
}

PeerName get_peer_name(const uint8_t* in) {
  uint64_t v = 0;
  for (size_t i = 0; i < kPeerNameSize; ++i) v = (v << 8) | in[i];
  return PeerName(v);
}

void append_sleeve_frame(Bytes& batch, PeerName src, PeerName dst, ByteView frame) {
  const size_t at = batch.size();
  batch.resize(at + kSleeveFrameOverhead + frame.size());
  uint8_t* p = batch.data() + at;
  put_peer_name(p, src);
  put_peer_name(p + kPeerNameSize, dst);
  wire::store_be16(p + 2 * kPeerNameSize, static_cast<uint16_t>(frame.size()));
  if (!frame.empty()) std::copy(frame.begin(), frame.end(), p + kSleeveFrameOverhead);
}

Result<void> for_each_sleeve_frame(ByteView frames,
                                   const std::function<void(const SleeveFrame&)>& each) {
  size_t at = 0;
  while (at < frames.size()) {
    if (frames.size() - at < kSleeveFrameOverhead) {
      return make_error("sleeve: frame header truncated: " + std::to_string(frames.size() - at) +
                        " bytes left, header is 14");
    }
    const uint8_t* p = frames.data() + at;
    const size_t length = wire::load_be16(p + 2 * kPeerNameSize);
    if (frames.size() - at - kSleeveFrameOverhead < length) {
      return make_error("sleeve: frame length " + std::to_string(length) + " exceeds the " +
                        std::to_string(frames.size() - at - kSleeveFrameOverhead) +
                        " bytes left in the datagram");
    }
    each(SleeveFrame{get_peer_name(p), get_peer_name(p + kPeerNameSize),
                     frames.subview(at + kSleeveFrameOverhead, length)});
    at += kSleeveFrameOverhead + length;
  }
  return {};
}

bool is_special_frame(ByteView frame) {
  if (frame.size() < kEthernetOverhead) return false;
  for (size_t i = 0; i < kEthernetOverhead; ++i) {
    if (frame[i] != 0) return false;
  }
  return true;
}

}  // namespace loom::dataplane
