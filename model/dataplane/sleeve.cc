#include "model/dataplane/sleeve.h"

#include <algorithm>
#include <string>

#include "model/dataplane/frag_needed.h"
#include "model/dataplane/sleeve_frames.h"
#include "model/wire/byte_order.h"

namespace loom::dataplane {

// ---- SleeveOverlay ----------------------------------------------------------

SleeveOverlay::~SleeveOverlay() {
  if (socket_ != nullptr) socket_->on_receive(nullptr);
}

Result<void> SleeveOverlay::start() {
  auto socket = env_.host().udp(env_.config().sleeve_port);
  if (!socket) return socket.error();
  socket_ = *socket;
  socket_->on_receive([this](const Endpoint& from, ByteView datagram) { receive(from, datagram); });
  return {};
}

std::unique_ptr<Forwarder> SleeveOverlay::make_forwarder(const ForwarderParams& params,
                                                         ForwarderEvents events) {
  return std::make_unique<SleeveForwarder>(*this, params, std::move(events));
}

void SleeveOverlay::receive(const Endpoint& from, ByteView datagram) {
  if (datagram.size() < kPeerNameSize) {
    env_.counters().drop(Drop::kBadDatagram);
    return;
  }
  auto it = forwarders_.find(get_peer_name(datagram.data()));
  if (it == forwarders_.end()) {
    env_.counters().drop(Drop::kUnknownSender);
    return;
  }
  it->second->receive(from, datagram.subview(kPeerNameSize));
}

// ---- SleeveForwarder --------------------------------------------------------

SleeveForwarder::SleeveForwarder(SleeveOverlay& overlay, const ForwarderParams& params,
                                 ForwarderEvents events)
    : overlay_(overlay),
      params_(params),
      events_(std::move(events)),
      overhead_df_(crypto::sleeve_overhead(params.session_key.has_value())),
      heartbeats_(
          overlay.env_.host(), [this] { send_heartbeat(); },
          [this] { fail("timed out waiting for UDP heartbeat"); }) {
  if (params_.outbound)
    remote_addr_ = Endpoint{params_.remote_address.addr, env().config().sleeve_port};
  if (params_.session_key) {
    enc_.emplace(*params_.session_key, params_.outbound, false);
    enc_df_.emplace(*params_.session_key, params_.outbound, true);
    dec_.emplace(*params_.session_key, params_.outbound);
  }
}

SleeveForwarder::~SleeveForwarder() {
  stop();
  env().host().cancel(fail_timer_);
}

std::string SleeveForwarder::prefix() const {
  return "sleeve ->[" + (remote_addr_ ? remote_addr_->to_string() : std::string("<nil>")) + "|" +
         params_.remote.to_string() + "]: ";
}

size_t SleeveForwarder::datagram_overhead() const {
  return crypto::sleeve_packet_overhead(encrypted());
}

void SleeveForwarder::confirm() {
  if (confirmed_ || stopped_) return;
  confirmed_ = true;
  overlay_.forwarders_[params_.remote] = this;
  LOOM_LOG(env().host().log(), "dataplane", debug, prefix() << "confirmed");
  heartbeats_.set_interval(env().config().fast_heartbeat);
  if (remote_addr_) heartbeats_.start(Time(0));
  reset_timeout();
}

void SleeveForwarder::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (auto it = overlay_.forwarders_.find(params_.remote);
      it != overlay_.forwarders_.end() && it->second == this) {
    overlay_.forwarders_.erase(it);
  }
  Host& host = env().host();
  for (TimerId t : {flush_timer_, frag_timer_, mtu_timer_}) host.cancel(t);
  flush_timer_ = frag_timer_ = mtu_timer_ = 0;
  heartbeats_.stop();
}

void SleeveForwarder::fail(const std::string& reason) {
  if (fail_timer_ != 0 || stopped_) return;
  fail_timer_ = env().host().after(Time(0), [this, reason] {
    fail_timer_ = 0;
    if (stopped_) return;
    LOOM_LOG(env().host().log(), "dataplane", info, prefix() << reason);
    stop();
    if (events_.failed) events_.failed(make_error(reason));
  });
}

// ---- Sending ----------------------------------------------------------------

