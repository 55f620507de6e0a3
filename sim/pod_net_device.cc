#include "sim/pod_net_device.h"

#include <algorithm>

#include <ns3/ipv4-address.h>
#include <ns3/ipv6-address.h>
#include <ns3/packet.h>
#include <ns3/uinteger.h>

#include "sim/ns3_host.h"

namespace loom::sim {

ns3::TypeId PodNetDevice::GetTypeId() {
  static ns3::TypeId tid = ns3::TypeId("loom::sim::PodNetDevice")
                               .SetParent<ns3::NetDevice>()
                               .SetGroupName("Loom")
                               .AddConstructor<PodNetDevice>();
  return tid;
}

PodNetDevice::PodNetDevice() : mac_(ns3::Mac48Address::Allocate()) {}

void PodNetDevice::SetAddress(ns3::Address address) {
  mac_ = ns3::Mac48Address::ConvertFrom(address);
}

bool PodNetDevice::SetMtu(uint16_t mtu) {
  mtu_ = mtu;
  return true;
}

ns3::Address PodNetDevice::GetMulticast(ns3::Ipv4Address group) const {
  return ns3::Mac48Address::GetMulticast(group);
}

ns3::Address PodNetDevice::GetMulticast(ns3::Ipv6Address group) const {
  return ns3::Mac48Address::GetMulticast(group);
}

bool PodNetDevice::Send(ns3::Ptr<ns3::Packet> packet, const ns3::Address& dest, uint16_t protocol) {
  return SendFrom(packet, mac_, dest, protocol);
}

bool PodNetDevice::SendFrom(ns3::Ptr<ns3::Packet> packet, const ns3::Address& source,
                            const ns3::Address& dest, uint16_t protocol) {
  if (bridge_ == nullptr || packet->GetSize() > mtu_) return false;
  frame_.resize(kEthernetHeader + packet->GetSize());
  ns3::Mac48Address::ConvertFrom(dest).CopyTo(frame_.data());
  ns3::Mac48Address::ConvertFrom(source).CopyTo(frame_.data() + 6);
  frame_[12] = static_cast<uint8_t>(protocol >> 8);
  frame_[13] = static_cast<uint8_t>(protocol & 0xff);
  packet->CopyData(frame_.data() + kEthernetHeader, packet->GetSize());
  bridge_->from_pod(frame_);
  return true;
}

void PodNetDevice::Receive(const Bytes& frame) {
  if (frame.size() < kEthernetHeader) return;
  const uint16_t protocol = static_cast<uint16_t>((frame[12] << 8) | frame[13]);
  if (protocol < 0x0600) return;  // an 802.3 length, not an Ethernet II type
  ns3::Mac48Address dst;
  ns3::Mac48Address src;
  dst.CopyFrom(frame.data());
  src.CopyFrom(frame.data() + 6);
  PacketType type = PACKET_OTHERHOST;
  if (dst.IsBroadcast()) {
    type = PACKET_BROADCAST;
  } else if (dst.IsGroup()) {
    type = PACKET_MULTICAST;
  } else if (dst == mac_) {
    type = PACKET_HOST;
  }
  auto packet = ns3::Create<ns3::Packet>(frame.data() + kEthernetHeader,
                                         static_cast<uint32_t>(frame.size() - kEthernetHeader));
  if (!promisc_rx_.IsNull()) promisc_rx_(this, packet, protocol, src, dst, type);
  if (type != PACKET_OTHERHOST && !rx_.IsNull()) rx_(this, packet, protocol, src);
}

void PodNetDevice::DoDispose() {
  bridge_ = nullptr;
  node_ = nullptr;
  rx_.Nullify();
  promisc_rx_.Nullify();
  ns3::NetDevice::DoDispose();
}

}  // namespace loom::sim
