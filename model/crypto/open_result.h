// OpenResult<T, Reason>: what opening a sealed packet gives, the plaintext or
// the reason it was refused.
//
// Result<T> carries a sentence for a log line; a data plane that drops
// thousands of packets a second wants to count them by kind instead, so the
// reason here is an enum (EspReject, SleeveReject) it can index a counter
// with. A refused packet never carries any plaintext.
#pragma once

#include <cassert>
#include <utility>
#include <variant>

namespace loom::crypto {

template <typename T, typename Reason>
class [[nodiscard]] OpenResult {
 public:
  // NOLINTNEXTLINE(google-explicit-constructor)
  OpenResult(T value) : v_(std::move(value)) {}
  // NOLINTNEXTLINE(google-explicit-constructor)
  OpenResult(Reason reason) : v_(reason) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  Reason reason() const {
    assert(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Reason> v_;
};

}  // namespace loom::crypto
