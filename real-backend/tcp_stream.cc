#include "real-backend/tcp_stream.h"

#include <array>
#include <cerrno>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace loom::live {

namespace {

constexpr size_t kReadChunk = 65536;
// Reads per readiness event before other fds get a turn (level-triggered
// epoll brings the loop back).
constexpr int kMaxReadsPerWake = 16;
// Held bytes (no handlers yet) past which reading pauses.
constexpr size_t kMaxHeld = 1 << 20;

uint8_t* read_buffer() {
  thread_local std::array<uint8_t, kReadChunk> buffer;
  return buffer.data();
}

}  // namespace

Result<std::shared_ptr<TcpStream>> TcpStream::adopt(EventLoop& loop, UniqueFd fd,
                                                    FinishedHandler on_finished,
                                                    Time close_linger) {
  int one = 1;
  // Engines write whole messages; do not hold small ones back (Nagle).
  setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::shared_ptr<TcpStream> stream(
      new TcpStream(loop, std::move(fd), std::move(on_finished), close_linger));
  std::weak_ptr<TcpStream> weak = stream;
  auto added = loop.add_fd(stream->fd_.get(), EPOLLIN, [weak](uint32_t events) {
    if (auto self = weak.lock()) self->on_events(events);
  });
  if (!added) return added.error();
  stream->interest_ = EPOLLIN;
  return stream;
}

TcpStream::TcpStream(EventLoop& loop, UniqueFd fd, FinishedHandler on_finished, Time close_linger)
    : loop_(loop),
      fd_(std::move(fd)),
      local_(local_endpoint(fd_.get())),
      remote_(remote_endpoint(fd_.get())),
      on_finished_(std::move(on_finished)),
      close_linger_(close_linger) {}

TcpStream::~TcpStream() {
  if (fd_.valid()) loop_.remove_fd(fd_.get());
}

void TcpStream::set_handlers(Handlers handlers) {
  if (state_ == State::flushing || state_ == State::draining) return;  // closed by this side
  handlers_ = std::move(handlers);
  have_handlers_ = true;
  if ((!held_.empty() || held_close_) && !delivery_posted_) {
    // Never from inside this call: deliver from the loop.
    delivery_posted_ = true;
    loop_.post([self = shared_from_this()] { self->deliver_held(); });
  }
  if (state_ == State::open) update_interest();  // reading may have paused
}

void TcpStream::deliver_held() {
  delivery_posted_ = false;
  if (!have_handlers_) return;
  if (!held_.empty()) {
    std::string chunk;
    chunk.swap(held_);
    if (handlers_.on_data) handlers_.on_data(ByteView(std::string_view(chunk)));
  }
  // The handler may have closed the stream, or more may have arrived.
  if (!have_handlers_) return;
  if (!held_.empty()) {
    deliver_held();
    return;
  }
  if (held_close_) {
    Error error = std::move(*held_close_);
    held_close_.reset();
    auto on_close = std::move(handlers_.on_close);
    handlers_ = {};
    have_handlers_ = false;
    if (on_close) on_close(error);
  }
}

void TcpStream::write(ByteView bytes) {
  if (state_ != State::open || write_failed_ || bytes.empty()) return;
  size_t sent = 0;
  if (pending() == 0) {
    while (sent < bytes.size()) {
      ssize_t n =
          ::send(fd_.get(), bytes.data() + sent, bytes.size() - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n >= 0) {
        sent += static_cast<size_t>(n);
        continue;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      // Report later, from the loop: never from inside write().
      write_failed_ = true;
      Error error{remote_.to_string() + ": " + errno_text(errno)};
      loop_.post([self = shared_from_this(), error] {
        if (self->state_ == State::open) self->fail(error);
      });
      return;
    }
  }
  if (sent == bytes.size()) return;
  if (out_offset_ > 0 && out_offset_ >= out_.size() / 2) {
    out_.erase(out_.begin(), out_.begin() + static_cast<std::ptrdiff_t>(out_offset_));
    out_offset_ = 0;
  }
  out_.insert(out_.end(), bytes.data() + sent, bytes.data() + bytes.size());
  update_interest();
}

void TcpStream::close() {
  if (state_ != State::open) return;
  // No handler is called after close(); held input is of no use now.
  handlers_ = {};
  have_handlers_ = false;
  held_.clear();
  held_close_.reset();
  state_ = State::flushing;
  linger_timer_ = loop_.after(close_linger_, [self = shared_from_this()] {
    self->linger_timer_ = 0;
    self->finish();
  });
  if (write_failed_) {
    // Nothing more can be sent; finish from the loop, not from inside close().
    loop_.post([self = shared_from_this()] { self->finish(); });
    return;
  }
  if (pending() == 0) {
    begin_drain();
  } else {
    update_interest();
  }
}

void TcpStream::detach() {
  state_ = State::closed;
  handlers_ = {};
  have_handlers_ = false;
  held_.clear();
  held_close_.reset();
  on_finished_ = nullptr;
  if (linger_timer_) loop_.cancel(linger_timer_);
  linger_timer_ = 0;
  if (fd_.valid()) loop_.remove_fd(fd_.get());
  fd_.reset();
}

void TcpStream::on_events(uint32_t events) {
  auto self = shared_from_this();  // a handler may drop the owner's reference
  if (state_ == State::closed) return;
  // An error or hang-up must be read out even when reading is paused, or
  // level-triggered epoll would report it forever.
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) read_available(events & (EPOLLHUP | EPOLLERR));
  if (state_ == State::closed) return;
  if ((events & EPOLLOUT) && pending() > 0) flush();
}

