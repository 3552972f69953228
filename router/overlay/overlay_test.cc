#include "router/overlay/overlay.h"

#include <catch2/catch.hpp>

#include "common/netlink/fake_netlink.h"
#include "router/overlay/data_paths.h"
#include "weave/mesh.pb.h"

namespace weave::overlay {
namespace {

using Control = mesh::v1::OverlayControl;

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);
const PeerName kSelf(0x0a0000000001);
const PeerName kPeerB(0x0a0000000002);
const PeerName kPeerC(0x0a0000000003);
constexpr netlink::MacAddress kFlood{};

class FakeMesh : public OverlayMesh {
 public:
  std::vector<mesh::Neighbour> Neighbours() const override { return neighbours; }
  std::map<PeerName, PeerName> NextHops() const override { return next_hops; }
  void Send(PeerName to, const std::string& payload) override { sent.emplace_back(to, payload); }

  std::vector<mesh::Neighbour> neighbours;
  std::map<PeerName, PeerName> next_hops;
  std::vector<std::pair<PeerName, std::string>> sent;
};

class FakePaths : public DataPaths {
 public:
  bool has_fastdp() const override { return fastdp; }
  absl::Status SendFastdpHeartbeat(PeerName to, net::Ipv4 ip, uint64_t seq) override {
    fastdp_heartbeats.push_back({to, seq});
    return absl::OkStatus();
  }
  absl::Status SendSleeveHeartbeat(PeerName to, uint64_t seq) override {
    sleeve_heartbeats.push_back({to, seq});
    return absl::OkStatus();
  }
  void SetSleeveTargets(std::vector<SleeveTarget> t) override { targets = std::move(t); }
  void ForgetSleevePeer(PeerName peer) override { forgotten.push_back(peer); }
  SleeveCounters Counters() const override { return {}; }

  bool fastdp = true;
  std::vector<std::pair<PeerName, uint64_t>> fastdp_heartbeats;
  std::vector<std::pair<PeerName, uint64_t>> sleeve_heartbeats;
  std::vector<SleeveTarget> targets;
  std::vector<PeerName> forgotten;
};

mesh::Neighbour Neighbour(PeerName name, const std::string& ip, uint64_t uid) {
  mesh::Neighbour n;
  n.name = name;
  n.nickname = "node";
  n.connection_uid = uid;
  n.remote_ip = ip;
  n.listen_port = 6783;
  n.overlays = {"fastdp", "sleeve"};
  return n;
}

std::string Ack(Control::Overlay overlay, uint64_t seq) {
  Control control;
  control.mutable_ack()->set_overlay(overlay);
  control.mutable_ack()->set_seq(seq);
  return control.SerializeAsString();
}

// A node with bridge and VXLAN device in a fake namespace, and an overlay over fakes.
struct Node {
  Node() {
    REQUIRE(netlink.CreateBridge("weave", 1376).ok());
    DataPathsConfig paths_config;
    paths_config.self = kSelf;
    REQUIRE(EnsureVxlanPort(netlink, paths_config).ok());
    config.self = kSelf;
    config.switching.heartbeat = absl::Seconds(1);
    config.switching.timeout = absl::Seconds(5);
    config.switching.fastdp_wait = absl::Seconds(3);
    config.switching.retry = absl::Seconds(30);
    config.grace = absl::Seconds(60);
    overlay = std::make_unique<Overlay>(config, &netlink, [this] { return now; });
  }

  // Answers every heartbeat sent so far, both ways, for the overlays given.
  void AnswerAll(absl::Time at, bool fastdp, bool sleeve) {
    now = at;
    if (fastdp) {
      for (auto [peer, seq] : paths.fastdp_heartbeats) {
        REQUIRE(overlay->OnUnicast(peer, Ack(Control::FASTDP, seq)).ok());
        overlay->OnFastdpHeartbeat(peer, seq, now);
      }
    }
    if (sleeve) {
      for (auto [peer, seq] : paths.sleeve_heartbeats) {
        REQUIRE(overlay->OnUnicast(peer, Ack(Control::SLEEVE, seq)).ok());
        overlay->OnSleeveHeartbeat(peer, seq, now);
      }
    }
    paths.fastdp_heartbeats.clear();
    paths.sleeve_heartbeats.clear();
  }

  std::vector<net::Ipv4> FloodList() {
    std::vector<net::Ipv4> out;
    absl::StatusOr<std::vector<netlink::FdbEntry>> entries = netlink.ListFdb("vxlan-6784");
    REQUIRE(entries.ok());
    for (const netlink::FdbEntry& e : *entries) {
      if (e.self && e.mac == kFlood && e.dst) out.push_back(*e.dst);
    }
    return out;
  }

