#include "real-backend/linux_host.h"

#include <cerrno>

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "real-backend/file_store.h"
#include "real-backend/netns.h"
#include "real-backend/socket_util.h"
#include "real-backend/stderr_log.h"
#include "real-backend/tap.h"
#include "real-backend/tcp_stream.h"
#include "real-backend/udp_socket.h"

namespace loom::live {

namespace {

// Connections taken per readiness event before other fds get a turn.
constexpr int kMaxAcceptsPerWake = 64;

Result<uint64_t> kernel_seed() {
  uint64_t seed = 0;
  ssize_t n = getrandom(&seed, sizeof seed, 0);
  if (n != static_cast<ssize_t>(sizeof seed)) {
    return make_error("getrandom: " + errno_text(n < 0 ? errno : EIO));
  }
  return seed;
}

}  // namespace

struct LinuxHost::Listener {
  UniqueFd fd;
  Endpoint local;
  // Shared so that the handler survives being replaced while it runs.
  std::shared_ptr<AcceptHandler> on_accept;
};

struct LinuxHost::PendingConnect {
  UniqueFd fd;
  Endpoint to;
  ConnectHandler on_done;
  TimerId timeout = 0;
};

Result<LinuxHostOptions> LinuxHostOptions::from_environment(std::string name) {
  LinuxHostOptions options;
  options.name = std::move(name);
  auto filter = log_filter_from_env();
  if (!filter) return filter.error();
  options.log_filter = std::move(*filter);
  return options;
}

Result<std::unique_ptr<LinuxHost>> LinuxHost::create(EventLoop& loop, LinuxHostOptions options) {
  uint64_t seed = options.seed;
  if (seed == 0) {
    auto from_kernel = kernel_seed();
    if (!from_kernel) return from_kernel.error();
    seed = *from_kernel;
  }
  std::unique_ptr<LinuxHost> host(new LinuxHost(loop, std::move(options), seed));
  const LinuxHostOptions& opts = host->options_;

  if (opts.store_path.empty()) {
    host->store_ = std::make_unique<MemoryStore>();
  } else {
    auto store = FileStore::open(opts.store_path);
    if (!store) return store.error();
    host->store_ = std::move(*store);
  }

  if (!opts.netns.empty()) {
    auto netns = open_netns(opts.netns);
    if (!netns) return netns.error();
    host->netns_ = std::move(*netns);
    // Fail now, not at the first socket, when we may not enter it.
    auto inside = NetnsScope::enter(host->netns_.get());
    if (!inside) {
      return make_error("network namespace " + opts.netns + ": " + inside.error().message);
    }
  }

  if (opts.tap_name.empty()) {
    host->bridge_ = std::make_unique<UnattachedFramePort>(opts.tap_mtu, host->metrics_);
  } else {
    auto inside = NetnsScope::enter(host->netns_.get());
    if (!inside) return make_error("tap " + opts.tap_name + ": " + inside.error().message);
    auto tap = TapDevice::open(loop, opts.tap_name, opts.tap_mtu, host->metrics_);
    if (!tap) return tap.error();
    host->bridge_ = std::move(*tap);
  }

  LOOM_LOG(
      *host->log_, "host", info,
      "up on " << opts.address.to_string() << (opts.netns.empty() ? "" : " in network namespace ")
               << opts.netns << ", seed " << seed
               << (opts.store_path.empty() ? ", store in memory" : ", store ") << opts.store_path
               << (opts.tap_name.empty() ? ", no tap" : ", tap ") << opts.tap_name);
  return host;
}

LinuxHost::LinuxHost(EventLoop& loop, LinuxHostOptions options, uint64_t seed)
    : loop_(loop),
      options_(std::move(options)),
      seed_(seed),
      random_(seed),
      log_(std::make_unique<StderrLog>(options_.name, options_.log_filter)) {}

LinuxHost::~LinuxHost() {
  alive_.reset();  // deferred work of this host becomes a no-op
  for (TimerId id : timers_) loop_.cancel(id);
  timers_.clear();
  for (auto& [raw, stream] : streams_) stream->detach();
  streams_.clear();
  for (auto& [id, pending] : connects_) loop_.remove_fd(pending->fd.get());
  connects_.clear();
  for (auto& [port, listener] : listeners_) loop_.remove_fd(listener->fd.get());
  listeners_.clear();
  udp_.clear();
  bridge_.reset();
}

TimerId LinuxHost::after(Time delay, Callback fn) {
  // The id is known only once set; the timer learns it through a slot.
  auto slot = std::make_shared<TimerId>(0);
  TimerId id = loop_.after(delay, [this, slot, fn = std::move(fn)] {
    timers_.erase(*slot);
    fn();
  });
  *slot = id;
  timers_.insert(id);
  return id;
}

void LinuxHost::cancel(TimerId id) {
  // Only this host's timers: another host on the same loop keeps its own.
  if (timers_.erase(id)) loop_.cancel(id);
}

void LinuxHost::defer(Callback fn) {
  loop_.post([alive = std::weak_ptr<int>(alive_), fn = std::move(fn)] {
    if (alive.lock()) fn();
  });
}

Result<DatagramSocket*> LinuxHost::udp(uint16_t port) {
  if (port != 0) {
    if (auto it = udp_.find(port); it != udp_.end()) return it->second.get();
  }
  auto inside = NetnsScope::enter(netns_.get());
  if (!inside) return make_error("udp socket: " + inside.error().message);
  auto socket = UdpSocket::open(loop_, Endpoint{options_.address, port}, metrics_);
  if (!socket) return socket.error();
  DatagramSocket* raw = socket->get();
  udp_[raw->port()] = std::move(*socket);
  return raw;
}

Result<void> LinuxHost::listen(uint16_t port, AcceptHandler on_accept) {
  auto bound = listen_on(port, std::move(on_accept));
  if (!bound) return bound.error();
  return {};
}

Result<uint16_t> LinuxHost::listen_on(uint16_t port, AcceptHandler on_accept) {
  const Endpoint local{options_.address, port};
  if (port != 0 && listeners_.count(port)) {
    return make_error("tcp listen " + local.to_string() + ": this host already listens there");
  }
  auto fd_in_netns = tcp_socket();
  if (!fd_in_netns) {
    return make_error("tcp listen " + local.to_string() + ": " + fd_in_netns.error().message);
  }
  UniqueFd fd = std::move(*fd_in_netns);
  int one = 1;
  // A restarted agent must not wait out TIME_WAIT to listen again.
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr = to_sockaddr(local);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return make_error("tcp listen " + local.to_string() + ": " + errno_text(errno));
  }
  if (::listen(fd.get(), SOMAXCONN) != 0) {
    return make_error("tcp listen " + local.to_string() + ": " + errno_text(errno));
  }
  auto listener = std::make_unique<Listener>();
  listener->local = local_endpoint(fd.get());
  listener->fd = std::move(fd);
  listener->on_accept = std::make_shared<AcceptHandler>(std::move(on_accept));
  Listener* raw = listener.get();
  auto added = loop_.add_fd(raw->fd.get(), EPOLLIN, [this, raw](uint32_t) { on_acceptable(*raw); });
  if (!added) return added.error();
  const uint16_t bound = raw->local.port;
  listeners_[bound] = std::move(listener);
  LOOM_LOG(*log_, "host", debug, "listening on tcp " << raw->local.to_string());
  return bound;
}

