// StreamEnd: what every simulated Stream does the same way, whatever moves
// its bytes: the engine's handlers, bytes held until set_handlers() (or
// while a flush of them is due), and reporting the end once, after them.
//
// Derived (TcpStream, MessageStream) moves the bytes, calls deliver() with
// what arrives and ended() when the peer closes, resets or times out, and
// provides finish(): the stream has nothing more to do.
#pragma once

#include <memory>
#include <utility>

#include "model/host.h"
#include "sim/ns3_host.h"

namespace loom::sim {

template <typename Derived>
class StreamEnd : public Stream {
 public:
  void set_handlers(Handlers handlers) override {
    if (state_ == State::done || state_ == State::closing) return;
    handlers_ = std::move(handlers);
    have_handlers_ = true;
    if ((!held_.empty() || state_ == State::ended) && !flush_scheduled_) {
      // Delivered from the event loop, never from inside this call.
      flush_scheduled_ = true;
      std::weak_ptr<Derived> weak = derived().shared_from_this();
      host_->later([weak] {
        if (auto self = weak.lock()) self->flush_held();
      });
    }
  }
  bool is_open() const override { return state_ == State::open; }

 protected:
  enum class State {
    open,
    closing,  // close() called; what was written is still on its way
    ended,    // closed by the peer, reset or timed out; on_close to report
    done,     // nothing more happens
  };

  explicit StreamEnd(Ns3Host& host) : host_(&host) {}

  // Bytes from the peer, to the engine now or held until it can take them.
  void deliver(ByteView bytes) {
    if (!have_handlers_ || flush_scheduled_) {
      held_.insert(held_.end(), bytes.begin(), bytes.end());
      return;
    }
    // A copy: the handler may replace the handlers while it runs.
    auto on_data = handlers_.on_data;
    if (on_data) host_->deliver([&] { on_data(bytes); });
  }

  void flush_held() {
    flush_scheduled_ = false;
    if (state_ == State::done || state_ == State::closing) {
      held_.clear();
      return;
    }
    if (!held_.empty()) {
      Bytes bytes = std::move(held_);
      held_.clear();
      deliver(bytes);
    }
    if (state_ == State::ended && !flush_scheduled_) report_end();
  }

  // The peer closed, reset or timed out: on_close once. Without handlers
  // yet, set_handlers() schedules the report; with a flush pending, the
  // flush reports after the held bytes.
  void ended(Error error) {
    state_ = State::ended;
    end_error_ = std::move(error);
    if (have_handlers_ && !flush_scheduled_) report_end();
  }

  void report_end() {
    auto self = derived().shared_from_this();
    auto on_close = handlers_.on_close;
    Ns3Host* host = host_;
    derived().finish();
    if (on_close) host->deliver([&] { on_close(end_error_); });
  }

  Ns3Host* host_;
  State state_ = State::open;
  Handlers handlers_;
  bool have_handlers_ = false;
  bool flush_scheduled_ = false;
  Bytes held_;  // bytes that arrived before set_handlers(), or before a flush
  Error end_error_;

 private:
  Derived& derived() { return static_cast<Derived&>(*this); }
};

}  // namespace loom::sim
