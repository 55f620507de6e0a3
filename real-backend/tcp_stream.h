// TcpStream: Stream over a connected, non-blocking TCP socket.
//
// write() sends what the kernel takes at once and queues the rest, flushed
// on EPOLLOUT; pending() is the queue, and on_drained is called when an
// EPOLLOUT flush empties it. close() flushes, shuts down the write
// side, then reads and discards until the peer closes too (or a linger time
// passes), so the last bytes are not lost to a reset. A peer's close or reset
// is reported once through on_close; bytes that arrive before set_handlers()
// are held (reading pauses past 1 MiB held, pushing back on the peer).
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "model/host.h"
#include "real-backend/event_loop.h"
#include "real-backend/socket_util.h"

namespace loom::live {

class TcpStream final : public loom::Stream, public std::enable_shared_from_this<TcpStream> {
 public:
  // Called from the loop once the socket is closed, whichever side ended it:
  // the owner drops its reference then.
  using FinishedHandler = std::function<void(TcpStream*)>;

  // Takes a connected non-blocking socket and registers it with loop.
  static Result<std::shared_ptr<TcpStream>> adopt(EventLoop& loop, UniqueFd fd,
                                                  FinishedHandler on_finished,
                                                  Time close_linger = std::chrono::seconds(10));
  ~TcpStream() override;

  Endpoint local() const override { return local_; }
  Endpoint remote() const override { return remote_; }
  void set_handlers(Handlers handlers) override;
  void write(ByteView bytes) override;
  size_t pending() const override { return out_.size() - out_offset_; }
  void close() override;
  bool is_open() const override { return state_ == State::open; }

  // The owner is going away: close the socket now and call nothing more.
  void detach();

 private:
  enum class State { open, flushing, draining, closed };

  TcpStream(EventLoop& loop, UniqueFd fd, FinishedHandler on_finished, Time close_linger);
  void on_events(uint32_t events);
  void read_available(bool ignore_pause);
  void flush();
  void begin_drain();
  // The stream ended (peer close, reset, error): close the socket and report.
  void fail(Error error);
  // Closes the socket and tells the owner.
  void finish();
  void deliver_held();
  void update_interest();

  EventLoop& loop_;
  UniqueFd fd_;
  Endpoint local_;
  Endpoint remote_;
  FinishedHandler on_finished_;
  Time close_linger_;
  State state_ = State::open;

  Handlers handlers_;
  bool have_handlers_ = false;
  std::string held_;                 // bytes read before handlers were set (or not yet delivered)
  std::optional<Error> held_close_;  // the end of the stream, waiting behind held_
  bool delivery_posted_ = false;
  bool write_failed_ = false;

  Bytes out_;
  size_t out_offset_ = 0;
  uint32_t interest_ = 0;
  TimerId linger_timer_ = 0;
};

}  // namespace loom::live
