// sleeve: Weave's own UDP encapsulation on port 6783 (weave:router/sleeve.go;
// weave-protocol.md 3.4, 4.3). Framing in sleeve_frames.h.
//
// Per connection, a forwarder batches frames (up to 100 per datagram, as
// long as they fit) in two queues: frames whose IPv4 header has DF, and the
// rest. Sealed (the mesh has a password), each queue has its own
// SleeveEncryptor and the receiver its two replay windows. Frames queued
// during one event go out together when it ends (a zero-delay flush).
//
// Liveness: 22-byte heartbeat frames every 500 ms after confirm(); the
// inbound side learns the remote's UDP address from the first one (Weave's
// NAT traversal). Receiving the first valid heartbeat, a forwarder sends
// ConnectionEstablished (control tag 1); receiving that, the sender is
// established and heartbeats every 10 s; then it tests fragmentation
// (60001 bytes without DF; FragmentationReceived, tag 2, every 5 minutes)
// and discovers the path MTU (probes of MTU + 14 bytes; PMTUVerified, tag
// 3; 8 attempts from 10 ms, doubling; a binary search). 60 s without a
// heartbeat fails the forwarder.
//
// MTU: a DF frame over the MTU gets an ICMP fragmentation-needed back to
// its sender (a broadcast one is dropped); frames without DF are sent and
// the underlay fragments them.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <optional>

#include "model/crypto/sleeve_crypto.h"
#include "model/dataplane/forwarder.h"
#include "model/dataplane/heartbeats.h"

namespace loom::dataplane {

// Control tags of sleeve's forwarder (mesh's legacy protocol tags 1-3).
inline constexpr uint8_t kSleeveConnectionEstablished = 1;
inline constexpr uint8_t kSleeveFragmentationReceived = 2;
inline constexpr uint8_t kSleevePmtuVerified = 3;
inline constexpr size_t kSleeveDefaultMtu = 65535;
inline constexpr size_t kUdpOverhead = 28;  // IPv4 + UDP

class SleeveForwarder;

class SleeveOverlay {
 public:
  explicit SleeveOverlay(OverlayEnv& env) : env_(env) {}
  ~SleeveOverlay();
  SleeveOverlay(const SleeveOverlay&) = delete;
  SleeveOverlay& operator=(const SleeveOverlay&) = delete;

  Result<void> start();
  std::unique_ptr<Forwarder> make_forwarder(const ForwarderParams& params, ForwarderEvents events);
  size_t forwarder_count() const { return forwarders_.size(); }

  void receive(const Endpoint& from, ByteView datagram);

 private:
  friend class SleeveForwarder;
  OverlayEnv& env_;
  DatagramSocket* socket_ = nullptr;
  std::map<PeerName, SleeveForwarder*> forwarders_;  // confirmed, by remote peer
};

class SleeveForwarder final : public Forwarder {
 public:
  SleeveForwarder(SleeveOverlay& overlay, const ForwarderParams& params, ForwarderEvents events);
  ~SleeveForwarder() override;

  OverlayKind kind() const override { return OverlayKind::kSleeve; }
  void confirm() override;
  void control_message(uint8_t tag, ByteView payload) override;
  void stop() override;
  ForwardResult forward(const ForwardKey& key, ByteView frame, bool broadcast) override;
  size_t mtu() const override { return mtu_; }
  bool encrypted() const override { return params_.session_key.has_value(); }

  PeerName remote() const { return params_.remote; }
  bool established() const { return established_; }
  // The body of a datagram from this peer (after the sender name).
  void receive(const Endpoint& from, ByteView body);

 private:
  struct Batch {
    Bytes frames;
    size_t count = 0;
  };
  OverlayEnv& env() const { return overlay_.env_; }
  std::string prefix() const;
  // Queues a frame for the DF or non-DF datagram; false when it can never fit.
  bool aggregate(bool df, PeerName src, PeerName dst, ByteView frame);
  void flush(bool df);
  void flush_all();
  // A frame of ours for the remote, sent at once in its own datagram.
  void send_special(bool df, ByteView frame);
  bool send_datagram(bool df, ByteView frames);
  size_t datagram_overhead() const;
  void handle_frame(const Endpoint& from, PeerName src, PeerName dst, ByteView frame);
  void handle_special(const Endpoint& from, ByteView frame);
  void send_heartbeat();
  void reset_timeout();
  void heartbeat_acked();
  void send_frag_test();
  void arm_frag_test();
  void start_pmtu_discovery();
  void send_mtu_test();
  void mtu_test_failed();
  void search_mtu();
  void fail(const std::string& reason);

  SleeveOverlay& overlay_;
  ForwarderParams params_;
  ForwarderEvents events_;
  std::optional<Endpoint> remote_addr_;
  bool confirmed_ = false;
  bool stopped_ = false;
  bool established_ = false;
  bool acked_heartbeat_ = false;
  bool stack_frag_ = false;
  size_t mtu_ = kSleeveDefaultMtu;
  size_t max_payload_ = kSleeveDefaultMtu - kUdpOverhead;
  size_t overhead_df_;
  // PMTU discovery (Weave's mtuTest*).
  size_t mtu_candidate_ = 0;
  size_t mtu_highest_good_ = 0;
  size_t mtu_lowest_bad_ = 0;
  int mtu_tests_sent_ = 0;
  std::array<Batch, 2> batches_{};  // [0] non-DF, [1] DF
  std::optional<crypto::SleeveEncryptor> enc_;
  std::optional<crypto::SleeveEncryptor> enc_df_;
  std::optional<crypto::SleeveDecryptor> dec_;
  TimerId flush_timer_ = 0;
  TimerId frag_timer_ = 0;
  TimerId mtu_timer_ = 0;
  TimerId fail_timer_ = 0;
  Heartbeats heartbeats_;  // interval 0 until confirmed
  // Reused for batches up to this size (a jumbo MTU's worth).
  static constexpr size_t kReusedDatagramCapacity = 9 * 1024;
  Bytes datagram_;
};

}  // namespace loom::dataplane
