#include "router/mesh/routes.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <deque>
#include <random>
#include <utility>

namespace weave::mesh {
namespace {

PeerName N(uint64_t value) { return PeerName(value); }

using Link = std::pair<int, int>;

// Records for peers 1..count whose connections are exactly `links`, both halves established.
std::vector<PeerInfo> Records(int count, const std::vector<Link>& links) {
  std::vector<PeerInfo> peers;
  for (int i = 1; i <= count; ++i) peers.push_back({.name = N(i), .uid = 100u + i, .version = 1});
  auto add_half = [&](int from, int to) {
    peers[from - 1].connections.push_back({.name = N(to), .established = true});
  };
  for (auto [a, b] : links) {
    add_half(a, b);
    add_half(b, a);
  }
  for (PeerInfo& peer : peers) {
    std::sort(peer.connections.begin(), peer.connections.end(),
              [](const ConnectionInfo& x, const ConnectionInfo& y) { return x.name < y.name; });
  }
  return peers;
}

std::vector<Link> Ring(int count) {
  std::vector<Link> links;
  for (int i = 1; i <= count; ++i) links.push_back({i, i % count + 1});
  return links;
}

std::vector<Link> Line(int count) {
  std::vector<Link> links;
  for (int i = 1; i < count; ++i) links.push_back({i, i + 1});
  return links;
}

// Each peer's routes computed from its own point of view over the same records.
std::map<PeerName, Routes> EveryonesRoutes(const std::vector<PeerInfo>& peers) {
  std::map<PeerName, Routes> routes;
  for (const PeerInfo& peer : peers) routes[peer.name] = ComputeRoutes(peers, peer.name);
  return routes;
}

// Floods a broadcast from `source` the way the mesh forwards it (each receiver sends it on to
// its broadcast hops for that source) and counts how often each peer receives it.
std::map<PeerName, int> Deliveries(const std::map<PeerName, Routes>& routes, PeerName source) {
  std::map<PeerName, int> received = {{source, 1}};
  std::deque<PeerName> pending = {source};
  while (!pending.empty()) {
    PeerName at = pending.front();
    pending.pop_front();
    for (PeerName hop : routes.at(at).broadcast.at(source)) {
      if (++received[hop] == 1) pending.push_back(hop);
    }
  }
  return received;
}

// Checks that every broadcast reaches every peer exactly once, and that unicast next hops lead
// every peer to every other.
void CheckDeliversToAll(const std::vector<PeerInfo>& peers) {
  std::map<PeerName, Routes> routes = EveryonesRoutes(peers);
  for (const PeerInfo& source : peers) {
    INFO("source " << source.name.value());
    std::map<PeerName, int> received = Deliveries(routes, source.name);
    CHECK(received.size() == peers.size());
    for (const auto& [peer, times] : received) {
      INFO("peer " << peer.value());
      CHECK(times == 1);
    }
    for (const PeerInfo& dest : peers) {
      PeerName at = source.name;
      for (size_t hops = 0; at != dest.name && hops <= peers.size(); ++hops) {
        at = routes.at(at).unicast.at(dest.name);
      }
      CHECK(at == dest.name);
    }
  }
}

TEST_CASE("a chain A-B-C routes A to C via B", "[routes]") {
  Routes routes = ComputeRoutes(Records(3, {{1, 2}, {2, 3}}), N(1));
  CHECK(routes.unicast == std::map<PeerName, PeerName>{{N(1), N(1)}, {N(2), N(2)}, {N(3), N(2)}});
  CHECK(routes.unicast_all == routes.unicast);
  // A's broadcasts go to B only; B's and C's reach A last, so A forwards them nowhere.
  CHECK(routes.broadcast.at(N(1)) == std::vector<PeerName>{N(2)});
  CHECK(routes.broadcast.at(N(2)).empty());
  CHECK(routes.broadcast.at(N(3)).empty());
  Routes middle = ComputeRoutes(Records(3, {{1, 2}, {2, 3}}), N(2));
  CHECK(middle.broadcast.at(N(1)) == std::vector<PeerName>{N(3)});
  CHECK(middle.broadcast.at(N(2)) == (std::vector<PeerName>{N(1), N(3)}));
}

TEST_CASE("a link counts only when both records list it", "[routes]") {
  std::vector<PeerInfo> peers = Records(3, {{1, 2}});
  peers[1].connections.push_back({.name = N(3), .established = true});  // 3 does not list 2
  Routes routes = ComputeRoutes(peers, N(1));
  CHECK(routes.unicast_all == std::map<PeerName, PeerName>{{N(1), N(1)}, {N(2), N(2)}});
  CHECK_FALSE(routes.broadcast_all.contains(N(3)));
  CHECK(ReachableFrom(peers, N(1)) == std::set<PeerName>{N(1), N(2)});
}

TEST_CASE("links not established at both ends serve only the _all routes", "[routes]") {
  std::vector<PeerInfo> peers = Records(3, {{1, 2}, {2, 3}});
  peers[2].connections[0].established = false;  // 3's half of 2-3
  Routes routes = ComputeRoutes(peers, N(1));
  CHECK(routes.unicast == std::map<PeerName, PeerName>{{N(1), N(1)}, {N(2), N(2)}});
  CHECK(routes.unicast_all.at(N(3)) == N(2));
  CHECK_FALSE(routes.broadcast.contains(N(3)));
  CHECK(routes.broadcast_all.contains(N(3)));
}

TEST_CASE("connections to peers without a record and a self without one are harmless", "[routes]") {
  std::vector<PeerInfo> peers = Records(2, {{1, 2}});
  peers[0].connections.push_back({.name = N(9), .established = true});
  CHECK(ComputeRoutes(peers, N(1)).unicast.size() == 2);
  Routes alone = ComputeRoutes(peers, N(7));
  CHECK(alone.unicast == std::map<PeerName, PeerName>{{N(7), N(7)}});
  CHECK(alone.broadcast == std::map<PeerName, std::vector<PeerName>>{{N(7), {}}});
}

TEST_CASE("broadcast trees expand each level in name order", "[routes]") {
  // Ring 1-2-3-4-5-6-1: from 1 the tree is 1->{2,6}, 2->3, 6->5, and 4 hangs off 3 (the lower
  // of its two parents at the previous level), not off 5.
  std::map<PeerName, Routes> routes = EveryonesRoutes(Records(6, Ring(6)));
  CHECK(routes.at(N(1)).broadcast.at(N(1)) == (std::vector<PeerName>{N(2), N(6)}));
  CHECK(routes.at(N(3)).broadcast.at(N(1)) == std::vector<PeerName>{N(4)});
  CHECK(routes.at(N(5)).broadcast.at(N(1)).empty());
  CHECK(routes.at(N(1)).unicast.at(N(4)) == N(2));

  // From 1, level two is found as {9 (via 2), 4 (via 3)} but expanded as 4, 9: 5 hangs off 4.
  std::vector<PeerInfo> peers = Records(9, {{1, 2}, {1, 3}, {2, 9}, {3, 4}, {4, 5}, {9, 5}});
  CHECK(ComputeRoutes(peers, N(4)).broadcast.at(N(1)) == std::vector<PeerName>{N(5)});
  CHECK(ComputeRoutes(peers, N(9)).broadcast.at(N(1)).empty());
  CHECK(ComputeRoutes(peers, N(1)).unicast.at(N(5)) == N(3));
}

TEST_CASE("broadcasts reach every peer of a 6-node ring and line exactly once", "[routes]") {
  CheckDeliversToAll(Records(6, Ring(6)));
  CheckDeliversToAll(Records(6, Line(6)));
}

TEST_CASE("broadcasts reach every peer exactly once in random connected meshes", "[routes]") {
  std::mt19937 random(42);
  for (int round = 0; round < 20; ++round) {
    int count = 2 + static_cast<int>(random() % 12);
    std::vector<Link> links = Line(count);  // connected; extra random links add cycles
    for (int extra = 0; extra < count; ++extra) {
      int a = 1 + random() % count, b = 1 + random() % count;
      if (a != b) links.push_back({a, b});
    }
    std::vector<PeerInfo> peers = Records(count, links);
    for (PeerInfo& peer : peers) {  // duplicate random links: at most one per remote
      auto same = [](const ConnectionInfo& x, const ConnectionInfo& y) { return x.name == y.name; };
      peer.connections.erase(std::unique(peer.connections.begin(), peer.connections.end(), same),
                             peer.connections.end());
    }
    INFO("round " << round);
    CheckDeliversToAll(peers);
  }
}

TEST_CASE("broadcasts stay within the source's part of a split mesh", "[routes]") {
  std::vector<PeerInfo> peers = Records(6, {{1, 2}, {2, 3}, {4, 5}, {5, 6}});
  std::map<PeerName, Routes> routes = EveryonesRoutes(peers);
  CHECK(Deliveries(routes, N(1)) == std::map<PeerName, int>{{N(1), 1}, {N(2), 1}, {N(3), 1}});
  CHECK_FALSE(routes.at(N(1)).broadcast.contains(N(4)));
  CHECK_FALSE(routes.at(N(1)).unicast.contains(N(4)));
}

TEST_CASE("routes do not depend on the order of the records", "[routes]") {
  std::vector<PeerInfo> peers = Records(6, {{1, 2}, {1, 3}, {2, 4}, {3, 4}, {4, 5}, {5, 6}});
  Routes expected = ComputeRoutes(peers, N(4));
  std::mt19937 random(7);
  for (int round = 0; round < 10; ++round) {
    std::shuffle(peers.begin(), peers.end(), random);
    CHECK(ComputeRoutes(peers, N(4)) == expected);
  }
}

}  // namespace
}  // namespace weave::mesh
