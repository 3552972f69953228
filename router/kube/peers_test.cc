#include "router/kube/peers.h"

#include <catch2/catch.hpp>

namespace weave::router {
namespace {

using kube::Json;

Json Node(const std::string& name, std::vector<std::pair<std::string, std::string>> addresses) {
  Json list = Json::array();
  for (const auto& [type, address] : addresses) list.push_back({{"type", type}, {"address", address}});
  return {{"metadata", {{"name", name}}}, {"status", {{"addresses", list}}}};
}

TEST_CASE("Node addresses are the InternalIPs or else the ExternalIPs", "[kube]") {
  std::vector<Json> nodes = {
      Node("a", {{"Hostname", "a"}, {"InternalIP", "10.0.0.2"}, {"ExternalIP", "1.2.3.4"}}),
      Node("b", {{"ExternalIP", "1.2.3.5"}}),
      Node("c", {{"InternalIP", "fd00::1"}, {"InternalIP", "10.0.0.1"}}),
      Node("d", {}),
      Json("garbage"),
      Node("e", {{"InternalIP", "10.0.0.2"}}),
  };
  CHECK(NodeAddresses(nodes) == std::vector<std::string>{"1.2.3.5", "10.0.0.1", "10.0.0.2"});
}

TEST_CASE("The peer list keeps the original's annotation format", "[kube]") {
  Json cm = NewConfigMap();
  CHECK(PeerList(cm)->empty());
  REQUIRE(*AddPeer(cm, {"aa:aa:aa:aa:aa:01", "node1"}));
  REQUIRE(*AddPeer(cm, {"aa:aa:aa:aa:aa:02", "node2"}));
  CHECK_FALSE(*AddPeer(cm, {"aa:aa:aa:aa:aa:02", "node2"}));  // idempotent
  CHECK(cm["metadata"]["annotations"][kPeersAnnotation].get<std::string>() ==
        R"({"Peers":[{"NodeName":"node1","PeerName":"aa:aa:aa:aa:aa:01"},)"
        R"({"NodeName":"node2","PeerName":"aa:aa:aa:aa:aa:02"}]})");
  Json original = NewConfigMap();
  original["metadata"]["annotations"][kPeersAnnotation] =
      R"({"Peers":[{"PeerName":"7e:21:4a:70:2f:45","NodeName":"host1"}]})";
  CHECK(*PeerList(original) == std::vector<PeerEntry>{{"7e:21:4a:70:2f:45", "host1"}});
  Json bad = NewConfigMap();
  bad["metadata"]["annotations"][kPeersAnnotation] = "{not json";
  CHECK(absl::IsInvalidArgument(PeerList(bad).status()));
  bad["metadata"]["annotations"][kPeersAnnotation] = R"({"Peers":[{"NodeName":"x"}]})";
  CHECK(absl::IsInvalidArgument(PeerList(bad).status()));
}

TEST_CASE("Reclaim candidates are peers of vanished nodes and our node's old peer", "[kube]") {
  std::vector<PeerEntry> peers = {{"p1", "node1"}, {"p2", "node2"}, {"p3", "node3"},
                                  {"old", "node1"}};
  CHECK(ReclaimCandidates(peers, {"node1", "node2"}, "p1", "node1") ==
        std::vector<std::string>{"p3", "old"});
  CHECK(ReclaimCandidates(peers, {"node1", "node2", "node3"}, "p2", "node2").empty());
}

TEST_CASE("Only one of two racing peers gets a candidate's lock", "[kube]") {
  Json cm = NewConfigMap();
  for (const char* peer : {"p1", "p2", "p3"}) {
    REQUIRE(*AddPeer(cm, {peer, std::string("node-") + peer}));
  }
  // Both read the same version; p1's update lands first, p2's is retried on the result.
  Json p1_view = cm;
  REQUIRE(*TakeLock(p1_view, "p3", "p1"));
  CHECK(HoldsLock(p1_view, "p3", "p1"));
  Json p2_retry = p1_view;
  CHECK_FALSE(*TakeLock(p2_retry, "p3", "p2"));
  CHECK_FALSE(HoldsLock(p2_retry, "p3", "p2"));
  CHECK_FALSE(*TakeLock(p2_retry, "p3", "p1"));  // already ours: no write needed
  // p1 finishes: the candidate and its lock are gone.
  REQUIRE(*RemovePeer(p2_retry, "p3"));
  CHECK(PeerList(p2_retry)->size() == 2);
  CHECK_FALSE(HoldsLock(p2_retry, "p3", "p1"));
  CHECK_FALSE(*TakeLock(p2_retry, "p3", "p2"));  // nothing left to take
  CHECK_FALSE(*RemovePeer(p2_retry, "p3"));
}

TEST_CASE("A lock whose holder is gone from the list may be taken over", "[kube]") {
  Json cm = NewConfigMap();
  REQUIRE(*AddPeer(cm, {"p2", "node2"}));
  REQUIRE(*AddPeer(cm, {"p3", "node3"}));
  REQUIRE(*AddPeer(cm, {"p1", "node1"}));
  REQUIRE(*TakeLock(cm, "p3", "p1"));
  REQUIRE(*RemovePeer(cm, "p1"));  // p1 itself was reclaimed meanwhile
  REQUIRE(*TakeLock(cm, "p3", "p2"));
  CHECK(HoldsLock(cm, "p3", "p2"));
  // The key of a lock is the original's: ':' becomes '_'.
  REQUIRE(*AddPeer(cm, {"aa:bb:cc:dd:ee:ff", "node9"}));
  REQUIRE(*TakeLock(cm, "aa:bb:cc:dd:ee:ff", "p2"));
  CHECK(cm["metadata"]["annotations"]["kube-peers.weave.works/aa_bb_cc_dd_ee_ff"] == "p2");
}

TEST_CASE("NetworkUnavailable is set to False once", "[kube]") {
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  Json node = {{"metadata", {{"name", "n1"}}},
               {"status",
                {{"conditions",
                  {{{"type", "Ready"}, {"status", "True"}},
                   {{"type", "NetworkUnavailable"}, {"status", "True"}, {"reason", "NoRoute"}}}}}}};
  CHECK(MarkNetworkAvailable(node, now));
  const Json& condition = node["status"]["conditions"][1];
  CHECK(condition["status"] == "False");
  CHECK(condition["reason"] == "WeaveIsUp");
  CHECK(condition["message"] == "Weave pod has set this");
  CHECK(condition["lastTransitionTime"] == "2027-01-15T08:00:00Z");
  CHECK(node["status"]["conditions"][0]["type"] == "Ready");  // others untouched
  CHECK_FALSE(MarkNetworkAvailable(node, now));
  Json bare = {{"metadata", {{"name", "n2"}}}};
  CHECK(MarkNetworkAvailable(bare, now));
  CHECK(bare["status"]["conditions"].size() == 1);
}

}  // namespace
}  // namespace weave::router