  netlink::FakeNetlink netlink;
  absl::Time now = kStart;  // the overlay's clock for control messages
  OverlayConfig config;
  FakeMesh mesh;
  FakePaths paths;
  std::unique_ptr<Overlay> overlay;
};

const net::Ipv4 kIpB = *net::Ipv4::Parse("192.168.250.12");
const net::Ipv4 kIpC = *net::Ipv4::Parse("192.168.250.13");

TEST_CASE("The VXLAN port is created once and kept across a restart", "[overlay]") {
  netlink::FakeNetlink netlink;
  REQUIRE(netlink.CreateBridge("weave", 1376).ok());
  DataPathsConfig config;
  REQUIRE(EnsureVxlanPort(netlink, config).ok());
  absl::StatusOr<netlink::LinkInfo> first = netlink.GetLink("vxlan-6784");
  REQUIRE(first.ok());
  CHECK(first->kind == "vxlan");
  CHECK(first->up);
  CHECK(first->master_index == netlink.GetLink("weave")->index);
  REQUIRE(EnsureVxlanPort(netlink, config).ok());
  CHECK(netlink.GetLink("vxlan-6784")->index == first->index);  // adopted, not recreated
  config.mtu = 1400;
  REQUIRE(EnsureVxlanPort(netlink, config).ok());
  CHECK(netlink.GetLink("vxlan-6784")->index != first->index);  // other settings: replaced
  CHECK(netlink.GetVxlan("vxlan-6784")->mtu == 1400);
}

TEST_CASE("A link goes fastdp when heartbeats work both ways and floods to the peer", "[overlay]") {
  Node node;
  node.mesh.neighbours = {Neighbour(kPeerB, kIpB.ToString(), 7)};
  node.overlay->Attach(&node.mesh, &node.paths);
  node.overlay->Tick(kStart);
  REQUIRE(node.paths.fastdp_heartbeats.size() == 1);
  REQUIRE(node.paths.sleeve_heartbeats.size() == 1);
  CHECK(node.overlay->LinkStatus(kPeerB)->overlay.empty());  // pending
  CHECK(node.FloodList().empty());

  node.AnswerAll(kStart + absl::Milliseconds(5), true, true);
  node.overlay->Tick(kStart + absl::Milliseconds(100));
  CHECK(node.overlay->LinkStatus(kPeerB)->overlay == "fastdp");
  CHECK(node.overlay->LinkStatus(kPeerB)->attrs.at("mtu") == "1376");
  CHECK(node.FloodList() == std::vector<net::Ipv4>{kIpB});
  REQUIRE(node.paths.targets.size() == 1);
  CHECK_FALSE(node.paths.targets[0].forward);  // frames to B go by VXLAN
  // The peer is told, so that it follows at once.
  REQUIRE_FALSE(node.mesh.sent.empty());
  Control notice;
  REQUIRE(notice.ParseFromString(node.mesh.sent.back().second));
  CHECK(notice.switched().overlay() == Control::FASTDP);
  CHECK(node.overlay->Stats().fastdp_links == 1);
}

TEST_CASE("A blocked VXLAN path falls back to sleeve and leaves the flood list until fastdp returns",
          "[overlay]") {
  Node node;
  node.mesh.neighbours = {Neighbour(kPeerB, kIpB.ToString(), 7)};
  node.overlay->Attach(&node.mesh, &node.paths);
  absl::Time t = kStart;
  node.overlay->Tick(t);
  node.AnswerAll(t, true, true);
  node.overlay->Tick(t);
  REQUIRE(node.overlay->LinkStatus(kPeerB)->overlay == "fastdp");

  // Only sleeve heartbeats are answered from now on.
  for (int i = 1; i <= 7; ++i) {
    t = kStart + absl::Seconds(i);
    node.overlay->Tick(t);
    node.AnswerAll(t, false, true);
  }
  node.overlay->Tick(t);
  CHECK(node.overlay->LinkStatus(kPeerB)->overlay == "sleeve");
  CHECK(node.FloodList().empty());
  REQUIRE(node.paths.targets.size() == 1);
  CHECK(node.paths.targets[0].forward);
  CHECK(node.paths.forgotten == std::vector<PeerName>{kPeerB, kPeerB});
  CHECK(node.overlay->Stats().fallbacks == 1);

  // Unblocked: back on fastdp by the retry time (30 s after the fallback), not before.
  bool back = false;
  for (int i = 8; i <= 8 + 31 && !back; ++i) {
    t = kStart + absl::Seconds(i);
    node.overlay->Tick(t);
    node.AnswerAll(t, true, true);
    node.overlay->Tick(t);
    back = node.overlay->LinkStatus(kPeerB)->overlay == "fastdp";
    if (i < 36) CHECK_FALSE(back);
  }
  CHECK(back);
  CHECK(node.FloodList() == std::vector<net::Ipv4>{kIpB});
}

TEST_CASE("Encrypted links and peers without fastdp use sleeve without trying VXLAN", "[overlay]") {
  Node node;
  mesh::Neighbour b = Neighbour(kPeerB, kIpB.ToString(), 7);
  b.encrypted = true;
  mesh::Neighbour c = Neighbour(kPeerC, kIpC.ToString(), 8);
  c.overlays = {"sleeve"};
  node.mesh.neighbours = {b, c};
  node.overlay->Attach(&node.mesh, &node.paths);
  node.overlay->Tick(kStart);
  CHECK(node.paths.fastdp_heartbeats.empty());
  node.AnswerAll(kStart, true, true);
  node.overlay->Tick(kStart);
  CHECK(node.overlay->LinkStatus(kPeerB)->overlay == "sleeve");
  CHECK(node.overlay->LinkStatus(kPeerC)->overlay == "sleeve");
  CHECK(node.FloodList().empty());
}

TEST_CASE("A fastdp peer's VXLAN entry outlives its connection for the grace period", "[overlay]") {
  Node node;
  node.mesh.neighbours = {Neighbour(kPeerB, kIpB.ToString(), 7)};
  node.overlay->Attach(&node.mesh, &node.paths);
  node.overlay->Tick(kStart);
  node.AnswerAll(kStart, true, true);
  node.overlay->Tick(kStart);
  REQUIRE(node.FloodList() == std::vector<net::Ipv4>{kIpB});

  node.mesh.neighbours.clear();  // B's router restarts
  node.overlay->Tick(kStart + absl::Seconds(1));
  CHECK(node.FloodList() == std::vector<net::Ipv4>{kIpB});
  CHECK_FALSE(node.overlay->LinkStatus(kPeerB).has_value());
  node.overlay->Tick(kStart + absl::Seconds(59));
  CHECK(node.FloodList() == std::vector<net::Ipv4>{kIpB});
  node.overlay->Tick(kStart + absl::Seconds(62));
  CHECK(node.FloodList().empty());
}

TEST_CASE("Entries found at start are kept until the peer's link decides", "[overlay]") {
  Node node;
  REQUIRE(node.netlink.AddFdb("vxlan-6784", kFlood, kIpB).ok());
  REQUIRE(node.netlink.AddFdb("vxlan-6784", kFlood, kIpC).ok());
  REQUIRE(node.overlay->Adopt(kStart).ok());
  node.mesh.neighbours = {Neighbour(kPeerB, kIpB.ToString(), 7)};
  node.overlay->Attach(&node.mesh, &node.paths);
  node.overlay->Tick(kStart);
  CHECK(node.FloodList().size() == 2);  // nothing decided yet: both stay
  node.AnswerAll(kStart, true, true);
  node.overlay->Tick(kStart);
  CHECK(node.FloodList().size() == 2);  // B on fastdp; C still in its grace
  node.overlay->Tick(kStart + absl::Seconds(61));
  node.AnswerAll(kStart + absl::Seconds(61), true, true);
  node.overlay->Tick(kStart + absl::Seconds(61));
  CHECK(node.FloodList() == std::vector<net::Ipv4>{kIpB});
}

TEST_CASE("Peers without a connection are relayed through the next hop with the links' keys",
          "[overlay]") {
  Node node;
  mesh::Neighbour b = Neighbour(kPeerB, kIpB.ToString(), 7);
  b.encrypted = true;
  b.data_key = crypto::Key32{1, 2, 3};
  node.mesh.neighbours = {b};
  node.mesh.next_hops = {{kSelf, kSelf}, {kPeerB, kPeerB}, {kPeerC, kPeerB}};
  node.overlay->Attach(&node.mesh, &node.paths);
  node.overlay->Tick(kStart);
  REQUIRE(node.paths.targets.size() == 2);
  const SleeveTarget& direct = node.paths.targets[0];
  CHECK(direct.name == kPeerB);
  CHECK(direct.key == b.data_key);
  CHECK(direct.via == PeerName());
  const SleeveTarget& relayed = node.paths.targets[1];
  CHECK(relayed.name == kPeerC);
  CHECK(relayed.via == kPeerB);
  CHECK(relayed.forward);
  CHECK_FALSE(node.overlay->LinkStatus(kPeerC).has_value());  // not a connection
}

TEST_CASE("Bad control messages are errors, stale acks are ignored", "[overlay]") {
  Node node;
  node.mesh.neighbours = {Neighbour(kPeerB, kIpB.ToString(), 7)};
  node.overlay->Attach(&node.mesh, &node.paths);
  node.overlay->Tick(kStart);
  CHECK_FALSE(node.overlay->OnUnicast(kPeerB, "\xff\xff\xff garbage").ok());
  CHECK(node.overlay->OnUnicast(kPeerC, Ack(Control::FASTDP, 1)).ok());  // unknown peer
  // An ack for a sequence number this link never sent does not count.
  REQUIRE(node.overlay->OnUnicast(kPeerB, Ack(Control::FASTDP, 1)).ok());
  node.overlay->OnFastdpHeartbeat(kPeerB, 1, kStart);
  node.overlay->Tick(kStart);
  CHECK(node.overlay->LinkStatus(kPeerB)->overlay.empty());
}

}  // namespace
}  // namespace weave::overlay
