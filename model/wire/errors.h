// Error messages shared by the codecs: "<codec>: <what was wrong>".
//
// Errors are built only on the failure path; a successful decode or encode
// allocates nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "model/result.h"

namespace loom::wire {

// "0x86dd": EtherTypes and flags read better in hex.
std::string hex(uint32_t value, int digits = 4);

// "<codec>: <what>".
Error wire_error(std::string_view codec, std::string_view what);

// "<codec>: <unit> of 10 bytes is shorter than the 20-byte header".
Error too_short(std::string_view codec, std::string_view unit, size_t have, size_t need,
                std::string_view part = "header");

// "<codec>: needs 1514 bytes, buffer holds 64": an encoder's output does not fit.
Error no_room(std::string_view codec, size_t need, size_t have);

}  // namespace loom::wire