ForwardResult SleeveForwarder::forward(const ForwardKey& key, ByteView frame, bool broadcast) {
  if (stopped_) return ForwardResult::kNotCarried;
  DataPlaneCounters& c = env().counters();
  if (!remote_addr_) {
    LOOM_LOG(env().host().log(), "dataplane", debug,
             prefix() << "Cannot forward frame yet - awaiting contact");
    c.drop(Drop::kAwaitingContact);
    return ForwardResult::kDropped;
  }
  const bool too_big = frame.size() > mtu_ + kEthernetOverhead;
  if (ipv4_dont_fragment(frame)) {
    if (!too_big) {
      return aggregate(true, key.src, key.dst, frame) ? ForwardResult::kSent
                                                      : ForwardResult::kDropped;
    }
    if (broadcast) {
      LOOM_LOG(env().host().log(), "dataplane", info,
               prefix() << "dropping too big DF broadcast frame: MTU=" << mtu_);
      c.drop(Drop::kTooBigBroadcast);
      return ForwardResult::kDropped;
    }
    // As if the destination said so: back to where the frame came from.
    auto icmp = make_frag_needed(frame, mtu_);
    if (!icmp) {
      LOOM_LOG(env().host().log(), "dataplane", info, prefix() << icmp.error().message);
      c.drop(Drop::kBadFrame);
      return ForwardResult::kDropped;
    }
    c.frag_needed->add();
    c.drop(Drop::kTooBig);
    LOOM_LOG(env().host().log(), "dataplane", debug,
             prefix() << "Sending ICMP 3,4 back to " << key.src.to_string() << ": PMTU= " << mtu_);
    env().forwarded(key.dst, key.src, *icmp);
    return ForwardResult::kDropped;
  }
  // No DF. Weave sends it without DF when its fragmentation test passed
  // (or it is not IPv4), with DF when it fits, and otherwise fragments it in
  // userspace; Loom sends such a frame without DF instead and lets the
  // underlay's stack fragment it (both backends' stacks do).
  const bool ipv4 =
      frame.size() >= kEthernetOverhead + 20 && frame[12] == 0x08 && frame[13] == 0x00;
  const bool df_path = ipv4 && !stack_frag_ && !too_big;
  return aggregate(df_path, key.src, key.dst, frame) ? ForwardResult::kSent
                                                     : ForwardResult::kDropped;
}

bool SleeveForwarder::aggregate(bool df, PeerName src, PeerName dst, ByteView frame) {
  const size_t limit = df ? max_payload_ : kSleeveDefaultMtu - kUdpOverhead;
  const size_t need = kSleeveFrameOverhead + frame.size();
  if (datagram_overhead() + need > limit) {
    LOOM_LOG(env().host().log(), "dataplane", info,
             prefix() << "Dropping too big frame during forwarding: frame len " << frame.size()
                      << ", limit " << limit);
    env().counters().drop(Drop::kTooBig);
    return false;
  }
  Batch& batch = batches_[df ? 1 : 0];
  // Frames are added while they fit maxPayload (even without DF: no frame
  // should cause another's fragmentation), up to 100 per datagram.
  if (batch.count > 0 && (datagram_overhead() + batch.frames.size() + need > max_payload_ ||
                          batch.count >= env().config().max_batch_frames)) {
    flush(df);
  }
  append_sleeve_frame(batch.frames, src, dst, frame);
  ++batch.count;
  env().counters().sent[static_cast<size_t>(OverlayKind::kSleeve)]->add();
  if (flush_timer_ == 0) {
    flush_timer_ = env().host().after(Time(0), [this] {
      flush_timer_ = 0;
      flush_all();
    });
  }
  return true;
}

void SleeveForwarder::flush_all() {
  flush(true);
  flush(false);
}

void SleeveForwarder::flush(bool df) {
  Batch& batch = batches_[df ? 1 : 0];
  if (batch.count == 0) return;
  send_datagram(df, batch.frames);
  batch.frames.clear();
  batch.count = 0;
}

