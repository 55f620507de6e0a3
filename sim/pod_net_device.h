// PodNetDevice: a simulated pod's NIC, whose other end is its host's bridge().
//
// Ethernet II framing (no FCS, no padding), a MAC from Mac48Address::Allocate.
// A frame the pod's stack sends goes straight to the host's PodBridge (and
// from there to the FramePort receiver); a frame the host sends arrives
// through Receive(). No rate, delay or queue: a veth pair, not a wire.
#pragma once

#include <cstdint>

#include <ns3/channel.h>
#include <ns3/mac48-address.h>
#include <ns3/net-device.h>
#include <ns3/node.h>
#include <ns3/ptr.h>

#include "model/bytes.h"

namespace loom::sim {

class PodBridge;

class PodNetDevice final : public ns3::NetDevice {
 public:
  static constexpr uint16_t kEthernetHeader = 14;

  static ns3::TypeId GetTypeId();
  PodNetDevice();

  // The host side; null detaches (frames the pod sends are then dropped).
  void SetBridge(PodBridge* bridge) { bridge_ = bridge; }
  // One Ethernet II frame from the host's bridge.
  void Receive(const Bytes& frame);
  ns3::Mac48Address mac() const { return mac_; }

  void SetIfIndex(uint32_t index) override { if_index_ = index; }
  uint32_t GetIfIndex() const override { return if_index_; }
  ns3::Ptr<ns3::Channel> GetChannel() const override { return nullptr; }
  void SetAddress(ns3::Address address) override;
  ns3::Address GetAddress() const override { return mac_; }
  bool SetMtu(uint16_t mtu) override;
  uint16_t GetMtu() const override { return mtu_; }
  bool IsLinkUp() const override { return true; }
  void AddLinkChangeCallback(ns3::Callback<void>) override {}
  bool IsBroadcast() const override { return true; }
  ns3::Address GetBroadcast() const override { return ns3::Mac48Address::GetBroadcast(); }
  bool IsMulticast() const override { return true; }
  ns3::Address GetMulticast(ns3::Ipv4Address group) const override;
  ns3::Address GetMulticast(ns3::Ipv6Address group) const override;
  bool IsBridge() const override { return false; }
  bool IsPointToPoint() const override { return false; }
  bool Send(ns3::Ptr<ns3::Packet> packet, const ns3::Address& dest, uint16_t protocol) override;
  bool SendFrom(ns3::Ptr<ns3::Packet> packet, const ns3::Address& source, const ns3::Address& dest,
                uint16_t protocol) override;
  ns3::Ptr<ns3::Node> GetNode() const override { return node_; }
  void SetNode(ns3::Ptr<ns3::Node> node) override { node_ = node; }
  bool NeedsArp() const override { return true; }
  void SetReceiveCallback(ReceiveCallback cb) override { rx_ = cb; }
  void SetPromiscReceiveCallback(PromiscReceiveCallback cb) override { promisc_rx_ = cb; }
  bool SupportsSendFrom() const override { return true; }

 private:
  void DoDispose() override;

  ns3::Ptr<ns3::Node> node_;
  uint32_t if_index_ = 0;
  ns3::Mac48Address mac_;
  uint16_t mtu_ = 1376;
  PodBridge* bridge_ = nullptr;
  ReceiveCallback rx_;
  PromiscReceiveCallback promisc_rx_;
  Bytes frame_;  // reused for outgoing frames
};

}  // namespace loom::sim
