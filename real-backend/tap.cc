#include "real-backend/tap.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace loom::live {

namespace {

constexpr const char* kDropped = "loom_host_dropped_total";
constexpr int kMaxReadsPerWake = 64;

Result<void> configure(const std::string& name, size_t mtu) {
  UniqueFd ctl(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!ctl.valid()) return make_error("tap " + name + ": control socket: " + errno_text(errno));
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  ifr.ifr_mtu = static_cast<int>(mtu);
  if (::ioctl(ctl.get(), SIOCSIFMTU, &ifr) != 0) {
    return make_error("tap " + name + ": setting MTU " + std::to_string(mtu) + ": " +
                      errno_text(errno));
  }
  if (::ioctl(ctl.get(), SIOCGIFFLAGS, &ifr) != 0) {
    return make_error("tap " + name + ": reading flags: " + errno_text(errno));
  }
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  if (::ioctl(ctl.get(), SIOCSIFFLAGS, &ifr) != 0) {
    return make_error("tap " + name + ": bringing up: " + errno_text(errno));
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<TapDevice>> TapDevice::open(EventLoop& loop, const std::string& name,
                                                   size_t mtu, Metrics& metrics) {
  if (name.empty() || name.size() >= IFNAMSIZ) {
    return make_error("tap name '" + name + "' must be 1 to " + std::to_string(IFNAMSIZ - 1) +
                      " characters");
  }
  if (mtu < 68 || mtu > 65521) {
    return make_error("tap " + name + ": MTU " + std::to_string(mtu) + " is outside 68..65521");
  }
  UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) return make_error("tap " + name + ": /dev/net/tun: " + errno_text(errno));
  ifreq ifr{};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (::ioctl(fd.get(), TUNSETIFF, &ifr) != 0) {
    return make_error("tap " + name + ": TUNSETIFF: " + errno_text(errno));
  }
  std::string actual(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ));
  if (auto configured = configure(actual, mtu); !configured) return configured.error();

  std::unique_ptr<TapDevice> tap(new TapDevice(loop, std::move(fd), actual, mtu, metrics));
  TapDevice* raw = tap.get();
  auto added = loop.add_fd(raw->fd_.get(), EPOLLIN, [raw](uint32_t) { raw->on_readable(); });
  if (!added) return added.error();
  return tap;
}

TapDevice::TapDevice(EventLoop& loop, UniqueFd fd, std::string name, size_t mtu, Metrics& metrics)
    : loop_(loop),
      fd_(std::move(fd)),
      name_(std::move(name)),
      mtu_(mtu),
      buffer_(65536),
      no_receiver_(metrics.counter(kDropped, {{"reason", "bridge_no_receiver"}})),
      bad_size_(metrics.counter(kDropped, {{"reason", "bridge_frame_bad_size"}})),
      send_failed_(metrics.counter(kDropped, {{"reason", "bridge_send_failed"}})) {}

TapDevice::~TapDevice() { loop_.remove_fd(fd_.get()); }

bool TapDevice::send(ByteView frame) {
  if (frame.size() < kEthernetHeader || frame.size() > mtu_ + kEthernetHeader) {
    bad_size_.add();
    return false;
  }
  for (;;) {
    ssize_t n = ::write(fd_.get(), frame.data(), frame.size());
    if (n == static_cast<ssize_t>(frame.size())) return true;
    if (n < 0 && errno == EINTR) continue;
    send_failed_.add();  // EAGAIN (queue full), EIO (interface down), ...
    return false;
  }
}

void TapDevice::on_receive(Receiver receiver) {
  receiver_ = receiver ? std::make_shared<Receiver>(std::move(receiver)) : nullptr;
}

void TapDevice::on_readable() {
  for (int i = 0; i < kMaxReadsPerWake; ++i) {
    ssize_t n = ::read(fd_.get(), buffer_.data(), buffer_.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // EAGAIN: drained
    }
    std::shared_ptr<Receiver> receiver = receiver_;
    if (!receiver) {
      no_receiver_.add();
      continue;
    }
    (*receiver)(ByteView(buffer_.data(), static_cast<size_t>(n)));
  }
}

UnattachedFramePort::UnattachedFramePort(size_t mtu, Metrics& metrics)
    : mtu_(mtu),
      dropped_(metrics.counter("loom_host_dropped_total", {{"reason", "bridge_no_port"}})) {}

bool UnattachedFramePort::send(ByteView) {
  dropped_.add();
  return false;
}

}  // namespace loom::live
