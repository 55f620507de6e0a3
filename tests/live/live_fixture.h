// Helpers for the live backend's tests: a loop, hosts on loopback addresses,
// a scratch directory, generous timeouts (CI machines are small and busy).
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <stdlib.h>

#include "real-backend/event_loop.h"
#include "real-backend/linux_host.h"

namespace loom::live::testing {

using namespace std::chrono_literals;

// Long enough never to fire on a healthy run; tests finish as soon as done.
inline constexpr Time kPatience = 20s;

inline std::unique_ptr<EventLoop> make_loop() {
  auto loop = EventLoop::create();
  EXPECT_TRUE(loop.ok()) << (loop.ok() ? "" : loop.error().message);
  return loop.ok() ? std::move(*loop) : nullptr;
}

inline LinuxHostOptions options_for(std::string name, Ipv4 address) {
  LinuxHostOptions options;
  options.name = std::move(name);
  options.address = address;
  options.seed = 1;
  return options;
}

inline std::unique_ptr<LinuxHost> make_host(EventLoop& loop, std::string name, Ipv4 address) {
  auto host = LinuxHost::create(loop, options_for(std::move(name), address));
  EXPECT_TRUE(host.ok()) << (host.ok() ? "" : host.error().message);
  return host.ok() ? std::move(*host) : nullptr;
}

inline constexpr Ipv4 kAddrA = Ipv4::from_octets(127, 0, 0, 1);
inline constexpr Ipv4 kAddrB = Ipv4::from_octets(127, 0, 0, 2);

// A fresh directory under $TMPDIR, removed with everything in it.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "loom-live-XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
    EXPECT_FALSE(path_.empty()) << "mkdtemp failed";
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace loom::live::testing
