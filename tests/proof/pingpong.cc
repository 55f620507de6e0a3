#include "tests/proof/pingpong.h"

#include <cstring>
#include <utility>

namespace loom::proof {

namespace {

constexpr std::string_view kComponent = "pingpong";

// Wire format of a ping or pong: 4 bytes "PING"/"PONG", 4 bytes sequence
// (big endian). Anything else is ignored, as a real engine ignores garbage.
Bytes encode(const char tag[4], uint32_t seq) {
  Bytes b(8);
  std::memcpy(b.data(), tag, 4);
  for (int i = 0; i < 4; ++i) b[4 + i] = static_cast<uint8_t>(seq >> (24 - 8 * i));
  return b;
}

bool decode(ByteView payload, const char tag[4], uint32_t* seq) {
  if (payload.size() != 8 || std::memcmp(payload.data(), tag, 4) != 0) return false;
  *seq = 0;
  for (int i = 0; i < 4; ++i) *seq = (*seq << 8) | payload[4 + i];
  return true;
}

}  // namespace

Responder::Responder(Host& host, PingPongConfig config) : host_(host), config_(config) {}

Responder::~Responder() {
  for (auto& s : streams_) s->close();
}

Result<void> Responder::start() {
  auto socket = host_.udp(config_.udp_port);
  if (!socket) return socket.error();
  DatagramSocket* udp = *socket;
  udp->on_receive([this, udp](const Endpoint& from, ByteView payload) {
    uint32_t seq;
    if (!decode(payload, "PING", &seq)) return;
    report_.pings_seen++;
    if (report_.pings_ignored < config_.drop_first) {
      report_.pings_ignored++;
      LOOM_LOG(host_.log(), kComponent, info,
               "ignoring ping " << seq << " from " << from.to_string());
      return;
    }
    if (udp->send_to(from, encode("PONG", seq))) report_.pongs_sent++;
  });
  return host_.listen(config_.tcp_port, [this](StreamPtr stream) {
    Stream* raw = stream.get();
    streams_.push_back(stream);
    raw->set_handlers({
        .on_data =
            [this, raw](ByteView bytes) {
              report_.bytes_echoed += bytes.size();
              raw->write(bytes);
            },
        .on_close =
            [this](const Error& why) {
              report_.stream_closed_by_peer = true;
              report_.close_reason = why.message;
            },
    });
  });
}

Pinger::Pinger(Host& host, Ipv4 responder, PingPongConfig config)
    : host_(host),
      responder_udp_{responder, config.udp_port},
      responder_tcp_{responder, config.tcp_port},
      config_(config) {}

Pinger::~Pinger() {
  host_.cancel(retry_timer_);
  if (stream_) stream_->close();
}

Result<void> Pinger::start() {
  auto socket = host_.udp(0);
  if (!socket) return socket.error();
  socket_ = *socket;
  socket_->on_receive([this](const Endpoint&, ByteView payload) { on_pong(payload); });
  send_ping(next_seq_, false);
  return {};
}

void Pinger::send_ping(int seq, bool retry) {
  if (++attempts_ > config_.max_attempts) {
    finish("ping " + std::to_string(seq) + " unanswered after " +
           std::to_string(config_.max_attempts) + " attempts");
    return;
  }
  if (retry) {
    report_.retries++;
    event("retry " + std::to_string(seq));
  } else {
    event("ping " + std::to_string(seq));
  }
  socket_->send_to(responder_udp_, encode("PING", static_cast<uint32_t>(seq)));
  retry_timer_ = host_.after(config_.retry_after, [this, seq] { send_ping(seq, true); });
}

void Pinger::on_pong(ByteView payload) {
  uint32_t seq;
  if (done_ || !decode(payload, "PONG", &seq)) return;
  if (static_cast<int>(seq) != next_seq_) {
    report_.duplicate_pongs++;
    return;
  }
  host_.cancel(retry_timer_);
  retry_timer_ = 0;
  if (report_.pongs == 0) report_.first_pong_at = host_.now();
  report_.pongs++;
  event("pong " + std::to_string(seq));
  if (next_seq_ < config_.pings) {
    ++next_seq_;
    attempts_ = 0;
    send_ping(next_seq_, false);
  } else {
    start_echo();
  }
}

void Pinger::start_echo() {
  // Content from the host's random stream: reproducible per seed in ns-3.
  echo_expected_.resize(config_.echo_bytes);
  for (auto& b : echo_expected_) b = static_cast<uint8_t>(host_.random().next());
  host_.connect(responder_tcp_, [this](Result<StreamPtr> result) {
    if (!result) {
      finish("connect to " + responder_tcp_.to_string() + " failed: " + result.error().message);
      return;
    }
    stream_ = *result;
    event("connected");
    stream_->set_handlers({
        .on_data = [this](ByteView bytes) { on_echo(bytes); },
        .on_close = [this](const Error& why) { finish("stream closed early: " + why.message); },
    });
    for (size_t off = 0; off < echo_expected_.size(); off += config_.message_bytes) {
      stream_->write(ByteView(echo_expected_).subview(off, config_.message_bytes));
    }
  });
}

void Pinger::on_echo(ByteView bytes) {
  if (done_) return;
  size_t at = report_.echo_received;
  if (at + bytes.size() > echo_expected_.size() ||
      std::memcmp(echo_expected_.data() + at, bytes.data(), bytes.size()) != 0) {
    finish("echo differs from what was sent at byte offset " + std::to_string(at));
    return;
  }
  report_.echo_received += bytes.size();
  if (report_.echo_received == echo_expected_.size()) {
    report_.echo_ok = true;
    event("echo ok");
    finish();
  }
}

void Pinger::event(std::string what) {
  report_.events.push_back(std::move(what));
  report_.event_times.push_back(host_.now());
}

void Pinger::finish(std::string failure) {
  if (done_) return;
  done_ = true;
  host_.cancel(retry_timer_);
  retry_timer_ = 0;
  if (!failure.empty()) {
    report_.failed = true;
    report_.failure = std::move(failure);
    event("failed: " + report_.failure);
    LOOM_LOG(host_.log(), kComponent, warn, report_.failure);
  }
  if (stream_) stream_->close();
  report_.finished_at = host_.now();
}

}  // namespace loom::proof
