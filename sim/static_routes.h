// The underlay's addressing and static routes, as World installs them.
//
// Plain C++ (no ns-3 type), so that programs building the same underlay
// with bare ns-3 (tests/bench/bench_bare_ns3.cc) route it exactly as the
// World does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace loom::sim {

// Underlay links get consecutive /30s from 172.16.0.0/12, clear of Weave's
// default allocation range (10.32.0.0/12): link i is kUnderlayBase + 4 * i,
// its first host .1 and its second .2.
constexpr uint32_t kUnderlayBase = 0xAC100000;
constexpr uint32_t kUnderlayMask = 0xFFF00000;  // /12
constexpr uint32_t kLinkMask = 0xFFFFFFFC;      // /30
constexpr size_t kMaxUnderlayLinks = size_t{1} << 18;

constexpr uint32_t link_network(size_t link) {
  return kUnderlayBase + static_cast<uint32_t>(4 * link);
}

// One route: packets for network/mask leave by link `via`, towards the
// host at its other end.
struct StaticRoute {
  uint32_t network;
  uint32_t mask;
  size_t via;
};

// The routes of every host, for hosts 0..hosts-1 joined by links[i] =
// (a, b), numbered as above. Shortest paths (breadth-first, ties to the link
// added first); one /30 route per link not attached to the host, or, on a
// host whose every such route leaves by the same link (a peer on a star, a
// rack switch under its core), one route for the whole underlay, unless
// following those aggregates from its gateway comes back to it. Links not
// reachable get no route.
std::vector<std::vector<StaticRoute>> static_routes(
    size_t hosts, const std::vector<std::pair<size_t, size_t>>& links);

}  // namespace loom::sim
