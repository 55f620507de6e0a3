#include "model/mesh/routes.h"

#include <algorithm>
#include <cassert>
#include <limits>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/breadth_first_search.hpp>

namespace loom::mesh {
namespace {

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;
using Vertex = boost::graph_traits<Graph>::vertex_descriptor;
constexpr size_t kNone = std::numeric_limits<size_t>::max();

// Weave's BFS (Peer.routes) takes each level's worklist in name order, and a
// peer is reached from the first peer of the previous level, in that order,
// that connects to it. Vertices are numbered in name order, so that parent is
// the lowest-numbered predecessor one level up: Boost's FIFO BFS finds the
// levels, and this visitor keeps the lowest such parent.
struct Search {
  std::vector<size_t> level;
  std::vector<size_t> parent;
  std::vector<size_t> order;  // discovery order: levels nondecreasing
};

class LevelVisitor : public boost::default_bfs_visitor {
 public:
  explicit LevelVisitor(Search& s) : s_(&s) {}
  void discover_vertex(Vertex v, const Graph&) { s_->order.push_back(v); }
  void tree_edge(boost::graph_traits<Graph>::edge_descriptor e, const Graph& g) {
    const Vertex u = boost::source(e, g);
    const Vertex v = boost::target(e, g);
    s_->level[v] = s_->level[u] + 1;
    s_->parent[v] = u;
  }
  void gray_target(boost::graph_traits<Graph>::edge_descriptor e, const Graph& g) {
    const Vertex u = boost::source(e, g);
    const Vertex v = boost::target(e, g);
    if (s_->level[v] == s_->level[u] + 1 && u < s_->parent[v]) s_->parent[v] = u;
  }

 private:
  Search* s_;
};

Search search(const Graph& g, size_t start) {
  const size_t n = boost::num_vertices(g);
  Search s;
  s.level.assign(n, kNone);
  s.parent.assign(n, kNone);
  s.order.reserve(n);
  s.level[start] = 0;
  std::vector<boost::default_color_type> colors(n, boost::white_color);
  boost::breadth_first_search(g, start,
                              boost::visitor(LevelVisitor(s))
                                  .color_map(boost::make_iterator_property_map(
                                      colors.begin(), boost::get(boost::vertex_index, g))));
  return s;
}

}  // namespace

struct Routes::Variant {
  explicit Variant(size_t vertices) : graph(vertices) {}
  Graph graph;
  std::vector<size_t> next_hop;  // by vertex; kNone: unreachable or ourselves
  std::map<PeerName, std::vector<PeerName>> broadcast;  // cache
};

Routes::~Routes() = default;
Routes::Routes(Routes&&) noexcept = default;
Routes& Routes::operator=(Routes&&) noexcept = default;

Routes::Routes(const Peers& peers) : ourselves_(peers.ourselves()) {
  const auto& all = peers.all();
  names_.reserve(all.size());
  for (const Peer& p : all) names_.push_back(p.name);
  self_ = static_cast<size_t>(std::lower_bound(names_.begin(), names_.end(), ourselves_) -
                              names_.begin());
  symmetric_ = std::make_unique<Variant>(all.size());
  all_ = std::make_unique<Variant>(all.size());

  // Edges in each peer's connection order (sorted by remote), so the graph
  // is a function of the topology alone.
  for (size_t u = 0; u < all.size(); ++u) {
    const Peer& p = all[u];
    // Both lists are sorted: walk names_ alongside the connections.
    auto cursor = names_.begin();
    for (const PeerConnection& c : p.connections) {
      cursor = std::lower_bound(cursor, names_.end(), c.remote);
      if (cursor == names_.end()) break;
      if (*cursor != c.remote) continue;  // a remote we no longer know
      const size_t v = static_cast<size_t>(cursor - names_.begin());
      boost::add_edge(u, v, all_->graph);
      if (!c.established) continue;
      const PeerConnection* back = all[v].connection(p.name);
      if (back != nullptr && back->established) boost::add_edge(u, v, symmetric_->graph);
    }
  }

  for (Variant* var : {symmetric_.get(), all_.get()}) {
    const Search s = search(var->graph, self_);
    var->next_hop.assign(names_.size(), kNone);
    for (size_t v : s.order) {
      if (v == self_) continue;
      const size_t parent = s.parent[v];
      var->next_hop[v] = parent == self_ ? v : var->next_hop[parent];
    }
  }
}

const Routes::Variant& Routes::variant(Over over) const {
  return over == Over::established_symmetric ? *symmetric_ : *all_;
}
Routes::Variant& Routes::variant(Over over) {
  return over == Over::established_symmetric ? *symmetric_ : *all_;
}

std::optional<PeerName> Routes::next_hop(Over over, PeerName dst) const {
  auto it = std::lower_bound(names_.begin(), names_.end(), dst);
  if (it == names_.end() || *it != dst) return std::nullopt;
  const size_t hop = variant(over).next_hop[static_cast<size_t>(it - names_.begin())];
  if (hop == kNone) return std::nullopt;
  return names_[hop];
}

std::vector<std::pair<PeerName, PeerName>> Routes::table(Over over) const {
  std::vector<std::pair<PeerName, PeerName>> out;
  const Variant& var = variant(over);
  for (size_t v = 0; v < names_.size(); ++v) {
    if (var.next_hop[v] != kNone) out.emplace_back(names_[v], names_[var.next_hop[v]]);
  }
  return out;
}

const std::vector<PeerName>& Routes::broadcast(Over over, PeerName src) {
  Variant& var = variant(over);
  auto cached = var.broadcast.find(src);
  if (cached != var.broadcast.end()) return cached->second;
  std::vector<PeerName>& hops = var.broadcast[src];

  auto it = std::lower_bound(names_.begin(), names_.end(), src);
  if (it == names_.end() || *it != src) return hops;
  const size_t x = static_cast<size_t>(it - names_.begin());
  // src's search stops when it takes us off its worklist. By then it has
  // reached every peer up to our level, and those one level further that a
  // peer of our level ordered before us reached first.
  std::vector<char> reached(names_.size(), 0);
  if (x != self_) {
    const Search s = search(var.graph, x);
    const size_t ours = s.level[self_];
    if (ours == kNone) return hops;
    for (size_t v = 0; v < names_.size(); ++v) {
      const size_t l = s.level[v];
      reached[v] = l <= ours || (l == ours + 1 && s.parent[v] < self_);
    }
  }
  reached[self_] = 1;
  auto [begin, end] = boost::adjacent_vertices(self_, var.graph);
  for (; begin != end; ++begin) {
    if (!reached[*begin]) hops.push_back(names_[*begin]);
  }
  std::sort(hops.begin(), hops.end());
  return hops;
}

}  // namespace loom::mesh
