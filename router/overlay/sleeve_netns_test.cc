// The sleeve between nodes made of network namespaces (NetnsCluster: an underlay bridge, node i
// at 192.168.250.(10+i)). In each node: a bridge `weave` (MTU 1376), a pod namespace on it
// through a veth (pod i at 10.40.0.i/24), and a Sleeve started inside the node's namespace with
// its TAP on `weave`. Pods talk across nodes only through the sleeves. The nodes' peer sets make
// a line: node i knows i-1 and i+1 directly and the others through the neighbour towards them,
// so with three nodes, 1 and 3 talk only through 2's relay. Links are plain or all keyed.
//
// The throughput comparison (plain and sealed sleeve vs. the underlay) is a hidden test, run by
// hand:
//   build/router/overlay/sleeve_netns_test "[.sleeve_throughput]"
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/crypto/box.h"
#include "common/netlink/netlink.h"
#include "common/netlink/netns.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"
#include "router/overlay/sleeve.h"
#include "router/overlay/sleeve_wire.h"
#include "test/harness/netns_cluster.h"
#include "test/harness/status_assertions.h"
#include "test/harness/subprocess.h"
#include "test/harness/wait_for.h"

namespace weave::overlay {
namespace {

using testing::CommandResult;
using testing::NetnsCluster;
using testing::NetnsNode;
using testing::RunCommand;
using testing::WaitFor;

constexpr int kMtu = 1376;
constexpr uint16_t kPort = 6783;
const char kBridge[] = "weave";

PeerName NodePeerName(int index) { return PeerName(0x0a0000000000ULL + index); }
std::string PodAddress(int index) { return absl::StrCat("10.40.0.", index); }
std::string NetnsPath(const std::string& name) { return "/run/netns/" + name; }

sockaddr_in SockAddr(const std::string& ip, uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  inet_pton(AF_INET, ip.c_str(), &address.sin_addr);
  return address;
}

// Heartbeats seen by one sleeve's handler (called on its receive thread).
class HeartbeatLog {
 public:
  void Add(PeerName from, uint64_t seq) {
    std::lock_guard lock(mu_);
    seen_.emplace_back(from, seq);
  }
  bool Contains(PeerName from, uint64_t seq) const { return Count(from, seq) > 0; }
  int Count(PeerName from, uint64_t seq) const {
    std::lock_guard lock(mu_);
    return static_cast<int>(std::count(seen_.begin(), seen_.end(), std::make_pair(from, seq)));
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<PeerName, uint64_t>> seen_;
};

struct SleeveNode {
  NetnsNode* node = nullptr;
  std::string pod_ns;  // The pod's namespace name.
  std::unique_ptr<netlink::Netlink> netlink;
  HeartbeatLog heartbeats;
  std::unique_ptr<Sleeve> sleeve;
};

// The node's bridge and pod, and its sleeve with the TAP on the bridge.
absl::Status BuildNode(NetnsCluster& cluster, int index, SleeveNode& out) {
  out.node = &cluster.node(index);
  ASSIGN_OR_RETURN(out.netlink, netlink::OpenNetlinkIn(NetnsPath(out.node->name())));
  netlink::Netlink& nl = *out.netlink;
  RETURN_IF_ERROR(nl.CreateBridge(kBridge, kMtu));
  RETURN_IF_ERROR(nl.SetMtu(kBridge, kMtu));
  RETURN_IF_ERROR(nl.SetUp(kBridge, true));

  ASSIGN_OR_RETURN(std::string pod_path, cluster.AddPodNamespace(absl::StrCat("pod", index)));
  out.pod_ns = pod_path.substr(pod_path.rfind('/') + 1);
  ASSIGN_OR_RETURN(netlink::NetnsFd pod, netlink::NetnsFd::Open(pod_path));
  RETURN_IF_ERROR(nl.CreateVethPair("vethpod", "eth0", kMtu, pod.fd()));
  RETURN_IF_ERROR(nl.SetMaster("vethpod", kBridge));
  RETURN_IF_ERROR(nl.SetUp("vethpod", true));
  ASSIGN_OR_RETURN(auto pod_netlink, netlink::OpenNetlinkIn(pod));
  ASSIGN_OR_RETURN(net::Cidr pod_address, net::Cidr::Parse(PodAddress(index) + "/24"));
  RETURN_IF_ERROR(pod_netlink->AddAddress("eth0", pod_address));
  RETURN_IF_ERROR(pod_netlink->SetUp("eth0", true));

  SleeveConfig config{.self = NodePeerName(index)};
  HeartbeatLog* heartbeats = &out.heartbeats;
  RETURN_IF_ERROR(netlink::RunInNetns(NetnsPath(out.node->name()), [&]() -> absl::Status {
    ASSIGN_OR_RETURN(out.sleeve, Sleeve::Start(config, [heartbeats](PeerName from, uint64_t seq) {
                       heartbeats->Add(from, seq);
                     }));
    return absl::OkStatus();
  }));
  const std::string& tap = out.sleeve->tap_name();
  RETURN_IF_ERROR(nl.SetMtu(tap, kMtu));
  RETURN_IF_ERROR(nl.SetMaster(tap, kBridge));
  return nl.SetUp(tap, true);
}

// Sleeve nodes in a line (see the top of this file). Members are destroyed in reverse order: the
// sleeves stop before the cluster deletes the namespaces.
struct SleeveCluster {
  static constexpr int kMaxNodes = 3;

