#include "model/wire/errors.h"

namespace loom::wire {

std::string hex(uint32_t value, int digits) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "0x";
  for (int i = digits - 1; i >= 0; --i) out += kDigits[(value >> (4 * i)) & 0xF];
  return out;
}

Error wire_error(std::string_view codec, std::string_view what) {
  std::string message(codec);
  message += ": ";
  message += what;
  return Error{std::move(message)};
}

Error too_short(std::string_view codec, std::string_view unit, size_t have, size_t need,
                std::string_view part) {
  std::string what(unit);
  what += " of " + std::to_string(have) + " bytes is shorter than the " + std::to_string(need) +
          "-byte ";
  what += part;
  return wire_error(codec, what);
}

Error no_room(std::string_view codec, size_t need, size_t have) {
  return wire_error(
      codec, "needs " + std::to_string(need) + " bytes, buffer holds " + std::to_string(have));
}

}  // namespace loom::wire
