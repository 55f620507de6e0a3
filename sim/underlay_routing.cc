#include "sim/underlay_routing.h"

#include <algorithm>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>

#include <ns3/ipv4-route.h>
#include <ns3/ipv4-routing-table-entry.h>
#include <ns3/ipv4.h>
#include <ns3/net-device.h>
#include <ns3/output-stream-wrapper.h>

#include "sim/static_routes.h"

namespace loom::sim {

namespace {

// Ipv4Mask::GetPrefixLength(): shifts left until nothing is left.
uint32_t prefix_length(uint32_t mask) {
  uint32_t length = 0;
  for (; mask != 0; mask <<= 1) ++length;
  return length;
}

bool matches(uint32_t dest, uint32_t network, uint32_t mask) {
  return (dest & mask) == (network & mask);
}

}  // namespace

ns3::TypeId UnderlayRouting::GetTypeId() {
  static ns3::TypeId tid = ns3::TypeId("loom::sim::UnderlayRouting")
                               .SetParent<ns3::Ipv4RoutingProtocol>()
                               .SetGroupName("Loom");
  return tid;
}

UnderlayRouting::UnderlayRouting(ns3::Ptr<ns3::Ipv4StaticRouting> below)
    : below_(std::move(below)) {}

void UnderlayRouting::set_routes(const std::vector<Route>& routes) {
  std::vector<Entry> entries;
  entries.reserve(routes.size());
  for (const Route& r : routes) {
    const uint32_t length = prefix_length(r.mask);
    if (r.mask != (length == 0 ? 0 : ~uint32_t{0} << (32 - length))) {
      std::ostringstream message;
      message << "UnderlayRouting: mask " << ns3::Ipv4Mask(r.mask) << " of route to "
              << ns3::Ipv4Address(r.network) << " is not a prefix";
      throw std::invalid_argument(message.str());
    }
    entries.push_back(Entry{r.network, r.mask, length, r.gateway, r.interface});
  }
  routes_ = std::move(entries);
  links_.clear();
  others_.clear();
  for (size_t i = 0; i < routes_.size(); ++i) {
    if (routes_[i].mask == kLinkMask) {
      links_[routes_[i].network & kLinkMask] = i;  // a later one replaces it, as it would win
    } else {
      others_.push_back(i);
    }
  }
}

void UnderlayRouting::read_below() {
  below_stale_ = false;
  below_routes_.clear();
  below_masks_.clear();
  below_count_ = below_ ? below_->GetNRoutes() : 0;
  for (uint32_t i = 0; i < below_count_; ++i) {
    const ns3::Ipv4RoutingTableEntry route = below_->GetRoute(i);
    const uint32_t mask = route.GetDestNetworkMask().Get();
    const uint32_t network = route.GetDestNetwork().Get();
    below_routes_.push_back(
        Entry{network, mask, prefix_length(mask), route.GetGateway().Get(), route.GetInterface()});
    auto at = std::find_if(below_masks_.begin(), below_masks_.end(),
                           [&](const BelowMask& m) { return m.mask == mask; });
    if (at == below_masks_.end()) {
      below_masks_.push_back(BelowMask{mask, prefix_length(mask), {}});
      at = below_masks_.end() - 1;
    }
    at->networks.insert(network & mask);
  }
  std::stable_sort(below_masks_.begin(), below_masks_.end(),
                   [](const BelowMask& x, const BelowMask& y) { return x.length > y.length; });
}

// Whether a static-routing route matching dest beats one of ours of this
// prefix length: a longer one does, and an equal /32 (ns-3 takes the first
// /32, and the static routing's come first).
bool UnderlayRouting::below_wins(uint32_t dest, uint32_t length,
                                 const ns3::Ptr<ns3::NetDevice>& oif) {
  if (below_stale_ || (below_ && below_->GetNRoutes() != below_count_)) read_below();
  auto beats = [&](uint32_t l) { return l > length || (l == 32 && length == 32); };
  if (oif) {
    for (const Entry& e : below_routes_) {
      if (beats(e.length) && matches(dest, e.network, e.mask) &&
          ipv4_->GetNetDevice(e.interface) == oif) {
        return true;
      }
    }
    return false;
  }
  for (const BelowMask& m : below_masks_) {
    if (!beats(m.length)) break;
    if (m.networks.count(dest & m.mask) != 0) return true;
  }
  return false;
}

// ns-3's LookupStatic over our routes (all of metric 0): the longest prefix,
// the later of equal ones but the first /32; then the static routing's
// routes, which come before ours.
const UnderlayRouting::Entry* UnderlayRouting::lookup(uint32_t dest,
                                                      const ns3::Ptr<ns3::NetDevice>& oif) {
  auto on_oif = [&](const Entry& e) { return !oif || ipv4_->GetNetDevice(e.interface) == oif; };
  const Entry* best = nullptr;
  if (auto it = links_.find(dest & kLinkMask); it != links_.end() && on_oif(routes_[it->second])) {
    best = &routes_[it->second];
  }
  for (size_t i : others_) {
    const Entry& e = routes_[i];
    if (!matches(dest, e.network, e.mask) || !on_oif(e)) continue;
    if (best != nullptr && (e.length < best->length || (best->length == 32 && e.length == 32))) {
      continue;
    }
    best = &e;
  }
  if (best == nullptr || below_wins(dest, best->length, oif)) return nullptr;
  return best;
}

// As LookupStatic builds it: the route's network as destination, the
// source ns-3 picks for it on that interface.
ns3::Ptr<ns3::Ipv4Route> UnderlayRouting::route_for(const Entry& entry) const {
  const ns3::Ipv4Address network(entry.network);
  auto route = ns3::Create<ns3::Ipv4Route>();
  route->SetDestination(network);
  route->SetSource(ipv4_->SourceAddressSelection(entry.interface, network));
  route->SetGateway(ns3::Ipv4Address(entry.gateway));
  route->SetOutputDevice(ipv4_->GetNetDevice(entry.interface));
  return route;
}

ns3::Ptr<ns3::Ipv4Route> UnderlayRouting::RouteOutput(ns3::Ptr<ns3::Packet>,
                                                      const ns3::Ipv4Header& header,
                                                      ns3::Ptr<ns3::NetDevice> oif,
                                                      ns3::Socket::SocketErrno& sockerr) {
  const ns3::Ipv4Address destination = header.GetDestination();
  const Entry* entry = destination.IsMulticast() ? nullptr : lookup(destination.Get(), oif);
  if (entry == nullptr) {
    sockerr = ns3::Socket::ERROR_NOROUTETOHOST;
    return nullptr;
  }
  sockerr = ns3::Socket::ERROR_NOTERROR;
  return route_for(*entry);
}

bool UnderlayRouting::RouteInput(ns3::Ptr<const ns3::Packet> p, const ns3::Ipv4Header& header,
                                 ns3::Ptr<const ns3::NetDevice>, UnicastForwardCallback ucb,
                                 MulticastForwardCallback, LocalDeliverCallback, ErrorCallback) {
  // The list routing has delivered what is ours and checked forwarding.
  const ns3::Ipv4Address destination = header.GetDestination();
  if (destination.IsMulticast()) return false;
  const Entry* entry = lookup(destination.Get(), nullptr);
  if (entry == nullptr) return false;
  ucb(route_for(*entry), p, header);
  return true;
}

void UnderlayRouting::NotifyInterfaceUp(uint32_t) { below_stale_ = true; }
void UnderlayRouting::NotifyInterfaceDown(uint32_t) { below_stale_ = true; }
void UnderlayRouting::NotifyAddAddress(uint32_t, ns3::Ipv4InterfaceAddress) { below_stale_ = true; }
void UnderlayRouting::NotifyRemoveAddress(uint32_t, ns3::Ipv4InterfaceAddress) {
  below_stale_ = true;
}

void UnderlayRouting::SetIpv4(ns3::Ptr<ns3::Ipv4> ipv4) {
  ipv4_ = std::move(ipv4);
  below_stale_ = true;
}

void UnderlayRouting::PrintRoutingTable(ns3::Ptr<ns3::OutputStreamWrapper> stream,
                                        ns3::Time::Unit) const {
  std::ostream& os = *stream->GetStream();
  os << "UnderlayRouting: " << routes_.size() << " routes\n";
  for (const Entry& e : routes_) {
    os << ns3::Ipv4Address(e.network) << "/" << e.length << " via " << ns3::Ipv4Address(e.gateway)
       << " if " << e.interface << "\n";
  }
}

void UnderlayRouting::DoDispose() {
  ipv4_ = nullptr;
  below_ = nullptr;
  ns3::Ipv4RoutingProtocol::DoDispose();
}

}  // namespace loom::sim