  std::unique_ptr<NetnsCluster> cluster;
  int size = 0;
  SleeveNode nodes[kMaxNodes];

  SleeveNode& node(int index) { return nodes[index - 1]; }
};

// The data key of the link between nodes i and j, the same at both ends; another per link.
crypto::Key32 LinkKey(int i, int j) {
  crypto::Key32 session;
  session.fill(0x5a);
  session[0] = static_cast<uint8_t>(std::min(i, j));
  session[1] = static_cast<uint8_t>(std::max(i, j));
  return crypto::DeriveDataKey(session);
}

// Node `index`'s peers in the line: its neighbours directly (with the link's key if `keyed`),
// everyone else through the neighbour on their side.
std::vector<SleevePeer> LinePeers(SleeveCluster& c, int index, bool keyed) {
  std::vector<SleevePeer> peers;
  for (int other = 1; other <= c.size; ++other) {
    if (other == index) continue;
    SleevePeer peer{.name = NodePeerName(other), .forward = true};
    if (std::abs(other - index) == 1) {
      peer.address = SockAddr(c.cluster->node(other).address(), kPort);
      if (keyed) peer.key = LinkKey(index, other);
    } else {
      peer.via = NodePeerName(other < index ? index - 1 : index + 1);
    }
    peers.push_back(peer);
  }
  return peers;
}

std::unique_ptr<SleeveCluster> MakeSleeveCluster(int size = 2, bool keyed = false) {
  REQUIRE(size <= SleeveCluster::kMaxNodes);
  auto result = std::make_unique<SleeveCluster>();
  result->size = size;
  ASSIGN_OR_REQUIRE(result->cluster, NetnsCluster::Create(size));
  for (int i = 1; i <= size; ++i) REQUIRE_OK(BuildNode(*result->cluster, i, result->node(i)));
  for (int i = 1; i <= size; ++i) result->node(i).sleeve->SetPeers(LinePeers(*result, i, keyed));
  return result;
}

absl::StatusOr<CommandResult> InPod(const SleeveNode& node, std::vector<std::string> argv,
                                    absl::Duration timeout = absl::Seconds(30)) {
  argv.insert(argv.begin(), {"ip", "netns", "exec", node.pod_ns});
  return RunCommand(argv, timeout);
}

bool Ping(const SleeveNode& from, const std::string& address) {
  absl::StatusOr<CommandResult> result = InPod(from, {"ping", "-c", "1", "-W", "1", address});
  return result.ok() && result->exit.success();
}

// Sends `payload` in one UDP datagram from `from_ip` (any port) inside `netns` to `to`.
absl::Status SendUdp(const std::string& netns, const std::string& from_ip, const sockaddr_in& to,
                     const std::string& payload) {
  return netlink::RunInNetns(NetnsPath(netns), [&]() -> absl::Status {
    mesh::Fd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) return absl::InternalError("socket");
    sockaddr_in local = SockAddr(from_ip, 0);
    if (bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof(local)) < 0) {
      return absl::InternalError(absl::StrCat("bind ", from_ip, ": ", strerror(errno)));
    }
    if (sendto(fd.get(), payload.data(), payload.size(), 0, reinterpret_cast<const sockaddr*>(&to),
               sizeof(to)) < 0) {
      return absl::InternalError(absl::StrCat("sendto: ", strerror(errno)));
    }
    return absl::OkStatus();
  });
}

std::string HeartbeatFrom(PeerName sender, PeerName destination, uint64_t seq) {
  std::array<uint8_t, kHeartbeatPayloadSize> payload = EncodeHeartbeat(seq);
  return EncodeDatagram(Header{.type = MessageType::kHeartbeat,
                               .sender = sender,
                               .source = sender,
                               .destination = destination},
                        payload);
}

// Waits until something listens on TCP `port` in `netns`.
void WaitListening(const NetnsNode& node, const std::string& netns, int port) {
  const std::string filter = absl::StrCat("sport = :", port);
  REQUIRE_OK(WaitFor(
      [&] {
        absl::StatusOr<CommandResult> result =
            node.Exec({"ip", "netns", "exec", netns, "ss", "-Hltn", filter});
        return result.ok() && absl::StrContains(result->stdout_data, absl::StrCat(":", port));
      },
      absl::Seconds(10), absl::StrCat("a listener on port ", port)));
}

// Starts `iperf3 -s -1` in `netns` (a pod's or the node's own) and waits until it listens.
void StartIperfServer(SleeveNode& node, const std::string& label, const std::string& netns) {
  REQUIRE_OK(
      node.node->Start(label, {"ip", "netns", "exec", netns, "iperf3", "-s", "-1"}).status());
  WaitListening(*node.node, netns, 5201);
}

// Runs an iperf3 client (extra args appended) and returns its JSON report.
nlohmann::json RunIperfClient(std::vector<std::string> argv) {
  ASSIGN_OR_REQUIRE(CommandResult result, RunCommand(argv, absl::Seconds(60)));
  INFO(result.stdout_data << result.stderr_data);
  REQUIRE(result.exit.success());
  nlohmann::json report = nlohmann::json::parse(result.stdout_data, nullptr, false);
  REQUIRE_FALSE(report.is_discarded());
  return report;
}

std::string Describe(const SleeveStats& s) {
  return absl::StrFormat(
      "tap_frames=%d tx=%d/%dB rx=%d/%dB relayed=%d/%dB hb=%d/%d bad=%d unknown=%d "
      "wrong_addr=%d not_for_us=%d unauthenticated=%d replayed=%d relay_drops=%d oversize=%d "
      "no_peers=%d control=%d send_err=%d tap_write_err=%d read_err=%d macs=%d",
      s.tap_frames, s.tx_frames, s.tx_bytes, s.rx_frames, s.rx_bytes, s.relayed_frames,
      s.relayed_bytes, s.heartbeats_sent, s.heartbeats_received, s.dropped_bad,
      s.dropped_unknown_peer, s.dropped_wrong_address, s.dropped_not_for_us,
      s.dropped_unauthenticated, s.dropped_replayed, s.dropped_relay, s.dropped_oversize,
      s.dropped_no_peers, s.dropped_control, s.send_errors, s.tap_write_errors, s.read_errors,
      s.macs);
}

// Sends `bytes` random bytes from pod `from` to pod `to` through ncat and checks that the
// receiver's SHA-256 matches.
void TransferAndCheck(SleeveCluster& c, int from, int to, int64_t bytes) {
  const std::string file = c.cluster->work_dir() + "/payload";
  REQUIRE_OK(testing::RunChecked(
      {"sh", "-c", absl::StrCat("head -c ", bytes, " /dev/urandom > ", file)}, absl::Seconds(30)));
  ASSIGN_OR_REQUIRE(CommandResult sum, RunCommand({"sha256sum", file}, absl::Seconds(30)));
  const std::string expected = sum.stdout_data.substr(0, 64);
  SleeveNode& receiver_node = c.node(to);
  ASSIGN_OR_REQUIRE(
      testing::Process * receiver,
      receiver_node.node->Start(absl::StrCat("ncat-recv-", from),
                                {"ip", "netns", "exec", receiver_node.pod_ns, "sh", "-c",
                                 "ncat -l -p 5001 --recv-only | "
                                 "sha256sum"}));
  WaitListening(*receiver_node.node, receiver_node.pod_ns, 5001);
  REQUIRE_OK(
      testing::RunChecked({"ip", "netns", "exec", c.node(from).pod_ns, "sh", "-c",
                           absl::StrCat("ncat --send-only ", PodAddress(to), " 5001 < ", file)},
                          absl::Seconds(60)));
  ASSIGN_OR_REQUIRE(testing::ExitStatus exit, receiver->Wait(absl::Seconds(30)));
  CHECK(exit.success());
  std::ifstream log(receiver->log_path());
  std::string received((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  CHECK_THAT(received, Catch::Contains(expected));
}

// TransferAndCheck from pod 1 to pod 2, then checks that the bytes crossed as GSO super-frames
// (far fewer frames than MTU-sized packets) with nothing dropped; the two sleeves' stats after.
std::pair<SleeveStats, SleeveStats> TransferSuperFrames(SleeveCluster& c, int64_t bytes) {
  TransferAndCheck(c, 1, 2, bytes);
  const SleeveStats sa = c.node(1).sleeve->Stats();
  const SleeveStats sb = c.node(2).sleeve->Stats();
  INFO("a: " << Describe(sa) << "\nb: " << Describe(sb));
  const uint64_t sent = static_cast<uint64_t>(bytes);
  CHECK(sa.tx_bytes > sent);
  CHECK(sb.rx_bytes > sent);
  CHECK(sa.tx_frames < sent / kMtu / 4);
  CHECK(sa.dropped_oversize == 0);
  CHECK(sb.tap_write_errors == 0);
  CHECK(sb.dropped_bad == 0);
  return {sa, sb};
}

// tcpdump of the sleeve's UDP on a node's eth0, into a pcap file, until Stop.
class UnderlayCapture {
 public:
  UnderlayCapture(SleeveNode& node, const std::string& label) {
    path_ = absl::StrCat(node.node->dir(), "/", label, ".pcap");
    ASSIGN_OR_REQUIRE(
        process_, node.node->Start(label, {"tcpdump", "-i", "eth0", "-n", "--immediate-mode", "-U",
                                           "-w", path_, "udp", "port", absl::StrCat(kPort)}));
    REQUIRE_OK(WaitFor(
        [&] {
          std::ifstream log(process_->log_path());
          std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
          return absl::StrContains(text, "listening on");
        },
        absl::Seconds(10), "tcpdump to start capturing"));
  }

  // Waits until the file holds at least `at_least` datagrams, stops tcpdump and returns the UDP
  // payloads captured, in order. Fragmented datagrams are left out.
  std::vector<std::string> Stop(size_t at_least) {
    REQUIRE_OK(WaitFor([&] { return UdpPayloads(ReadFile()).size() >= at_least; }, absl::Seconds(5),
                       absl::StrCat(at_least, " datagrams in ", path_)));
    REQUIRE_OK(process_->Stop(absl::Seconds(5)).status());
    raw_ = ReadFile();
    return UdpPayloads(raw_);
  }

  // The whole capture file, once stopped.
  const std::string& raw() const { return raw_; }

 private:
  std::string ReadFile() const {
    std::ifstream file(path_, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  }

  static uint32_t Little32(const std::string& s, size_t at) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(s[at + i]);
    return v;
  }

  // pcap (little-endian, as tcpdump writes it here), Ethernet, IPv4, UDP.
  static std::vector<std::string> UdpPayloads(const std::string& pcap) {
    std::vector<std::string> out;
    if (pcap.size() < 24) return out;  // Not written yet.
    REQUIRE(Little32(pcap, 20) == 1);  // LINKTYPE_ETHERNET.
    for (size_t at = 24; at + 16 <= pcap.size();) {
      const size_t length = Little32(pcap, at + 8);
      if (at + 16 + length > pcap.size()) break;  // Being written.
      const std::string packet = pcap.substr(at + 16, length);
      at += 16 + length;
      if (packet.size() < 14 + 20 + 8 || packet[12] != 0x08 || packet[13] != 0x00) continue;
      const std::string ip = packet.substr(14);
      const size_t ihl = (static_cast<uint8_t>(ip[0]) & 0x0f) * 4;
      const bool fragment = (static_cast<uint8_t>(ip[6]) & 0x3f) != 0 || ip[7] != 0;
      if (ip[9] != 17 || fragment || ip.size() < ihl + 8) continue;
      out.push_back(ip.substr(ihl + 8));
    }
    return out;
  }

  std::string path_;
  testing::Process* process_ = nullptr;
  std::string raw_;
};

TEST_CASE("Sleeve carries pod traffic between two nodes", "[netns][sleeve]") {
  std::unique_ptr<SleeveCluster> c = MakeSleeveCluster();
  SleeveNode& a = c->node(1);
  SleeveNode& b = c->node(2);
  CHECK((a.sleeve->tap_offloads() & 0x07) == 0x07);  // CSUM, TSO4, TSO6 at least.

  SECTION("ping and a TCP transfer") {
    REQUIRE_OK(WaitFor([&] { return Ping(a, PodAddress(2)); }, absl::Seconds(10),
                       "pod 1 to ping pod 2 across the sleeve"));
    CHECK(a.sleeve->Stats().macs >= 1);  // Pod 2's MAC, learned from its replies.

    // 32 MB of random bytes through ncat; the receiver's checksum must match, and TSO from
    // the TAP means far fewer frames than 1376-byte packets.
    TransferSuperFrames(*c, 32 << 20);
  }

  SECTION("heartbeats arrive with their sequence number") {
    REQUIRE_OK(a.sleeve->SendHeartbeat(NodePeerName(2), 12345));
    REQUIRE_OK(b.sleeve->SendHeartbeat(NodePeerName(1), 777));
    REQUIRE_OK(WaitFor([&] { return b.heartbeats.Contains(NodePeerName(1), 12345); },
                       absl::Seconds(5), "node 2 to receive node 1's heartbeat"));
    REQUIRE_OK(WaitFor([&] { return a.heartbeats.Contains(NodePeerName(2), 777); },
                       absl::Seconds(5), "node 1 to receive node 2's heartbeat"));
    CHECK(a.sleeve->SendHeartbeat(NodePeerName(9), 1).code() == absl::StatusCode::kNotFound);
  }

  SECTION("garbage and spoofed datagrams are dropped; traffic keeps flowing") {
    REQUIRE_OK(WaitFor([&] { return Ping(a, PodAddress(2)); }, absl::Seconds(10),
                       "pod 1 to ping pod 2 across the sleeve"));
    const sockaddr_in to_b = SockAddr(b.node->address(), kPort);

    REQUIRE_OK(SendUdp(a.node->name(), a.node->address(), to_b, "garbage, not a sleeve datagram"));
    REQUIRE_OK(WaitFor([&] { return b.sleeve->Stats().dropped_bad == 1; }, absl::Seconds(5),
                       "node 2 to count the garbage as dropped_bad"));

    // Node 1's name from another address of node 1's namespace.
    ASSIGN_OR_REQUIRE(net::Cidr spoof, net::Cidr::Parse("192.168.250.99/24"));
    REQUIRE_OK(a.netlink->AddAddress("eth0", spoof));
    REQUIRE_OK(SendUdp(a.node->name(), "192.168.250.99", to_b,
                       HeartbeatFrom(NodePeerName(1), NodePeerName(2), 4242)));
    // A name nobody knows, from node 1's real address.
    REQUIRE_OK(SendUdp(a.node->name(), a.node->address(), to_b,
                       HeartbeatFrom(PeerName(0x0e0000000001ULL), NodePeerName(2), 4243)));
    // A data datagram from node 1's address (another port) with a virtio header pointing
    // beyond the frame.
    std::array<uint8_t, kVirtioHeaderSize> bad_virtio =
        EncodeVirtioHeader({.flags = kVirtioNeedsCsum, .csum_start = 100, .csum_offset = 6});
    std::string frame(60, '\xff');
    std::string payload(bad_virtio.begin(), bad_virtio.end());
    payload += frame;
    REQUIRE_OK(
        SendUdp(a.node->name(), a.node->address(), to_b,
                EncodeDatagram(Header{.sender = NodePeerName(1),
                                      .source = NodePeerName(1),
                                      .destination = kBroadcastPeer},
                               absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(payload.data()),
                                                   payload.size()))));
    // And a valid heartbeat from node 1's address but another port, which is accepted.
    REQUIRE_OK(SendUdp(a.node->name(), a.node->address(), to_b,
                       HeartbeatFrom(NodePeerName(1), NodePeerName(2), 4244)));

    REQUIRE_OK(WaitFor([&] { return b.heartbeats.Contains(NodePeerName(1), 4244); },
                       absl::Seconds(5), "the heartbeat from another port"));
    REQUIRE_OK(WaitFor(
        [&] {
          SleeveStats s = b.sleeve->Stats();
          return s.dropped_wrong_address == 1 && s.dropped_unknown_peer == 1 && s.dropped_bad == 2;
        },
        absl::Seconds(5), "node 2 to drop the spoofed, unknown and bad-virtio datagrams"));
    CHECK_FALSE(b.heartbeats.Contains(NodePeerName(1), 4242));
    CHECK_FALSE(b.heartbeats.Contains(PeerName(0x0e0000000001ULL), 4243));
    CHECK(b.sleeve->Stats().tap_write_errors == 0);

    CHECK(Ping(a, PodAddress(2)));
    CHECK(Ping(b, PodAddress(1)));
  }

  SECTION("a peer that does not forward gets no frames; ForgetPeer empties the table") {
    REQUIRE_OK(WaitFor([&] { return Ping(a, PodAddress(2)); }, absl::Seconds(10),
                       "pod 1 to ping pod 2 across the sleeve"));
    CHECK(a.sleeve->Stats().macs >= 1);
    a.sleeve->ForgetPeer(NodePeerName(2));
    a.sleeve->SetPeers({SleevePeer{
        .name = NodePeerName(2), .address = SockAddr(b.node->address(), kPort), .forward = false}});
    // Forgotten, and nothing more is learned from a peer that does not forward.
    CHECK(a.sleeve->Stats().macs == 0);
    const uint64_t tx_before = a.sleeve->Stats().tx_frames;
    CHECK_FALSE(Ping(a, PodAddress(2)));
    CHECK(a.sleeve->Stats().tx_frames == tx_before);
    CHECK(a.sleeve->Stats().dropped_no_peers > 0);
    // Heartbeats still go to a known peer.
    REQUIRE_OK(a.sleeve->SendHeartbeat(NodePeerName(2), 99));
    REQUIRE_OK(WaitFor([&] { return b.heartbeats.Contains(NodePeerName(1), 99); }, absl::Seconds(5),
                       "node 2 to receive the heartbeat"));
  }

  SECTION("Stop is idempotent and removes the TAP") {
    a.sleeve->Stop();
    a.sleeve->Stop();
    CHECK(a.sleeve->Stats().tap_thread_cpu >= absl::ZeroDuration());
    a.sleeve.reset();
    CHECK(a.netlink->GetLink("vethwe-sleeve").status().code() == absl::StatusCode::kNotFound);
  }
}

Header HeartbeatHeader(PeerName sender, PeerName destination, uint64_t counter) {
  return Header{.type = MessageType::kHeartbeat,
                .sender = sender,
                .source = sender,
                .destination = destination,
                .counter = kHeartbeatCounterBit | counter};
}

TEST_CASE("Sealed sleeve carries pod traffic and shows the underlay only ciphertext",
          "[netns][sleeve]") {
  std::unique_ptr<SleeveCluster> c = MakeSleeveCluster(2, /*keyed=*/true);
  SleeveNode& a = c->node(1);
  SleeveNode& b = c->node(2);
  REQUIRE_OK(WaitFor([&] { return Ping(a, PodAddress(2)); }, absl::Seconds(10),
                     "pod 1 to ping pod 2 across the sealed sleeve"));

  SECTION("ping and a TCP transfer") {
    const auto [sa, sb] = TransferSuperFrames(*c, 32 << 20);  // still GSO super-frames
    for (const SleeveStats* s : {&sa, &sb}) {
      CHECK(s->dropped_unauthenticated == 0);
      CHECK(s->dropped_replayed == 0);
      CHECK(s->dropped_bad == 0);
      CHECK(s->dropped_oversize == 0);
      CHECK(s->tap_write_errors == 0);
    }
  }

  SECTION("the underlay carries no plaintext") {
    // ping fills its payload with these 16 bytes, over and over.
    const std::string pattern = "SEALED-PLAINTEXT";
    std::string hex;
    for (char ch : pattern) hex += absl::StrFormat("%02x", ch);
    auto ping_pattern = [&] {
      absl::StatusOr<CommandResult> result = InPod(
          a, {"ping", "-c", "3", "-i", "0.2", "-W", "1", "-s", "512", "-p", hex, PodAddress(2)});
      return result.ok() && result->exit.success();
    };
    {
      UnderlayCapture capture(a, "sealed");
      REQUIRE(ping_pattern());
      // 3 requests and 3 replies at least.
      const std::vector<std::string> datagrams = capture.Stop(6);
      for (const std::string& datagram : datagrams) {
        REQUIRE(datagram.size() > kHeaderSize);
        CHECK((datagram[3] & kFlagSealed) != 0);
      }
      CHECK(capture.raw().find(pattern) == std::string::npos);
    }
    // The same on plain links shows the pattern: the check above can fail.
    for (int i = 1; i <= 2; ++i) c->node(i).sleeve->SetPeers(LinePeers(*c, i, /*keyed=*/false));
    {
      UnderlayCapture capture(a, "plain");
      REQUIRE(ping_pattern());
      capture.Stop(6);
      CHECK(capture.raw().find(pattern) != std::string::npos);
    }
  }

  SECTION("replayed, forged and unsealed datagrams are dropped; traffic keeps flowing") {
    const sockaddr_in to_b = SockAddr(b.node->address(), kPort);
    // Node 1's sealed heartbeat as the underlay saw it.
    std::string captured;
    {
      UnderlayCapture capture(a, "heartbeat");
      REQUIRE_OK(a.sleeve->SendHeartbeat(NodePeerName(2), 5151));
      REQUIRE_OK(WaitFor([&] { return b.heartbeats.Contains(NodePeerName(1), 5151); },
                         absl::Seconds(5), "node 2 to receive the sealed heartbeat"));
      for (const std::string& datagram : capture.Stop(1)) {
        if (datagram.size() == kSealedPrefixSize + kHeartbeatPayloadSize && datagram[2] == 2 &&
            datagram[11] == 1) {  // A heartbeat from node 1 (the last byte of its name).
          captured = datagram;
        }
      }
    }
    REQUIRE(captured.size() == kSealedPrefixSize + kHeartbeatPayloadSize);

    // Replayed from node 1's address (another port): authentic, but its counter is spent.
    REQUIRE_OK(SendUdp(a.node->name(), a.node->address(), to_b, captured));
    REQUIRE_OK(WaitFor([&] { return b.sleeve->Stats().dropped_replayed == 1; }, absl::Seconds(5),
                       "node 2 to drop the replayed heartbeat"));
    CHECK(b.heartbeats.Count(NodePeerName(1), 5151) == 1);

    // The captured heartbeat with another counter: a valid header whose tag no longer matches.
    std::string recounted = captured;
    recounted[31] ^= 0x40;
    REQUIRE_OK(SendUdp(a.node->name(), a.node->address(), to_b, recounted));
    // A valid header sealed with another link's key.
    const std::array<uint8_t, kHeartbeatPayloadSize> seq = EncodeHeartbeat(6161);
    REQUIRE_OK(SendUdp(
        a.node->name(), a.node->address(), to_b,
        EncodeSealedDatagram(LinkKey(1, 3),
                             HeartbeatHeader(NodePeerName(1), NodePeerName(2), 1'000'000), seq)));
    // Plain, from a peer with a key.
    REQUIRE_OK(SendUdp(a.node->name(), a.node->address(), to_b,
                       HeartbeatFrom(NodePeerName(1), NodePeerName(2), 6262)));
    REQUIRE_OK(WaitFor([&] { return b.sleeve->Stats().dropped_unauthenticated == 3; },
                       absl::Seconds(5), "node 2 to drop the three unauthenticated datagrams"));
    CHECK(b.heartbeats.Count(NodePeerName(1), 5151) == 1);
    CHECK_FALSE(b.heartbeats.Contains(NodePeerName(1), 6161));
    CHECK_FALSE(b.heartbeats.Contains(NodePeerName(1), 6262));

    CHECK(Ping(a, PodAddress(2)));
    CHECK(Ping(b, PodAddress(1)));
    REQUIRE_OK(a.sleeve->SendHeartbeat(NodePeerName(2), 7171));
    REQUIRE_OK(WaitFor([&] { return b.heartbeats.Contains(NodePeerName(1), 7171); },
                       absl::Seconds(5), "node 2 to receive a later heartbeat"));
  }
}

TEST_CASE("Sleeve relays between nodes that know each other only through a third",
          "[netns][sleeve]") {
  std::unique_ptr<SleeveCluster> c = MakeSleeveCluster(3, /*keyed=*/true);
  SleeveNode& a = c->node(1);
  SleeveNode& b = c->node(2);
  SleeveNode& n3 = c->node(3);
  CHECK(a.sleeve->SendHeartbeat(NodePeerName(3), 1).code() ==
        absl::StatusCode::kFailedPrecondition);
  REQUIRE_OK(WaitFor([&] { return Ping(a, PodAddress(3)); }, absl::Seconds(10),
                     "pod 1 to ping pod 3 through node 2"));
  CHECK(Ping(n3, PodAddress(1)));
  CHECK(Ping(a, PodAddress(2)));

  const SleeveStats b0 = b.sleeve->Stats();
  constexpr int64_t kBytes = 16 << 20;
  TransferAndCheck(*c, 1, 3, kBytes);
  const SleeveStats sa = a.sleeve->Stats();
  const SleeveStats b1 = b.sleeve->Stats();
  const SleeveStats s3 = n3.sleeve->Stats();
  INFO("1: " << Describe(sa) << "\n2: " << Describe(b1) << "\n3: " << Describe(s3));
  CHECK(b1.relayed_bytes - b0.relayed_bytes > kBytes);
  CHECK(b1.relayed_frames - b0.relayed_frames < kBytes / kMtu / 4);  // Whole GSO frames.
  // Node 2's TAP saw none of it.
  CHECK(b1.rx_bytes - b0.rx_bytes < kBytes / 100);
  CHECK(b1.dropped_relay == 0);
  CHECK(s3.rx_bytes > kBytes);
  for (const SleeveStats* s : {&sa, &b1, &s3}) {
    CHECK(s->dropped_unknown_peer == 0);  // Nodes 1 and 3 never sent to each other directly.
    CHECK(s->dropped_unauthenticated == 0);
    CHECK(s->dropped_replayed == 0);
    CHECK(s->dropped_bad == 0);
  }
}

TEST_CASE("Sleeve::Start rejects bad configurations", "[netns][sleeve]") {
  CHECK(Sleeve::Start(SleeveConfig{.self = PeerName(0)}, nullptr).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(Sleeve::Start(SleeveConfig{.self = PeerName(1), .batch = 0}, nullptr).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(Sleeve::Start(SleeveConfig{.self = PeerName(1), .bind_host = "nowhere"}, nullptr)
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
}

// By hand: pod-to-pod iperf3 over the sleeve, plain and sealed, against node-to-node iperf3 over
// the underlay, and the CPU the sleeve threads used.
void MeasureThroughput(bool keyed) {
  std::unique_ptr<SleeveCluster> c = MakeSleeveCluster(2, keyed);
  SleeveNode& a = c->node(1);
  SleeveNode& b = c->node(2);
  REQUIRE_OK(WaitFor([&] { return Ping(a, PodAddress(2)); }, absl::Seconds(10),
                     "pod 1 to ping pod 2 across the sleeve"));
  const char* seconds = "5";
  auto gbits = [](const nlohmann::json& report) {
    return report["end"]["sum_received"]["bits_per_second"].get<double>() / 1e9;
  };

  StartIperfServer(b, "iperf3-underlay", b.node->name());
  nlohmann::json underlay = RunIperfClient({"ip", "netns", "exec", a.node->name(), "iperf3", "-c",
                                            b.node->address(), "-t", seconds, "-J"});

  StartIperfServer(b, "iperf3-pod", b.pod_ns);
  const SleeveStats a0 = a.sleeve->Stats(), b0 = b.sleeve->Stats();
  nlohmann::json sleeve = RunIperfClient(
      {"ip", "netns", "exec", a.pod_ns, "iperf3", "-c", PodAddress(2), "-t", seconds, "-J"});
  const SleeveStats a1 = a.sleeve->Stats(), b1 = b.sleeve->Stats();
  std::cout << (keyed ? "== sealed ==\n" : "== plain ==\n");
  const double duration = sleeve["end"]["sum_received"]["seconds"].get<double>();
  auto share = [duration](absl::Duration before, absl::Duration after) {
    return 100 * absl::ToDoubleSeconds(after - before) / duration;
  };
  std::cout << absl::StrFormat(
                   "underlay TCP: %.2f Gbit/s\nsleeve TCP:   %.2f Gbit/s (%.1f%% of the "
                   "underlay), %d retransmits\n"
                   "CPU (%% of one core): sender tap thread %.0f%%, udp thread %.0f%%; receiver "
                   "tap thread %.0f%%, udp thread %.0f%%\n"
                   "sender: %d frames, %.1f KB/frame\n",
                   gbits(underlay), gbits(sleeve), 100 * gbits(sleeve) / gbits(underlay),
                   sleeve["end"]["sum_sent"]["retransmits"].get<int64_t>(),
                   share(a0.tap_thread_cpu, a1.tap_thread_cpu),
                   share(a0.udp_thread_cpu, a1.udp_thread_cpu),
                   share(b0.tap_thread_cpu, b1.tap_thread_cpu),
                   share(b0.udp_thread_cpu, b1.udp_thread_cpu), a1.tx_frames - a0.tx_frames,
                   (a1.tx_bytes - a0.tx_bytes) / 1024.0 /
                       std::max<uint64_t>(1, a1.tx_frames - a0.tx_frames))
            << "a: " << Describe(a1) << "\nb: " << Describe(b1) << std::endl;
  // Where packets were lost, if they were: the TAPs' queues, the receiver's socket, reassembly.
  for (SleeveNode* node : {&a, &b}) {
    for (const std::vector<std::string>& argv :
         {std::vector<std::string>{"ip", "-s", "link", "show", "vethwe-sleeve"},
          std::vector<std::string>{"sh", "-c", "grep -E '^(Ip|Udp):' /proc/net/snmp"}}) {
      absl::StatusOr<CommandResult> result = node->node->Exec(argv);
      if (result.ok()) std::cout << node->node->name() << ": " << result->stdout_data;
    }
  }
}

TEST_CASE("Sleeve throughput against the underlay", "[.sleeve_throughput]") {
  MeasureThroughput(/*keyed=*/false);
  MeasureThroughput(/*keyed=*/true);
}

}  // namespace
}  // namespace weave::overlay
