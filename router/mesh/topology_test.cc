#include "router/mesh/topology.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <initializer_list>

namespace weave::mesh {
namespace {

PeerName N(uint64_t value) { return PeerName(value); }

constexpr uint64_t kSelf = 1;

Topology MakeTopology(std::vector<ConnectionInfo> connections = {}) {
  return Topology(
      PeerInfo{.name = N(kSelf), .nickname = "self", .uid = 1000, .connections = connections});
}

ConnectionInfo To(uint64_t remote) { return {.name = N(remote), .established = true}; }

v1::PeerRecord Record(uint64_t name, uint64_t uid, uint64_t version,
                      std::initializer_list<uint64_t> connections = {}) {
  v1::PeerRecord record;
  record.set_name(name);
  record.set_nickname("peer" + std::to_string(name));
  record.set_uid(uid);
  record.set_version(version);
  for (uint64_t remote : connections) {
    v1::ConnectionRecord* connection = record.add_connections();
    connection->set_name(remote);
    connection->set_established(true);
  }
  return record;
}

v1::TopologyUpdate Update(std::initializer_list<v1::PeerRecord> records) {
  v1::TopologyUpdate update;
  for (const v1::PeerRecord& record : records) *update.add_peers() = record;
  return update;
}

std::vector<uint64_t> Names(const v1::TopologyUpdate& update) {
  std::vector<uint64_t> names;
  for (const v1::PeerRecord& record : update.peers()) names.push_back(record.name());
  return names;
}

v1::TopologyUpdate MustMerge(Topology& topology, const v1::TopologyUpdate& update) {
  absl::StatusOr<v1::TopologyUpdate> changed = topology.Merge(update);
  REQUIRE(changed.ok());
  return *changed;
}

TEST_CASE("our record starts at version 1 with sorted connections", "[topology]") {
  Topology topology = MakeTopology({To(3), To(2)});
  CHECK(topology.self_name() == N(kSelf));
  CHECK(topology.self().version == 1);
  REQUIRE(topology.self().connections.size() == 2);
  CHECK(topology.self().connections[0].name == N(2));
  // The remotes are placeholders until their records arrive, and are not encoded.
  REQUIRE(topology.Find(N(2)) != nullptr);
  CHECK(topology.Find(N(2))->is_placeholder());
  CHECK(Names(topology.Encode()) == std::vector<uint64_t>{kSelf});
  CHECK(Names(topology.EncodeSelf()) == std::vector<uint64_t>{kSelf});
}

TEST_CASE("local changes bump our version only when something changed", "[topology]") {
  Topology topology = MakeTopology();
  CHECK(topology.SetLocalConnections({To(2)}));
  CHECK(topology.self().version == 2);
  CHECK_FALSE(topology.SetLocalConnections({To(2)}));
  CHECK(topology.self().version == 2);
  ConnectionInfo pending = To(2);
  pending.established = false;
  CHECK(topology.SetLocalConnections({pending}));
  CHECK(topology.self().version == 3);
  // Dropping the connection drops the placeholder nobody lists any more.
  CHECK(topology.SetLocalConnections({}));
  CHECK(topology.Find(N(2)) == nullptr);

  topology.SetShortId(7);
  CHECK(topology.self().version == 5);
  CHECK(topology.self().has_short_id);
  topology.SetShortId(7);
  CHECK(topology.self().version == 5);
  CHECK(topology.EncodeSelf().peers(0).short_id() == 7);
}

TEST_CASE("a higher version replaces a record and a lower one does not", "[topology]") {
  Topology topology = MakeTopology();
  CHECK(Names(MustMerge(topology, Update({Record(2, 50, 3)}))) == std::vector<uint64_t>{2});
  CHECK(Names(MustMerge(topology, Update({Record(2, 99, 2)}))).empty());
  CHECK(topology.Find(N(2))->uid == 50);
  CHECK(Names(MustMerge(topology, Update({Record(2, 10, 4)}))) == std::vector<uint64_t>{2});
  CHECK(topology.Find(N(2))->uid == 10);
  CHECK(topology.Find(N(2))->nickname == "peer2");
}

TEST_CASE("on equal versions the higher uid wins, then the record with a short id", "[topology]") {
  Topology topology = MakeTopology();
  MustMerge(topology, Update({Record(2, 50, 3)}));
  CHECK(Names(MustMerge(topology, Update({Record(2, 40, 3)}))).empty());
  CHECK(Names(MustMerge(topology, Update({Record(2, 60, 3)}))) == std::vector<uint64_t>{2});
  CHECK(topology.Find(N(2))->uid == 60);

  v1::PeerRecord with_short_id = Record(2, 60, 3);
  with_short_id.set_short_id(9);
  with_short_id.set_has_short_id(true);
  CHECK(Names(MustMerge(topology, Update({with_short_id}))) == std::vector<uint64_t>{2});
  CHECK(topology.Find(N(2))->short_id == 9);
  CHECK(Names(MustMerge(topology, Update({Record(2, 60, 3)}))).empty());
  CHECK(topology.Find(N(2))->has_short_id);
}

TEST_CASE("an old incarnation of ourselves makes us outbid it", "[topology]") {
  Topology topology = MakeTopology();
  topology.SetLocalConnections({To(2)});  // version 2
  // Our own uid, or an older version: nothing to do, and never taken.
  CHECK(Names(MustMerge(topology, Update({Record(kSelf, 1000, 9)}))).empty());
  CHECK(Names(MustMerge(topology, Update({Record(kSelf, 7, 1)}))).empty());
  CHECK(topology.self().version == 2);

  v1::TopologyUpdate changed = MustMerge(topology, Update({Record(kSelf, 7, 5, {3})}));
  CHECK(topology.self().version == 6);
  CHECK(topology.self().uid == 1000);
  REQUIRE(changed.peers_size() == 1);
  CHECK(changed.peers(0).uid() == 1000);
  CHECK(changed.peers(0).version() == 6);
  CHECK(topology.Find(N(3)) == nullptr);  // the old incarnation's connections are not ours
}

TEST_CASE("placeholders stand for peers known only from connection lists", "[topology]") {
  Topology topology = MakeTopology();
  CHECK(Names(MustMerge(topology, Update({Record(2, 50, 1, {3, 4})}))) == std::vector<uint64_t>{2});
  REQUIRE(topology.Find(N(3)) != nullptr);
  CHECK(topology.Find(N(3))->is_placeholder());
  CHECK(topology.Peers().size() == 4);
  CHECK(Names(topology.Encode()) == (std::vector<uint64_t>{kSelf, 2}));

  // Any real record replaces a placeholder, even at version 0; a uid 0 record never does.
  CHECK(Names(MustMerge(topology, Update({Record(3, 0, 5)}))).empty());
  CHECK(topology.Find(N(3))->is_placeholder());
  CHECK(Names(MustMerge(topology, Update({Record(3, 70, 0)}))) == std::vector<uint64_t>{3});
  CHECK(topology.Find(N(3))->uid == 70);

  // Once 2 no longer lists 4, nothing stands for 4; 3 has a record of its own and stays.
  MustMerge(topology, Update({Record(2, 50, 2)}));
  CHECK(topology.Find(N(4)) == nullptr);
  CHECK(topology.Find(N(3)) != nullptr);
}

TEST_CASE("merging is commutative, associative and idempotent", "[topology]") {
  const std::vector<v1::TopologyUpdate> updates = {
      Update({Record(2, 50, 1, {kSelf, 3}), Record(3, 60, 2, {2})}),
      Update({Record(2, 50, 2, {kSelf, 4})}),
      Update({Record(3, 61, 2, {2, 5}), Record(kSelf, 5, 4)}),
      Update({Record(4, 80, 1, {2}), Record(6, 0, 0)}),
      Update({Record(2, 49, 2, {7}), Record(5, 90, 3)}),
  };
  auto merge_all = [&](const std::vector<int>& order) {
    Topology topology = MakeTopology({To(2)});
    for (int i : order) MustMerge(topology, updates[i]);
    return topology;
  };
  std::vector<int> order = {0, 1, 2, 3, 4};
  Topology first = merge_all(order);
  const std::vector<PeerInfo> expected = first.Peers();
  CHECK(expected.size() == 5);         // self, 2, 3, 4, 5: the uid 0 record of 6 carries nothing
  CHECK(first.Find(N(7)) == nullptr);  // only the losing record of 2 listed 7
  CHECK(first.Find(N(3))->uid == 61);
  CHECK(first.self().version == 5);
  while (std::next_permutation(order.begin(), order.end())) {
    INFO("order " << order[0] << order[1] << order[2] << order[3] << order[4]);
    CHECK(merge_all(order).Peers() == expected);
  }

  // Idempotent: everything again changes nothing.
  for (const v1::TopologyUpdate& update : updates)
    CHECK(MustMerge(first, update).peers_size() == 0);
  CHECK(first.Peers() == expected);

  // Associative: two relays each fold some updates into one, and we merge what they hold.
  auto fold = [&](uint64_t relay_name, std::vector<int> indices) {
    Topology relay(PeerInfo{.name = N(relay_name), .uid = relay_name});
    for (int i : indices) MustMerge(relay, updates[i]);
    return relay.Encode();
  };
  Topology grouped = MakeTopology({To(2)});
  MustMerge(grouped, fold(100, {2, 3, 4}));
  MustMerge(grouped, fold(101, {0, 1}));
  std::vector<PeerInfo> without_relays = grouped.Peers();
  std::erase_if(without_relays, [](const PeerInfo& peer) { return peer.name.value() >= 100; });
  CHECK(without_relays == expected);
}

TEST_CASE("malformed updates are rejected whole and change nothing", "[topology]") {
  struct Case {
    const char* what;
    v1::TopologyUpdate update;
    const char* message;
  };
  v1::PeerRecord twice = Record(3, 60, 1, {2, 2});
  v1::PeerRecord wide_short_id = Record(3, 60, 1);
  wide_short_id.set_short_id(4096);
  Case cases[] = {
      {"name 0", Update({Record(2, 50, 9), Record(0, 60, 1)}), "record 1 has name 0"},
      {"wide name", Update({Record(2, 50, 9), Record(1ULL << 48, 60, 1)}),
       "record 1 has name 0x1000000000000, wider than 48 bits"},
      {"wide connection", Update({Record(2, 50, 9, {1ULL << 50})}),
       "a connection of peer 00:00:00:00:00:02 has name 0x4000000000000, wider than 48 bits"},
      {"loop", Update({Record(2, 50, 9), Record(3, 60, 1, {3})}),
       "peer 00:00:00:00:00:03 lists itself as a connection"},
      {"duplicate record", Update({Record(2, 50, 9), Record(2, 60, 1)}),
       "two records for peer 00:00:00:00:00:02"},
      {"duplicate connection", Update({Record(2, 50, 9), twice}),
       "peer 00:00:00:00:00:03 lists a connection to 00:00:00:00:00:02 twice"},
      {"short id", Update({Record(2, 50, 9), wide_short_id}),
       "peer 00:00:00:00:00:03 has short id 4096, wider than 12 bits"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    Topology topology = MakeTopology({To(2)});
    MustMerge(topology, Update({Record(2, 50, 1, {kSelf})}));
    const std::vector<PeerInfo> before = topology.Peers();
    absl::StatusOr<v1::TopologyUpdate> result = topology.Merge(c.update);
    REQUIRE_FALSE(result.ok());
    CHECK(result.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(result.status().message()) == std::string("topology update: ") + c.message);
    CHECK(topology.Peers() == before);
  }
}

TEST_CASE("reachability follows symmetric links in any state", "[topology]") {
  ConnectionInfo pending = To(2);
  pending.established = false;
  Topology topology = MakeTopology({pending});
  CHECK(topology.Reachable() == std::set<PeerName>{N(kSelf)});
  // 2 lists us (so 1-2 is symmetric) and 3, but 3 does not list 2.
  MustMerge(topology, Update({Record(2, 50, 1, {kSelf, 3}), Record(3, 60, 1)}));
  CHECK(topology.Reachable() == (std::set<PeerName>{N(kSelf), N(2)}));
  Routes routes = topology.ComputeRoutes();
  CHECK(routes.unicast_all.contains(N(2)));
  CHECK_FALSE(routes.unicast.contains(N(2)));  // our half is not established
}

TEST_CASE("unreachable peers are forgotten only after the grace time", "[topology]") {
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  const absl::Duration grace = absl::Seconds(10);
  Topology topology = MakeTopology({To(2)});
  MustMerge(topology,
            Update({Record(2, 50, 1, {kSelf, 3}), Record(3, 60, 1, {2}), Record(4, 70, 1, {9})}));
  // 4 (and the placeholder 9) are unreachable from the start; 2 and 3 are reachable.
  CHECK(topology.ForgetUnreachable(t0, grace).empty());
  // 2 drops 3: now 3 is unreachable too, from the next call on.
  MustMerge(topology, Update({Record(2, 50, 2, {kSelf})}));
  CHECK(topology.ForgetUnreachable(t0 + absl::Seconds(5), grace).empty());
  CHECK(topology.ForgetUnreachable(t0 + absl::Seconds(10), grace) == std::vector<PeerName>{N(4)});
  CHECK(topology.Find(N(4)) == nullptr);
  CHECK(topology.Find(N(9)) == nullptr);  // nobody lists it any more

  // 3 comes back before its grace ends, then goes again: its time starts over.
  MustMerge(topology, Update({Record(2, 50, 3, {kSelf, 3})}));
  CHECK(topology.ForgetUnreachable(t0 + absl::Seconds(12), grace).empty());
  MustMerge(topology, Update({Record(2, 50, 4, {kSelf})}));
  CHECK(topology.ForgetUnreachable(t0 + absl::Seconds(16), grace).empty());
  CHECK(topology.ForgetUnreachable(t0 + absl::Seconds(25), grace).empty());
  CHECK(topology.ForgetUnreachable(t0 + absl::Seconds(26), grace) == std::vector<PeerName>{N(3)});
  CHECK(topology.Find(N(2)) != nullptr);
  CHECK(topology.Find(N(kSelf)) != nullptr);
}

TEST_CASE("a forgotten peer still listed by others turns back into a placeholder", "[topology]") {
  Topology topology = MakeTopology({To(2)});
  // 2 lists 3, but 3 does not list 2: 3 is unreachable yet named.
  MustMerge(topology, Update({Record(2, 50, 1, {kSelf, 3}), Record(3, 60, 1)}));
  CHECK(topology.ForgetUnreachable(absl::UnixEpoch(), absl::ZeroDuration()) ==
        std::vector<PeerName>{N(3)});
  REQUIRE(topology.Find(N(3)) != nullptr);
  CHECK(topology.Find(N(3))->is_placeholder());
  // Placeholders are never forgotten themselves: they go when nobody lists them.
  CHECK(topology.ForgetUnreachable(absl::UnixEpoch(), absl::ZeroDuration()).empty());
}

TEST_CASE("six peers flooding what changed converge on one view and one set of routes",
          "[topology]") {
  // A ring of six topologies; each forwards what Merge reports as changed to its neighbours.
  constexpr int kCount = 6;
  std::vector<Topology> peers;
  for (int i = 1; i <= kCount; ++i) {
    int prev = (i + kCount - 2) % kCount + 1, next = i % kCount + 1;
    peers.emplace_back(
        PeerInfo{.name = N(i), .uid = 100u + i, .connections = {To(prev), To(next)}});
  }
  struct Message {
    int to;
    int from;
    v1::TopologyUpdate update;
  };
  std::vector<Message> queue;
  auto send_to_neighbours = [&](int from, const v1::TopologyUpdate& update, int except) {
    for (const ConnectionInfo& c : peers[from - 1].self().connections) {
      int to = static_cast<int>(c.name.value());
      if (to != except) queue.push_back({to, from, update});
    }
  };
  for (int i = 1; i <= kCount; ++i) send_to_neighbours(i, peers[i - 1].EncodeSelf(), 0);
  for (size_t next = 0; next < queue.size(); ++next) {
    Message message = queue[next];
    v1::TopologyUpdate changed = MustMerge(peers[message.to - 1], message.update);
    if (changed.peers_size() > 0) send_to_neighbours(message.to, changed, message.from);
  }
  for (const Topology& peer : peers) {
    CHECK(peer.Peers() == peers[0].Peers());
    CHECK(peer.Reachable().size() == kCount);
    CHECK(peer.ComputeRoutes() == ComputeRoutes(peers[0].Peers(), peer.self_name()));
  }
}

}  // namespace
}  // namespace weave::mesh
