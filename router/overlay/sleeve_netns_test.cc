// The sleeve between two nodes made of network namespaces (NetnsCluster: an underlay bridge,
// node i at 192.168.250.(10+i)). In each node: a bridge `weave` (MTU 1376), a pod namespace on it
// through a veth (pod i at 10.40.0.i/24), and a Sleeve started inside the node's namespace with
// its TAP on `weave`. Pods talk across nodes only through the sleeves.
//
// The throughput comparison (sleeve vs. the underlay) is a hidden test, run by hand:
//   build/router/overlay/sleeve_netns_test "[.sleeve_throughput]" -s
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
  bool Contains(PeerName from, uint64_t seq) const {
    std::lock_guard lock(mu_);
    for (const auto& [f, s] : seen_) {
      if (f == from && s == seq) return true;
    }
    return false;
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

// Two sleeve nodes that forward to each other. Members are destroyed in reverse order: the
// sleeves stop before the cluster deletes the namespaces.
struct SleeveCluster {
  std::unique_ptr<NetnsCluster> cluster;
  SleeveNode nodes[2];

  SleeveNode& node(int index) { return nodes[index - 1]; }
};

std::unique_ptr<SleeveCluster> MakeSleeveCluster() {
  auto result = std::make_unique<SleeveCluster>();
  ASSIGN_OR_REQUIRE(result->cluster, NetnsCluster::Create(2));
  for (int i = 1; i <= 2; ++i) REQUIRE_OK(BuildNode(*result->cluster, i, result->node(i)));
  for (int i = 1; i <= 2; ++i) {
    const int other = 3 - i;
    result->node(i).sleeve->SetPeers(
        {SleevePeer{.name = NodePeerName(other),
                    .address = SockAddr(result->cluster->node(other).address(), kPort),
                    .forward = true}});
  }
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
      "tap_frames=%d tx=%d/%dB rx=%d/%dB hb=%d/%d bad=%d unknown=%d wrong_addr=%d not_for_us=%d "
      "oversize=%d no_peers=%d control=%d send_err=%d tap_write_err=%d read_err=%d macs=%d",
      s.tap_frames, s.tx_frames, s.tx_bytes, s.rx_frames, s.rx_bytes, s.heartbeats_sent,
      s.heartbeats_received, s.dropped_bad, s.dropped_unknown_peer, s.dropped_wrong_address,
      s.dropped_not_for_us, s.dropped_oversize, s.dropped_no_peers, s.dropped_control,
      s.send_errors, s.tap_write_errors, s.read_errors, s.macs);
}

TEST_CASE("Sleeve carries pod traffic between two nodes", "[netns][sleeve]") {
  std::unique_ptr<SleeveCluster> c = MakeSleeveCluster();
  SleeveNode& a = c->node(1);
  SleeveNode& b = c->node(2);
  CHECK((a.sleeve->tap_offloads() & 0x07) == 0x07);  // CSUM, TSO4, TSO6 at least.

  SECTION("ping and a TCP transfer") {
    REQUIRE_OK(WaitFor([&] { return Ping(a, PodAddress(2)); }, absl::Seconds(10),
                       "pod 1 to ping pod 2 across the sleeve"));
    CHECK(a.sleeve->Stats().macs >= 1);  // Pod 2's MAC, learned from its replies.

    // 32 MB of random bytes through ncat; the receiver's checksum must match.
    constexpr int64_t kBytes = 32 << 20;
    const std::string file = c->cluster->work_dir() + "/payload";
    REQUIRE_OK(testing::RunChecked(
        {"sh", "-c", absl::StrCat("head -c ", kBytes, " /dev/urandom > ", file)},
        absl::Seconds(30)));
    ASSIGN_OR_REQUIRE(CommandResult sum, RunCommand({"sha256sum", file}, absl::Seconds(30)));
    const std::string expected = sum.stdout_data.substr(0, 64);
    ASSIGN_OR_REQUIRE(testing::Process * receiver,
                      b.node->Start("ncat-recv", {"ip", "netns", "exec", b.pod_ns, "sh", "-c",
                                                  "ncat -l -p 5001 --recv-only | sha256sum"}));
    WaitListening(*b.node, b.pod_ns, 5001);
    REQUIRE_OK(
        testing::RunChecked({"ip", "netns", "exec", a.pod_ns, "sh", "-c",
                             absl::StrCat("ncat --send-only ", PodAddress(2), " 5001 < ", file)},
                            absl::Seconds(60)));
    ASSIGN_OR_REQUIRE(testing::ExitStatus exit, receiver->Wait(absl::Seconds(30)));
    CHECK(exit.success());
    std::ifstream log(receiver->log_path());
    std::string received((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    CHECK_THAT(received, Catch::Contains(expected));

    const SleeveStats sa = a.sleeve->Stats();
    const SleeveStats sb = b.sleeve->Stats();
    INFO("a: " << Describe(sa) << "\nb: " << Describe(sb));
    CHECK(sa.tx_bytes > kBytes);
    CHECK(sb.rx_bytes > kBytes);
    // TSO from the TAP: far fewer frames than 1376-byte packets.
    CHECK(sa.tx_frames < kBytes / kMtu / 4);
    CHECK(sa.dropped_oversize == 0);
    CHECK(sb.tap_write_errors == 0);
    CHECK(sb.dropped_bad == 0);
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

TEST_CASE("Sleeve::Start rejects bad configurations", "[netns][sleeve]") {
  CHECK(Sleeve::Start(SleeveConfig{.self = PeerName(0)}, nullptr).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(Sleeve::Start(SleeveConfig{.self = PeerName(1), .batch = 0}, nullptr).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(Sleeve::Start(SleeveConfig{.self = PeerName(1), .bind_host = "nowhere"}, nullptr)
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
}

// By hand: pod-to-pod iperf3 over the sleeve against node-to-node iperf3 over the underlay, and
// the CPU the sleeve threads used.
TEST_CASE("Sleeve throughput against the underlay", "[.sleeve_throughput]") {
  std::unique_ptr<SleeveCluster> c = MakeSleeveCluster();
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

}  // namespace
}  // namespace weave::overlay
