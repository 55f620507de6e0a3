#include "model/mesh/routes.h"

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <iterator>
#include <limits>
#include <memory>
#include <utility>

#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/compressed_sparse_row_graph.hpp>
#include <boost/property_map/property_map.hpp>

namespace loom::mesh {
namespace {

// Vertex i is names_[i]; each vertex's out-edges are sorted by target, that
// is by name, as the peer's connections are.
using Graph =
    boost::compressed_sparse_row_graph<boost::directedS, boost::no_property, boost::no_property,
                                       boost::no_property, uint32_t, uint32_t>;
using Vertex = uint32_t;
using Edge = boost::graph_traits<Graph>::edge_descriptor;
constexpr Vertex kNone = std::numeric_limits<Vertex>::max();

// One breadth-first search's state, reused from search to search (only what
// a search touched is reset).
struct Search {
  std::vector<Vertex> level;   // kNone: not discovered
  std::vector<Vertex> parent;  // unicast only: see RouteVisitor
  std::vector<Vertex> queue;   // every vertex discovered, in discovery order
  size_t head = 0;             // queue[head] is examined next
  Vertex stop_level = kNone;   // the search ends before examining a vertex this deep

  void reset() {
    for (Vertex v : queue) level[v] = kNone;
    queue.clear();
    head = 0;
    stop_level = kNone;
  }
};

// Boost's BFS buffer: a FIFO over Search::queue that reports itself empty,
// which ends the search, once the rest of it could not change the result.
class Frontier {
 public:
  explicit Frontier(Search& s) : s_(&s) {}
  void push(Vertex v) { s_->queue.push_back(v); }
  Vertex top() const { return s_->queue[s_->head]; }
  void pop() { ++s_->head; }
  bool empty() const {
    if (s_->head == s_->queue.size()) return true;
    const Vertex next = s_->level[s_->queue[s_->head]];
    // Once every vertex is found, examining the deepest level can change
    // nothing (no new vertex, no parent one level down): a full mesh's
    // search ends after the first vertex.
    return next >= s_->stop_level ||
           (s_->queue.size() == s_->level.size() && next == s_->level[s_->queue.back()]);
  }

 private:
  Search* s_;
};

// The BFS color map, read from the levels: undiscovered vertices are white,
// the others gray (the visitors below need no black), so there is no color
// array to fill and reset. A tree edge sets the level before Boost colors
// the vertex; put has nothing left to do.
struct LevelColors {
  using key_type = Vertex;
  using value_type = boost::default_color_type;
  using reference = boost::default_color_type;
  using category = boost::read_write_property_map_tag;
  const Search* s;
};
boost::default_color_type get(const LevelColors& m, Vertex v) {
  return m.s->level[v] == kNone ? boost::white_color : boost::gray_color;
}
void put(const LevelColors&, Vertex, boost::default_color_type) {}

// Levels only; notes the level at which `target` is found, so that the
// search stops once that level is complete.
class LevelVisitor : public boost::default_bfs_visitor {
 public:
  LevelVisitor(Search& s, Vertex target) : s_(&s), target_(target) {}
  void tree_edge(Edge e, const Graph& g) {
    const Vertex v = boost::target(e, g);
    s_->level[v] = s_->level[boost::source(e, g)] + 1;
    if (v == target_) s_->stop_level = s_->level[v];
  }

 private:
  Search* s_;
  Vertex target_;
};

// Weave's BFS (Peer.routes) takes each level's worklist in name order, and a
// peer is reached from the first peer of the previous level, in that order,
// that connects to it. Vertices are numbered in name order, so that parent is
// the lowest-numbered predecessor one level up: Boost's FIFO BFS finds the
// levels, and this visitor keeps the lowest such parent.
class RouteVisitor : public boost::default_bfs_visitor {
 public:
  explicit RouteVisitor(Search& s) : s_(&s) {}
  void tree_edge(Edge e, const Graph& g) {
    const Vertex u = boost::source(e, g);
    const Vertex v = boost::target(e, g);
    s_->level[v] = s_->level[u] + 1;
    s_->parent[v] = u;
  }
  void gray_target(Edge e, const Graph& g) {
    const Vertex u = boost::source(e, g);
    const Vertex v = boost::target(e, g);
    if (s_->level[v] == s_->level[u] + 1 && u < s_->parent[v]) s_->parent[v] = u;
  }

 private:
  Search* s_;
};

template <typename Visitor>
void search(const Graph& g, Vertex start, Search& s, Visitor visitor) {
  s.level[start] = 0;
  Frontier frontier(s);
  boost::breadth_first_visit(g, start, frontier, visitor, LevelColors{&s});
}

// Adjacency rows under construction: vertex u's targets are
// column[start[u]] .. column[start[u + 1]], ascending. A target may carry
// kEstablished.
struct Rows {
  static constexpr uint32_t kEstablished = uint32_t{1} << 31;
  std::vector<size_t> start;
  std::vector<uint32_t> column;
};

// Rows' edges as the (source, target) pairs Boost's sorted-edges
// constructor reads, without a copy of them all.
class RowEdges {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = std::pair<Vertex, Vertex>;
  using difference_type = ptrdiff_t;
  using pointer = const value_type*;
  using reference = const value_type&;