void TcpStream::read_available(bool ignore_pause) {
  for (int i = 0; i < kMaxReadsPerWake; ++i) {
    if (!ignore_pause && state_ == State::open && !have_handlers_ && held_.size() >= kMaxHeld) {
      update_interest();  // pause reading until handlers are set
      return;
    }
    uint8_t* buffer = read_buffer();
    ssize_t n = ::read(fd_.get(), buffer, kReadChunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (state_ == State::open) {
        fail(Error{remote_.to_string() + ": " + errno_text(errno)});
      } else {
        finish();
      }
      return;
    }
    if (n == 0) {
      if (state_ == State::open) {
        fail(Error{"closed by peer " + remote_.to_string()});
      } else {
        finish();
      }
      return;
    }
    if (state_ != State::open) continue;  // closing: discard
    const auto size = static_cast<size_t>(n);
    if (!have_handlers_ || !held_.empty()) {
      // Behind bytes not yet delivered: keep the order.
      held_.append(reinterpret_cast<const char*>(buffer), size);
      continue;
    }
    if (handlers_.on_data) handlers_.on_data(ByteView(buffer, size));
    if (state_ != State::open) return;
  }
}

void TcpStream::flush() {
  while (pending() > 0) {
    ssize_t n =
        ::send(fd_.get(), out_.data() + out_offset_, pending(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (state_ == State::open) {
        fail(Error{remote_.to_string() + ": " + errno_text(errno)});
      } else {
        finish();
      }
      return;
    }
    out_offset_ += static_cast<size_t>(n);
  }
  if (pending() == 0) {
    out_.clear();
    out_offset_ = 0;
    if (state_ == State::flushing) {
      begin_drain();
      return;
    }
  }
  update_interest();
  // flush() runs only from the loop, with bytes that a write() left queued.
  if (pending() == 0 && state_ == State::open && have_handlers_ && handlers_.on_drained) {
    // A copy: the handler may write, close or replace the handlers.
    auto on_drained = handlers_.on_drained;
    on_drained();
  }
}

void TcpStream::begin_drain() {
  state_ = State::draining;
  if (::shutdown(fd_.get(), SHUT_WR) != 0) {
    finish();
    return;
  }
  update_interest();
}

void TcpStream::fail(Error error) {
  held_close_ = std::move(error);
  finish();
  if (have_handlers_ && held_.empty() && !delivery_posted_) deliver_held();
}

void TcpStream::finish() {
  if (state_ == State::closed) return;
  state_ = State::closed;
  if (linger_timer_) loop_.cancel(linger_timer_);
  linger_timer_ = 0;
  loop_.remove_fd(fd_.get());
  fd_.reset();
  out_.clear();
  out_offset_ = 0;
  if (auto on_finished = std::move(on_finished_)) {
    on_finished_ = nullptr;
    on_finished(this);
  }
}

void TcpStream::update_interest() {
  if (!fd_.valid()) return;
  uint32_t want = 0;
  const bool paused = state_ == State::open && !have_handlers_ && held_.size() >= kMaxHeld;
  if (!paused) want |= EPOLLIN;
  if (pending() > 0) want |= EPOLLOUT;
  if (want == interest_) return;
  if (loop_.modify_fd(fd_.get(), want)) interest_ = want;
}

}  // namespace loom::live
