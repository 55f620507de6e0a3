// ByteView: a read-only view of bytes, the currency of the Host seam.
//
// std::span would do, but host.h must stay valid C++17 (ns-3 3.37's headers
// do not compile as C++20 under g++ 12), so this is a minimal span of our own,
// convertible to and from std::span<const uint8_t> where C++20 is available.
#pragma once

#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#if __cplusplus >= 202002L
#include <span>
#endif

namespace loom {

using Bytes = std::vector<uint8_t>;

class ByteView {
 public:
  constexpr ByteView() = default;
  constexpr ByteView(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  // NOLINTNEXTLINE(google-explicit-constructor)
  ByteView(const Bytes& v) : data_(v.data()), size_(v.size()) {}
  template <size_t N>
  // NOLINTNEXTLINE(google-explicit-constructor)
  constexpr ByteView(const std::array<uint8_t, N>& a) : data_(a.data()), size_(N) {}
  explicit ByteView(std::string_view s)
      : data_(reinterpret_cast<const uint8_t*>(s.data())), size_(s.size()) {}
#if __cplusplus >= 202002L
  // NOLINTNEXTLINE(google-explicit-constructor)
  constexpr ByteView(std::span<const uint8_t> s) : data_(s.data()), size_(s.size()) {}
  // NOLINTNEXTLINE(google-explicit-constructor)
  constexpr operator std::span<const uint8_t>() const { return {data_, size_}; }
#endif

  constexpr const uint8_t* data() const { return data_; }
  constexpr size_t size() const { return size_; }
  constexpr bool empty() const { return size_ == 0; }
  constexpr const uint8_t* begin() const { return data_; }
  constexpr const uint8_t* end() const { return data_ + size_; }
  constexpr uint8_t operator[](size_t i) const {
    assert(i < size_);
    return data_[i];
  }
  // Bytes [offset, offset+count), clamped to the view.
  constexpr ByteView subview(size_t offset, size_t count = SIZE_MAX) const {
    if (offset > size_) offset = size_;
    if (count > size_ - offset) count = size_ - offset;
    return {data_ + offset, count};
  }
  Bytes to_bytes() const { return Bytes(begin(), end()); }
  std::string_view as_chars() const { return {reinterpret_cast<const char*>(data_), size_}; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace loom