  RowEdges(const Rows& rows, size_t edge) : rows_(&rows), edge_(edge) { settle(); }
  reference operator*() const { return pair_; }
  pointer operator->() const { return &pair_; }
  RowEdges& operator++() {
    ++edge_;
    settle();
    return *this;
  }
  bool operator==(const RowEdges& other) const { return edge_ == other.edge_; }
  bool operator!=(const RowEdges& other) const { return edge_ != other.edge_; }

 private:
  void settle() {
    if (edge_ >= rows_->column.size()) return;
    while (rows_->start[source_ + 1] <= edge_) ++source_;
    pair_ = {source_, rows_->column[edge_] & ~Rows::kEstablished};
  }
  const Rows* rows_;
  size_t edge_;
  Vertex source_ = 0;
  value_type pair_{};
};

Graph make_graph(const Rows& rows) {
  using VertexCount = boost::graph_traits<Graph>::vertices_size_type;
  using EdgeCount = boost::graph_traits<Graph>::edges_size_type;
  const size_t edges = rows.column.size();
  return Graph(boost::edges_are_sorted, RowEdges(rows, 0), RowEdges(rows, edges),
               static_cast<VertexCount>(rows.start.size() - 1), static_cast<EdgeCount>(edges));
}

}  // namespace

struct Routes::Variant {
  Variant(const Rows& rows, bool is_symmetric) : graph(make_graph(rows)), symmetric(is_symmetric) {}

  // In-edges of the graph, for broadcasts: the graph itself when symmetric,
  // otherwise its transpose, built on first use.
  const Graph& reverse() {
    if (symmetric) return graph;
    if (!transpose) {
      const size_t n = boost::num_vertices(graph);
      Rows reversed;
      reversed.start.assign(n + 1, 0);
      reversed.column.resize(boost::num_edges(graph));
      auto [begin, end] = boost::edges(graph);
      for (auto e = begin; e != end; ++e) ++reversed.start[boost::target(*e, graph) + 1];
      for (size_t v = 0; v < n; ++v) reversed.start[v + 1] += reversed.start[v];
      // Edges come in source order, so sources ascend within each row.
      std::vector<size_t> next(reversed.start.begin(), reversed.start.end() - 1);
      for (auto e = begin; e != end; ++e)
        reversed.column[next[boost::target(*e, graph)]++] = boost::source(*e, graph);
      transpose = std::make_unique<Graph>(make_graph(reversed));
    }
    return *transpose;
  }

