// Small helpers shared by the live backend's sockets: sockaddr conversion,
// errno text, descriptor ownership.
#pragma once

#include <string>
#include <utility>

#include <netinet/in.h>

#include "model/address.h"

namespace loom::live {

// strerror(err), thread-safe.
std::string errno_text(int err);

sockaddr_in to_sockaddr(const Endpoint& endpoint);
Endpoint from_sockaddr(const sockaddr_in& addr);

// The local or remote endpoint of a bound socket ({0.0.0.0, 0} on failure).
Endpoint local_endpoint(int fd);
Endpoint remote_endpoint(int fd);

// Owns one file descriptor; closes it (retrying nothing: close(2) must not be
// retried on Linux) when destroyed.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

}  // namespace loom::live
