#include "sim/static_routes.h"

#include <algorithm>
#include <queue>
#include <utility>

namespace loom::sim {

namespace {
constexpr size_t kNone = static_cast<size_t>(-1);
}  // namespace

// ns-3 scans a node's routes linearly for every packet it sends or
// forwards, hence the aggregates; a packet for an unused address would
// bounce between aggregates that point at each other until its TTL ran out,
// hence the loop check.
std::vector<std::vector<StaticRoute>> static_routes(
    size_t n, const std::vector<std::pair<size_t, size_t>>& links) {
  std::vector<std::vector<std::pair<size_t, size_t>>> adjacency(n);  // (link, neighbour)
  for (size_t l = 0; l < links.size(); ++l) {
    adjacency[links[l].first].emplace_back(l, links[l].second);
    adjacency[links[l].second].emplace_back(l, links[l].first);
  }
  // (destination link, the link s's route to it leaves by; kNone when
  // unreachable), for every link not attached to s.
  auto routes_of = [&](size_t s) {
    std::vector<int> distance(n, -1);
    std::vector<size_t> first_link(n, 0);
    std::queue<size_t> frontier;
    distance[s] = 0;
    frontier.push(s);
    while (!frontier.empty()) {
      const size_t u = frontier.front();
      frontier.pop();
      for (const auto& [link, v] : adjacency[u]) {
        if (distance[v] >= 0) continue;
        distance[v] = distance[u] + 1;
        first_link[v] = u == s ? link : first_link[u];
        frontier.push(v);
      }
    }
    std::vector<std::pair<size_t, size_t>> out;
    for (size_t t = 0; t < links.size(); ++t) {
      const auto [a, b] = links[t];
      if (a == s || b == s) continue;  // directly connected
      size_t via = a;
      if (distance[via] < 0 || (distance[b] >= 0 && distance[b] < distance[via])) via = b;
      out.emplace_back(t, distance[via] < 0 ? kNone : first_link[via]);
    }
    return out;
  };
  // Kept only for hosts that do not aggregate (a core): n^2 otherwise.
  std::vector<std::vector<std::pair<size_t, size_t>>> routes(n);
  // The link all of s's routes leave by, when it is one (and every link is
  // reachable); kNone otherwise.
  std::vector<size_t> aggregate(n, kNone);
  for (size_t s = 0; s < n; ++s) {
    auto r = routes_of(s);
    if (r.empty()) continue;
    const size_t via = r.front().second;
    if (std::all_of(r.begin(), r.end(),
                    [&](const auto& e) { return e.second == via && via != kNone; })) {
      aggregate[s] = via;  // forgotten: a host aggregates, or its routes are found again
    } else {
      routes[s] = std::move(r);
    }
  }
  auto other_end = [&](size_t s, size_t link) {
    return links[link].first == s ? links[link].second : links[link].first;
  };
  std::vector<size_t> loops;
  for (size_t s = 0; s < n; ++s) {
    if (aggregate[s] == kNone) continue;
    size_t at = other_end(s, aggregate[s]);
    for (size_t steps = 0; aggregate[at] != kNone; ++steps) {
      if (at == s || steps > n) {
        loops.push_back(s);
        break;
      }
      at = other_end(at, aggregate[at]);
    }
  }
  for (size_t s : loops) {
    aggregate[s] = kNone;
    routes[s] = routes_of(s);
  }

  std::vector<std::vector<StaticRoute>> out(n);
  for (size_t s = 0; s < n; ++s) {
    if (aggregate[s] != kNone) {
      out[s].push_back(StaticRoute{kUnderlayBase, kUnderlayMask, aggregate[s]});
      continue;
    }
    for (const auto& [target, via] : routes[s]) {
      if (via != kNone) out[s].push_back(StaticRoute{link_network(target), kLinkMask, via});
    }
  }
  return out;
}

}  // namespace loom::sim