bool SleeveForwarder::send_datagram(bool df, ByteView frames) {
  // Batches reuse one buffer; anything bigger than a batch can be (the
  // 60 KB frag test) gets a buffer of its own, or every forwarder would
  // keep 60 KB for good: 720 MB at a thousand hosts.
  Bytes own;
  Bytes& datagram = frames.size() > kReusedDatagramCapacity ? own : datagram_;
  datagram.resize(kPeerNameSize);
  put_peer_name(datagram.data(), env().topology().ourselves());
  if (encrypted()) {
    auto sealed = (df ? enc_df_ : enc_)->seal(frames);
    if (!sealed) {
      fail("sleeve: " + sealed.error().message);
      return false;
    }
    datagram.insert(datagram.end(), sealed->begin(), sealed->end());
  } else {
    datagram.insert(datagram.end(), frames.begin(), frames.end());
  }
  if (!overlay_.socket_->send_to(*remote_addr_, datagram)) {
    env().counters().drop(Drop::kSendFailed);
    return false;
  }
  return true;
}

void SleeveForwarder::send_special(bool df, ByteView frame) {
  if (!remote_addr_ || stopped_) return;
  Bytes frames;
  append_sleeve_frame(frames, env().topology().ourselves(), params_.remote, frame);
  send_datagram(df, frames);
}

// ---- Receiving --------------------------------------------------------------

void SleeveForwarder::receive(const Endpoint& from, ByteView body) {
  if (stopped_) return;
  DataPlaneCounters& c = env().counters();
  std::optional<crypto::SleevePayload> opened;
  ByteView frames = body;
  if (dec_) {
    auto r = dec_->open(body);
    if (!r) {
      c.sleeve_rejected[static_cast<size_t>(r.reason())]->add();
      LOOM_LOG(env().host().log(), "dataplane", debug,
               prefix() << "dropped datagram from " << from.to_string() << ": "
                        << crypto::to_string(r.reason()));
      return;
    }
    opened.emplace(std::move(*r));
    frames = opened->frames;
  }
  auto walked = for_each_sleeve_frame(
      frames, [&](const SleeveFrame& f) { handle_frame(from, f.src, f.dst, f.frame); });
  if (!walked) {
    // Non-fatal, as in Weave: a stray or broken datagram.
    c.drop(Drop::kBadDatagram);
    LOOM_LOG(env().host().log(), "dataplane", info, prefix() << walked.error().message);
  }
}

void SleeveForwarder::handle_frame(const Endpoint& from, PeerName src, PeerName dst,
                                   ByteView frame) {
  DataPlaneCounters& c = env().counters();
  if (frame.size() < kEthernetOverhead) {
    c.drop(Drop::kBadFrame);
    return;
  }
  Topology& topology = env().topology();
  if (!topology.known(src) || !topology.known(dst)) {
    c.drop(Drop::kUnknownPeer);
    return;
  }
  if (is_special_frame(frame)) {
    if (src == params_.remote && dst == topology.ourselves()) handle_special(from, frame);
    return;
  }
  c.received[static_cast<size_t>(OverlayKind::kSleeve)]->add();
  env().forwarded(src, dst, frame);
}

void SleeveForwarder::handle_special(const Endpoint& from, ByteView frame) {
  if (frame.size() == kSleeveHeartbeatSize) {
    const uint8_t* p = frame.data() + kEthernetOverhead;
    const uint64_t uid = (uint64_t{wire::load_be32(p)} << 32) | wire::load_be32(p + 4);
    if (uid != params_.connection_uid) return;
    if (!remote_addr_) {
      remote_addr_ = from;
      if (confirmed_) heartbeats_.start(Time(0));
    } else if (*remote_addr_ != from) {
      LOOM_LOG(env().host().log(), "dataplane", info,
               prefix() << "Peer UDP address changed to " << from.to_string());
      remote_addr_ = from;
    }
    if (!acked_heartbeat_) {
      acked_heartbeat_ = true;
      params_.send_control(kSleeveConnectionEstablished, ByteView());
    }
    if (confirmed_) reset_timeout();
    return;
  }
  if (frame.size() == kSleeveFragTestSize) {
    if (std::all_of(frame.begin(), frame.end(), [](uint8_t b) { return b == 0; })) {
      params_.send_control(kSleeveFragmentationReceived, ByteView());
    }
    return;
  }
  // An MTU probe: say how big it was.
  uint8_t len[2];
  wire::store_be16(len, static_cast<uint16_t>(frame.size() - kEthernetOverhead));
  params_.send_control(kSleevePmtuVerified, ByteView(len, 2));
}

// ---- Heartbeats and control -------------------------------------------------

void SleeveForwarder::reset_timeout() {
  heartbeats_.reset_timeout(env().config().heartbeat_timeout());
}

