// Output buffers of the encoders.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "model/bytes.h"

namespace loom::wire {

// Puts payload at out[offset...]. An encoder's caller may already have built
// the payload in place (read a frame straight into out + header size); then
// nothing moves. Overlap is allowed. The caller has checked that it fits.
inline void place_payload(std::span<uint8_t> out, size_t offset, ByteView payload) {
  uint8_t* to = out.data() + offset;
  if (payload.size() != 0 && to != payload.data()) {
    std::memmove(to, payload.data(), payload.size());
  }
}

}  // namespace loom::wire