Result<UniqueFd> LinuxHost::tcp_socket() {
  auto inside = NetnsScope::enter(netns_.get());
  if (!inside) return inside.error();
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return make_error("tcp socket: " + errno_text(errno));
  return fd;
}

void LinuxHost::on_acceptable(Listener& listener) {
  for (int i = 0; i < kMaxAcceptsPerWake; ++i) {
    int fd = ::accept4(listener.fd.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      // EMFILE and friends: the connection waits in the backlog; say why.
      metrics_.counter("loom_host_accept_errors_total").add();
      LOOM_LOG(*log_, "host", warn,
               "accept on " << listener.local.to_string() << ": " << errno_text(errno));
      return;
    }
    auto stream = adopt_stream(fd);
    if (!stream) {
      LOOM_LOG(*log_, "host", warn,
               "accept on " << listener.local.to_string() << ": " << stream.error().message);
      continue;
    }
    std::shared_ptr<AcceptHandler> handler = listener.on_accept;
    if (*handler) (*handler)(std::move(*stream));
  }
}

Result<StreamPtr> LinuxHost::adopt_stream(int fd) {
  auto stream = TcpStream::adopt(
      loop_, UniqueFd(fd), [this](TcpStream* finished) { streams_.erase(finished); },
      options_.close_linger);
  if (!stream) return stream.error();
  streams_.emplace(stream->get(), *stream);
  return StreamPtr(*stream);
}