void SleeveForwarder::send_heartbeat() {
  Bytes frame(kSleeveHeartbeatSize, 0);
  wire::store_be32(frame.data() + kEthernetOverhead,
                   static_cast<uint32_t>(params_.connection_uid >> 32));
  wire::store_be32(frame.data() + kEthernetOverhead + 4,
                   static_cast<uint32_t>(params_.connection_uid));
  send_special(true, frame);
}

void SleeveForwarder::control_message(uint8_t tag, ByteView payload) {
  if (stopped_) return;
  switch (tag) {
    case kSleeveConnectionEstablished:
      heartbeat_acked();
      return;
    case kSleeveFragmentationReceived:
      stack_frag_ = true;
      return;
    case kSleevePmtuVerified: {
      if (payload.size() < 2) {
        LOOM_LOG(env().host().log(), "dataplane", info,
                 prefix() << "Received truncated MTUTestAck");
        return;
      }
      const size_t mtu = wire::load_be16(payload.data());
      if (mtu_candidate_ == 0 || mtu != mtu_candidate_) return;
      mtu_highest_good_ = mtu;
      search_mtu();
      return;
    }
    default:
      LOOM_LOG(env().host().log(), "dataplane", info,
               prefix() << "Ignoring unknown control message tag: " << int(tag));
      return;
  }
}

void SleeveForwarder::heartbeat_acked() {
  const DataPlaneConfig& config = env().config();
  if (heartbeats_.set_interval(config.slow_heartbeat)) {
    if (!established_) {
      established_ = true;
      if (events_.established) events_.established();
    }
  }
  if (stopped_) return;
  send_frag_test();
  arm_frag_test();
  if (config.pmtu_discovery) start_pmtu_discovery();
}

void SleeveForwarder::send_frag_test() {
  stack_frag_ = false;
  send_special(false, Bytes(kSleeveFragTestSize, 0));
}

void SleeveForwarder::arm_frag_test() {
  Host& host = env().host();
  host.cancel(frag_timer_);
  frag_timer_ = host.after(env().config().frag_test_interval, [this] {
    frag_timer_ = 0;
    send_frag_test();
    arm_frag_test();
  });
}

// Weave sends a 60000-byte DF frame, the kernel refuses it with EMSGSIZE
// and tells the path MTU; here that MTU is the configured underlay's.
void SleeveForwarder::start_pmtu_discovery() {
  const size_t pmtu = env().config().underlay_mtu;
  if (pmtu <= overhead_df_) return;
  const size_t mtu = pmtu - overhead_df_;
  if (mtu_candidate_ != 0 && mtu >= mtu_candidate_) return;
  mtu_highest_good_ = 8;
  mtu_lowest_bad_ = mtu + 1;
  mtu_candidate_ = mtu;
  mtu_tests_sent_ = 0;
  max_payload_ = pmtu - kUdpOverhead;
  mtu_ = mtu;
  send_mtu_test();
}

void SleeveForwarder::send_mtu_test() {
  send_special(true, Bytes(mtu_candidate_ + kEthernetOverhead, 0));
  Host& host = env().host();
  host.cancel(mtu_timer_);
  mtu_timer_ =
      host.after(env().config().mtu_verify_timeout * (int64_t{1} << mtu_tests_sent_), [this] {
        mtu_timer_ = 0;
        mtu_test_failed();
      });
  ++mtu_tests_sent_;
}

void SleeveForwarder::mtu_test_failed() {
  if (mtu_tests_sent_ < env().config().mtu_verify_attempts) {
    send_mtu_test();
    return;
  }
  mtu_lowest_bad_ = mtu_candidate_;
  search_mtu();
}

void SleeveForwarder::search_mtu() {
  if (mtu_highest_good_ + 1 >= mtu_lowest_bad_) {
    const size_t mtu = mtu_highest_good_;
    LOOM_LOG(env().host().log(), "dataplane", info,
             prefix() << "Effective MTU verified at " << mtu);
    env().host().cancel(mtu_timer_);
    mtu_timer_ = 0;
    mtu_candidate_ = 0;
    max_payload_ = mtu + overhead_df_ - kUdpOverhead;
    mtu_ = mtu;
    return;
  }
  mtu_candidate_ = (mtu_highest_good_ + mtu_lowest_bad_) / 2;
  mtu_tests_sent_ = 0;
  send_mtu_test();
}

}  // namespace loom::dataplane
