// Underlay forwarding by hash lookup (C++17: includes ns-3; only world.cc
// uses it).
//
// ns-3's Ipv4StaticRouting scans every route for every packet it sends or
// forwards, and a core router holds one /30 route per underlay link. World
// puts the routes of sim/static_routes.h here instead, in each underlay
// host's Ipv4ListRouting above its Ipv4StaticRouting, which keeps the
// interface routes (and local delivery, multicast, anything else). Lookups
// answer as ns-3 would with every route in the static routing, interface
// routes first and these after them: longest prefix wins, a later route
// wins a tie (the first /32 does); so a route here is used unless a
// static-routing route matching the destination has a longer prefix, and
// otherwise the static routing below answers.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <ns3/ipv4-routing-protocol.h>
#include <ns3/ipv4-static-routing.h>

namespace loom::sim {

class UnderlayRouting : public ns3::Ipv4RoutingProtocol {
 public:
  // Packets for network/mask leave by `interface` towards `gateway`.
  struct Route {
    uint32_t network;
    uint32_t mask;
    uint32_t gateway;
    uint32_t interface;
  };

  static ns3::TypeId GetTypeId();

  // `below`: the static routing under this one in the node's list routing.
  explicit UnderlayRouting(ns3::Ptr<ns3::Ipv4StaticRouting> below);

  // Replaces the routes, in order (a later route for the same network
  // wins, as in Ipv4StaticRouting). Throws std::invalid_argument for a mask
  // that is not a prefix.
  void set_routes(const std::vector<Route>& routes);
  size_t route_count() const { return routes_.size(); }

  // Must sit above `below` in an Ipv4ListRouting, which delivers local
  // packets and checks forwarding before asking this.
  ns3::Ptr<ns3::Ipv4Route> RouteOutput(ns3::Ptr<ns3::Packet> p, const ns3::Ipv4Header& header,
                                       ns3::Ptr<ns3::NetDevice> oif,
                                       ns3::Socket::SocketErrno& sockerr) override;
  bool RouteInput(ns3::Ptr<const ns3::Packet> p, const ns3::Ipv4Header& header,
                  ns3::Ptr<const ns3::NetDevice> idev, UnicastForwardCallback ucb,
                  MulticastForwardCallback mcb, LocalDeliverCallback lcb,
                  ErrorCallback ecb) override;
  void NotifyInterfaceUp(uint32_t interface) override;
  void NotifyInterfaceDown(uint32_t interface) override;
  void NotifyAddAddress(uint32_t interface, ns3::Ipv4InterfaceAddress address) override;
  void NotifyRemoveAddress(uint32_t interface, ns3::Ipv4InterfaceAddress address) override;
  void SetIpv4(ns3::Ptr<ns3::Ipv4> ipv4) override;
  void PrintRoutingTable(ns3::Ptr<ns3::OutputStreamWrapper> stream,
                         ns3::Time::Unit unit = ns3::Time::S) const override;

 protected:
  void DoDispose() override;

 private:
  struct Entry {
    uint32_t network;
    uint32_t mask;
    uint32_t length;  // as Ipv4Mask::GetPrefixLength()
    uint32_t gateway;
    uint32_t interface;
  };
  // The static routing's routes of one mask (interface routes, mostly).
  struct BelowMask {
    uint32_t mask;
    uint32_t length;
    std::unordered_set<uint32_t> networks;  // network & mask
  };

  // This protocol's route to dest, or null when it has none or the static
  // routing's would win.
  const Entry* lookup(uint32_t dest, const ns3::Ptr<ns3::NetDevice>& oif);
  bool below_wins(uint32_t dest, uint32_t length, const ns3::Ptr<ns3::NetDevice>& oif);
  ns3::Ptr<ns3::Ipv4Route> route_for(const Entry& entry) const;
  void read_below();

  ns3::Ptr<ns3::Ipv4> ipv4_;
  ns3::Ptr<ns3::Ipv4StaticRouting> below_;
  std::vector<Entry> routes_;
  std::unordered_map<uint32_t, size_t> links_;  // /30 network -> its route in routes_
  std::vector<size_t> others_;                  // the other routes, in order
  // What the static routing holds, read again after a change.
  std::vector<Entry> below_routes_;
  std::vector<BelowMask> below_masks_;  // longest prefix first
  bool below_stale_ = true;
  uint32_t below_count_ = 0;
};

}  // namespace loom::sim
