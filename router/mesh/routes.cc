#include "router/mesh/routes.h"

#include <algorithm>

namespace weave::mesh {
namespace {

// Each peer's neighbours over the links that count, in name order. Undirected: a link appears
// under both of its ends.
using Graph = std::map<PeerName, std::vector<PeerName>>;

const ConnectionInfo* FindConnection(const PeerInfo& peer, PeerName remote) {
  for (const ConnectionInfo& connection : peer.connections) {
    if (connection.name == remote) return &connection;
  }
  return nullptr;
}

Graph BuildGraph(const std::vector<PeerInfo>& peers, bool established_only) {
  std::map<PeerName, const PeerInfo*> by_name;
  for (const PeerInfo& peer : peers) by_name[peer.name] = &peer;
  Graph graph;
  for (const PeerInfo& peer : peers) {
    std::vector<PeerName>& neighbours = graph[peer.name];
    for (const ConnectionInfo& half : peer.connections) {
      auto remote = by_name.find(half.name);
      if (remote == by_name.end()) continue;
      const ConnectionInfo* other_half = FindConnection(*remote->second, peer.name);
      if (other_half == nullptr) continue;
      if (established_only && !(half.established && other_half->established)) continue;
      neighbours.push_back(half.name);
    }
    // Records promise sorted connections, but the tree must not depend on that promise.
    std::sort(neighbours.begin(), neighbours.end());
    neighbours.erase(std::unique(neighbours.begin(), neighbours.end()), neighbours.end());
  }
  return graph;
}

struct Tree {
  std::vector<PeerName> order;          // breadth-first visiting order, root first
  std::map<PeerName, PeerName> parent;  // root -> root
};

// The breadth-first tree from `root`: each level is expanded in name order, and a peer's parent
// is the first peer of the previous level (in that order) that links to it.
Tree BreadthFirstTree(const Graph& graph, PeerName root) {
  Tree tree;
  tree.parent[root] = root;
  std::vector<PeerName> level = {root};
  while (!level.empty()) {
    std::sort(level.begin(), level.end());
    std::vector<PeerName> next;
    for (PeerName node : level) {
      tree.order.push_back(node);
      auto neighbours = graph.find(node);
      if (neighbours == graph.end()) continue;
      for (PeerName neighbour : neighbours->second) {
        if (tree.parent.emplace(neighbour, node).second) next.push_back(neighbour);
      }
    }
    level = std::move(next);
  }
  return tree;
}

std::map<PeerName, PeerName> NextHops(const Tree& tree, PeerName self) {
  std::map<PeerName, PeerName> next_hop;
  for (PeerName node : tree.order) {  // parents come before their children
    PeerName parent = tree.parent.at(node);
    next_hop[node] = (node == self || parent == self) ? node : next_hop.at(parent);
  }
  return next_hop;
}

// For every source we reach, our children in that source's tree.
std::map<PeerName, std::vector<PeerName>> BroadcastHops(const Graph& graph, const Tree& ours,
                                                        PeerName self) {
  std::map<PeerName, std::vector<PeerName>> hops;
  for (PeerName source : ours.order) {
    std::vector<PeerName>& children = hops[source];
    Tree tree = source == self ? ours : BreadthFirstTree(graph, source);
    for (const auto& [node, parent] : tree.parent) {  // name order
      if (parent == self && node != source) children.push_back(node);
    }
  }
  return hops;
}

}  // namespace

Routes ComputeRoutes(const std::vector<PeerInfo>& peers, PeerName self) {
  Routes routes;
  Graph established = BuildGraph(peers, /*established_only=*/true);
  Tree established_tree = BreadthFirstTree(established, self);
  routes.unicast = NextHops(established_tree, self);
  routes.broadcast = BroadcastHops(established, established_tree, self);

  Graph all = BuildGraph(peers, /*established_only=*/false);
  Tree all_tree = BreadthFirstTree(all, self);
  routes.unicast_all = NextHops(all_tree, self);
  routes.broadcast_all = BroadcastHops(all, all_tree, self);
  return routes;
}

std::set<PeerName> ReachableFrom(const std::vector<PeerInfo>& peers, PeerName self) {
  Tree tree = BreadthFirstTree(BuildGraph(peers, /*established_only=*/false), self);
  return std::set<PeerName>(tree.order.begin(), tree.order.end());
}

}  // namespace weave::mesh