  Graph graph;
  bool symmetric;
  std::unique_ptr<Graph> transpose;
  std::vector<Vertex> next_hop;  // by vertex; kNone: unreachable or ourselves
  Search search;                 // scratch, reset after each use
  // Broadcast next hops by source vertex, computed on first use.
  std::vector<std::vector<PeerName>> broadcast;
  std::vector<char> broadcast_known;
};

Routes::~Routes() = default;
Routes::Routes(Routes&&) noexcept = default;
Routes& Routes::operator=(Routes&&) noexcept = default;

Routes::Routes(const Peers& peers) : ourselves_(peers.ourselves()) {
  const auto& all = peers.all();
  const size_t n = all.size();
  assert(n < Rows::kEstablished);  // and connections fit Graph's 32-bit edge index
  names_.reserve(n);
  size_t connections = 0;
  for (const Peer& p : all) {
    names_.push_back(p.name);
    connections += p.connections.size();
  }
  self_ = static_cast<size_t>(std::lower_bound(names_.begin(), names_.end(), ourselves_) -
                              names_.begin());

  // Every announced connection to a peer we know, in each peer's connection
  // order (sorted by remote), so the graph is a function of the topology
  // alone; established ones marked.
  Rows announced;
  announced.start.assign(n + 1, 0);
  announced.column.reserve(connections);
  for (size_t u = 0; u < n; ++u) {
    announced.start[u] = announced.column.size();
    size_t v = 0;
    for (const PeerConnection& c : all[u].connections) {
      // Remotes ascend, as names_ do: in a dense graph the next remote is
      // usually the next peer; otherwise Peers' index finds it.
      if (v >= n || names_[v] != c.remote) {
        const Peer* remote = peers.find(c.remote);
        if (remote == nullptr) continue;               // a remote we no longer know
        v = static_cast<size_t>(remote - all.data());  // find points into all()
        assert(v < n && &all[v] == remote);
      }
      announced.column.push_back(static_cast<uint32_t>(v) |
                                 (c.established ? Rows::kEstablished : 0));
      ++v;
    }
  }
  announced.start[n] = announced.column.size();

  // Established on both sides. Sources ascend, so each peer's own row is
  // searched for them in ascending order too: one cursor per row walks it
  // alongside, instead of a lookup per edge.
  Rows both;
  both.start.assign(n + 1, 0);
  both.column.reserve(announced.column.size());
  std::vector<size_t> cursor(announced.start.begin(), announced.start.end() - 1);
  const auto& column = announced.column;
  for (size_t u = 0; u < n; ++u) {
    both.start[u] = both.column.size();
    const uint32_t back_edge = static_cast<uint32_t>(u) | Rows::kEstablished;
    for (size_t e = announced.start[u]; e < announced.start[u + 1]; ++e) {
      if ((column[e] & Rows::kEstablished) == 0) continue;
      const uint32_t v = column[e] & ~Rows::kEstablished;
      const size_t end = announced.start[v + 1];
      size_t back = cursor[v];
      while (back < end && (column[back] & ~Rows::kEstablished) < u) ++back;
      cursor[v] = back;
      if (back < end && column[back] == back_edge) both.column.push_back(v);
    }
  }
  both.start[n] = both.column.size();

  symmetric_ = std::make_unique<Variant>(both, true);
  all_ = std::make_unique<Variant>(announced, false);

  for (Variant* var : {symmetric_.get(), all_.get()}) {
    Search& s = var->search;
    s.level.assign(n, kNone);
    s.parent.assign(n, kNone);
    s.queue.reserve(n);
    search(var->graph, static_cast<Vertex>(self_), s, RouteVisitor(s));
    var->next_hop.assign(n, kNone);
    for (Vertex v : s.queue) {  // levels nondecreasing: parents come first
      if (v == self_) continue;
      const Vertex parent = s.parent[v];
      var->next_hop[v] = parent == self_ ? v : var->next_hop[parent];
    }
    s.reset();
    std::vector<Vertex>().swap(s.parent);  // broadcasts need levels only
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
  const Vertex hop = variant(over).next_hop[static_cast<size_t>(it - names_.begin())];
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

std::vector<std::pair<PeerName, uint64_t>> Routes::next_hop_counts(Over over) const {
  const Variant& var = variant(over);
  std::vector<uint64_t> count(names_.size(), 0);
  for (Vertex hop : var.next_hop) {
    if (hop != kNone) ++count[hop];
  }
  std::vector<std::pair<PeerName, uint64_t>> out;
  for (size_t v = 0; v < names_.size(); ++v) {
    if (count[v] != 0) out.emplace_back(names_[v], count[v]);
  }
  return out;
}

bool Routes::same_unicast(const Routes& other) const {
  return names_ == other.names_ && symmetric_->next_hop == other.symmetric_->next_hop &&
         all_->next_hop == other.all_->next_hop;
}

const std::vector<PeerName>& Routes::broadcast(Over over, PeerName src) {
  static const std::vector<PeerName> kNowhere;
  auto it = std::lower_bound(names_.begin(), names_.end(), src);
  if (it == names_.end() || *it != src) return kNowhere;
  const auto x = static_cast<Vertex>(it - names_.begin());
  Variant& var = variant(over);
  if (var.broadcast.empty()) {
    var.broadcast.resize(names_.size());
    var.broadcast_known.assign(names_.size(), 0);
  }
  std::vector<PeerName>& hops = var.broadcast[x];
  if (var.broadcast_known[x]) return hops;
  var.broadcast_known[x] = 1;

  const auto self = static_cast<Vertex>(self_);
  auto [begin, end] = boost::adjacent_vertices(self, var.graph);
  if (x == self) {  // our broadcasts go to every neighbour
    for (; begin != end; ++begin) hops.push_back(names_[*begin]);
    return hops;
  }
  // src's search (Weave's) stops when it takes us off its worklist, at our
  // level d. By then it has reached every peer up to level d, and those of
  // level d + 1 that a peer of level d named below us connects to. Our
  // neighbours are at most one level below us, so it is enough to search
  // through level d - 1 (which finds all of level d) and then look at the
  // level-d peers that connect to each neighbour not found.
  Search& s = var.search;
  search(var.graph, x, s, LevelVisitor(s, self));
  const Vertex d = s.level[self];
  if (d != kNone) {
    const Graph& reverse = var.reverse();
    for (; begin != end; ++begin) {
      const Vertex w = *begin;
      bool reached = s.level[w] != kNone;  // then at level d or above
      auto [from, last] = boost::adjacent_vertices(w, reverse);
      for (; !reached && from != last && *from < self; ++from) reached = s.level[*from] == d;
      if (!reached) hops.push_back(names_[w]);  // in name order: rows are sorted
    }
  }
  s.reset();
  return hops;
}

}  // namespace loom::mesh