void LinuxHost::connect(const Endpoint& to, ConnectHandler on_done) {
  const std::string what = "connect to " + to.to_string() + ": ";
  auto report_later = [this, &on_done](std::string message) {
    defer([on_done = std::move(on_done), message = std::move(message)] {
      on_done(make_error(message));
    });
  };
  auto fd_in_netns = tcp_socket();
  if (!fd_in_netns) return report_later(what + fd_in_netns.error().message);
  UniqueFd fd = std::move(*fd_in_netns);
  // The source is this host's address, so the peer sees who we are.
  sockaddr_in local = to_sockaddr(Endpoint{options_.address, 0});
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    return report_later(what + "binding source " + options_.address.to_string() + ": " +
                        errno_text(errno));
  }
  sockaddr_in remote = to_sockaddr(to);
  int rc;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&remote), sizeof remote);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0 && errno != EINPROGRESS) return report_later(what + errno_text(errno));

  // Connected or in progress: either way EPOLLOUT says when it is settled.
  const uint64_t id = next_connect_++;
  auto pending = std::make_unique<PendingConnect>();
  pending->fd = std::move(fd);
  pending->to = to;
  pending->on_done = std::move(on_done);
  auto added =
      loop_.add_fd(pending->fd.get(), EPOLLOUT, [this, id](uint32_t) { on_connect_ready(id); });
  if (!added) {
    on_done = std::move(pending->on_done);
    return report_later(what + added.error().message);
  }
  pending->timeout = after(options_.connect_timeout, [this, id, what] {
    finish_connect(id, make_error(what + "timed out"));
  });
  connects_.emplace(id, std::move(pending));
}

void LinuxHost::on_connect_ready(uint64_t id) {
  auto it = connects_.find(id);
  if (it == connects_.end()) return;
  PendingConnect& pending = *it->second;
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(pending.fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err != 0) {
    finish_connect(id, make_error("connect to " + pending.to.to_string() + ": " + errno_text(err)));
    return;
  }
  loop_.remove_fd(pending.fd.get());
  auto stream = adopt_stream(pending.fd.release());
  if (!stream) {
    finish_connect(
        id, make_error("connect to " + pending.to.to_string() + ": " + stream.error().message));
    return;
  }
  finish_connect(id, std::move(*stream));
}

void LinuxHost::finish_connect(uint64_t id, Result<StreamPtr> result) {
  auto it = connects_.find(id);
  if (it == connects_.end()) return;
  std::unique_ptr<PendingConnect> pending = std::move(it->second);
  connects_.erase(it);
  cancel(pending->timeout);
  if (pending->fd.valid()) loop_.remove_fd(pending->fd.get());
  pending->fd.reset();
  if (!result.ok()) {
    LOOM_LOG(*log_, "host", debug, result.error().message);
  }
  pending->on_done(std::move(result));
}

}  // namespace loom::live
