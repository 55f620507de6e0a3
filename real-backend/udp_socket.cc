#include "real-backend/udp_socket.h"

#include <cerrno>

#include <sys/epoll.h>
#include <sys/socket.h>

namespace loom::live {

namespace {

constexpr const char* kDropped = "loom_host_dropped_total";
// Datagrams read per readiness event before letting other fds run; the
// level-triggered registration brings the loop back for the rest.
constexpr int kMaxReadsPerWake = 256;

}  // namespace

Result<std::unique_ptr<UdpSocket>> UdpSocket::open(EventLoop& loop, const Endpoint& bind_to,
                                                   Metrics& metrics) {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return make_error("udp socket: " + errno_text(errno));
  sockaddr_in addr = to_sockaddr(bind_to);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return make_error("udp bind " + bind_to.to_string() + ": " + errno_text(errno));
  }
  Endpoint local = local_endpoint(fd.get());
  std::unique_ptr<UdpSocket> socket(new UdpSocket(loop, std::move(fd), local, metrics));
  UdpSocket* raw = socket.get();
  auto added = loop.add_fd(raw->fd_.get(), EPOLLIN, [raw](uint32_t) { raw->on_readable(); });
  if (!added) return added.error();
  return socket;
}

UdpSocket::UdpSocket(EventLoop& loop, UniqueFd fd, Endpoint local, Metrics& metrics)
    : loop_(loop),
      fd_(std::move(fd)),
      local_(local),
      buffer_(65536),
      no_receiver_(metrics.counter(kDropped, {{"reason", "udp_no_receiver"}})),
      send_buffer_full_(metrics.counter(kDropped, {{"reason", "udp_send_buffer_full"}})),
      send_too_large_(metrics.counter(kDropped, {{"reason", "udp_send_too_large"}})),
      send_failed_(metrics.counter(kDropped, {{"reason", "udp_send_failed"}})) {}

UdpSocket::~UdpSocket() { loop_.remove_fd(fd_.get()); }

bool UdpSocket::send_to(const Endpoint& to, ByteView payload) {
  sockaddr_in addr = to_sockaddr(to);
  for (;;) {
    ssize_t n = ::sendto(fd_.get(), payload.data(), payload.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
                         reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    if (n >= 0) return true;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
      send_buffer_full_.add();
    } else if (errno == EMSGSIZE) {
      send_too_large_.add();
    } else {
      send_failed_.add();
    }
    return false;
  }
}

void UdpSocket::on_receive(Receiver receiver) {
  receiver_ = receiver ? std::make_shared<Receiver>(std::move(receiver)) : nullptr;
}

void UdpSocket::on_readable() {
  for (int i = 0; i < kMaxReadsPerWake; ++i) {
    sockaddr_in from{};
    socklen_t from_len = sizeof from;
    ssize_t n = ::recvfrom(fd_.get(), buffer_.data(), buffer_.size(), MSG_DONTWAIT,
                           reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) {
      if (errno == EINTR) continue;
      // ECONNREFUSED and friends are ICMP errors for an earlier send: the
      // error is consumed by this call, so keep reading.
      if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH) continue;
      return;  // EAGAIN: drained
    }
    std::shared_ptr<Receiver> receiver = receiver_;
    if (!receiver) {
      no_receiver_.add();
      continue;
    }
    (*receiver)(from_sockaddr(from), ByteView(buffer_.data(), static_cast<size_t>(n)));
  }
}

}  // namespace loom::live
