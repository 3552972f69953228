// The overlay's harder paths between real weavers in network-namespace nodes: WEAVE_MTU=auto on
// a jumbo-frame underlay, an underlay narrower than the pods' MTU, UDP multicast to pods on two
// other nodes, and NodePort-style DNAT from a client outside the pod range to a pod on another
// node (and, with NO_MASQ_LOCAL, to a local pod that sees the client's real address).
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "test/harness/file_util.h"
#include "test/pod_cluster.h"
#include "test/pod_probes.h"
#include "test/weaver_fixture.h"

namespace weave::testing {
namespace {

absl::StatusOr<CommandResult> InNetns(const std::string& netns,
                                      const std::vector<std::string>& argv,
                                      absl::Duration timeout = absl::Seconds(30),
                                      std::string stdin_data = "") {
  CommandOptions options;
  options.netns = NetnsName(netns);
  options.stdin_data = std::move(stdin_data);
  return RunCommand(argv, timeout, options);
}

// Every underlay link (the bridge, its ports, the nodes' eth0) gets `mtu`.
void SetUnderlayMtu(PodCluster& c, int mtu) {
  const std::string value = std::to_string(mtu);
  const std::string& underlay = c.netns().underlay();
  REQUIRE_OK(InNetns(underlay, {"ip", "link", "set", "br0", "mtu", value})->ToStatus());
  for (int i = 1; i <= c.size(); ++i) {
    REQUIRE_OK(InNetns(underlay, {"ip", "link", "set", absl::StrCat("n", i), "mtu", value})
                   ->ToStatus());
    REQUIRE_OK(c.node(i).Exec({"ip", "link", "set", "eth0", "mtu", value})->ToStatus());
  }
}

int PodMtu(const Pod& pod) {
  absl::StatusOr<CommandResult> mtu = InNetns(pod.netns, {"cat", "/sys/class/net/eth0/mtu"});
  int value = 0;
  if (!mtu.ok() || !absl::SimpleAtoi(absl::StripAsciiWhitespace(mtu->stdout_data), &value)) {
    return 0;
  }
  return value;
}

// One ping of exactly `mtu` bytes of IP with DF set: the output either shows the reply or the
// sender being told the path is narrower ("Frag needed" / "message too long").
std::string FullSizePing(const Pod& from, const std::string& to, int mtu) {
  absl::StatusOr<CommandResult> ping =
      InNetns(from.netns, {"ping", "-c", "3", "-W", "2", "-M", "do", "-s",
                           std::to_string(mtu - 28), to});
  return ping.ok() ? ping->stdout_data + ping->stderr_data : ping.status().ToString();
}

TEST_CASE("WEAVE_MTU=auto on a jumbo-frame underlay gives pods jumbo frames that cross",
          "[netns][overlay]") {
  PodCluster c(2, {{"WEAVE_MTU", "auto"}});
  SetUnderlayMtu(c, 9000);
  StartAndSettle(c, "fastdp");
  Pods pods(c);
  Pod& a = pods.Add(1, "a");
  Pod& b = pods.Add(2, "b");
  const int mtu = PodMtu(a);
  CHECK(mtu >= 8900);
  CHECK(PodMtu(b) == mtu);
  const std::string ping = FullSizePing(a, b.address, mtu);
  INFO(ping);
  CHECK(absl::StrContains(ping, " 0% packet loss"));
  CHECK(absl::StrContains(c.Cli(1, {"status", "connections"}), absl::StrCat("mtu=", mtu)));
}

TEST_CASE("an underlay narrower than the pods' MTU still carries full-size packets",
          "[netns][overlay]") {
  PodCluster c(2);
  SetUnderlayMtu(c, 1400);  // the pods keep 1376: VXLAN would need 1426
  // fastdp's full-size heartbeat cannot cross without fragmenting: the links use sleeve.
  StartAndSettle(c, "sleeve");
  const std::string log = ReadFileOrEmpty(c.router(1)->log_path());
  INFO(log);
  CHECK(absl::StrContains(log, "does not carry 1426-byte packets unfragmented"));
  Pods pods(c);
  Pod& a = pods.Add(1, "a");
  Pod& b = pods.Add(2, "b");
  REQUIRE(PodMtu(a) == 1376);
  const std::string ping = FullSizePing(a, b.address, 1376);
  INFO(ping);
  CHECK((absl::StrContains(ping, " 0% packet loss") || absl::StrContains(ping, "Frag needed") ||
         absl::StrContains(ping, "message too long")));

  std::unique_ptr<Process> iperf_server = StartIperfServer(c, b);
  absl::StatusOr<CommandResult> client =
      InNetns(a.netns, {"iperf3", "-c", b.address, "-t", "3"}, absl::Seconds(30));
  REQUIRE(client.ok());
  INFO(client->stdout_data << client->stderr_data);
  CHECK(client->exit.success());
  CHECK(absl::StrContains(client->stdout_data, "receiver"));
}

// Joins 239.1.2.3 on UDP 7100 and prints what arrives.
constexpr char kMulticastReceiver[] = R"(
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", 7100))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             struct.pack("4s4s", socket.inet_aton("239.1.2.3"), socket.inet_aton("0.0.0.0")))
print("joined", flush=True)
while True:
    data, sender = s.recvfrom(200)
    print(data.decode(), sender[0], flush=True)
)";

constexpr char kMulticastSender[] = R"(
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
for i in range(30):
    s.sendto(b"hello-multicast", ("239.1.2.3", 7100))
    time.sleep(0.1)
)";

void CheckMulticast(PodCluster& c, const std::string& overlay) {
  StartAndSettle(c, overlay);
  Pods pods(c);
  Pod& sender = pods.Add(1, "sender");
  std::vector<std::unique_ptr<Process>> receivers;
  std::vector<std::string> logs;
  for (int node : {2, 3}) {
    Pod& pod = pods.Add(node, absl::StrCat("receiver", node));
    ProcessOptions options;
    options.netns = NetnsName(pod.netns);
    options.log_path = absl::StrCat(c.node(node).dir(), "/multicast.log");
    ASSIGN_OR_REQUIRE(std::unique_ptr<Process> receiver,
                      Process::Start({"python3", "-c", kMulticastReceiver}, options));
    receivers.push_back(std::move(receiver));
    logs.push_back(options.log_path);
    // A line of its own: the log's header line quotes the script, "joined" included.
    REQUIRE_OK(WaitFor(
        [&] { return absl::StrContains(ReadFileOrEmpty(options.log_path), "\njoined\n"); },
        absl::Seconds(10), "the receiver to join the group"));
  }
  REQUIRE_OK(InNetns(sender.netns, {"python3", "-c", kMulticastSender})->ToStatus());
  for (const std::string& log : logs) {
    INFO(log << ":\n" << ReadFileOrEmpty(log));
    CHECK(absl::StrContains(ReadFileOrEmpty(log),
                            absl::StrCat("hello-multicast ", sender.address)));
  }
}

TEST_CASE("UDP multicast from a pod reaches pods on two other nodes over fastdp",
          "[netns][overlay]") {
  PodCluster c(3);
  CheckMulticast(c, "fastdp");
}

TEST_CASE("UDP multicast from a pod reaches pods on two other nodes over sleeve",
          "[netns][overlay]") {
  PodCluster c(3, {{"WEAVE_NO_FASTDP", "1"}});
  CheckMulticast(c, "sleeve");
}

// The client's answer from a pod's whoami port (7002) through `address`:`port`.
std::string AskAddress(const std::string& netns, const std::string& address, int port) {
  const std::string script = absl::StrCat(
      "import socket\ns = socket.create_connection(('", address, "', ", port,
      "), timeout=5)\nprint(s.recv(100).decode())\n");
  absl::StatusOr<CommandResult> result = InNetns(netns, {"python3", "-c", script});
  if (!result.ok() || !result->exit.success()) return "failed";
  return std::string(absl::StripAsciiWhitespace(result->stdout_data));
}

TEST_CASE("NodePort-style DNAT reaches a pod on another node and a local pod keeps the client's "
          "address",
          "[netns][overlay]") {
  PodCluster c(2);  // NO_MASQ_LOCAL is on by default
  StartAndSettle(c, "fastdp");
  Pods pods(c);
  Pod& local = pods.Add(1, "local");
  Pod& remote = pods.Add(2, "remote");

  // A client outside the pod range, on the underlay.
  ASSIGN_OR_REQUIRE(std::string client, c.netns().AddPodNamespace("client"));
  const std::string& underlay = c.netns().underlay();
  REQUIRE_OK(InNetns(underlay, {"ip", "link", "add", "cl0", "type", "veth", "peer", "name",
                                "eth0", "netns", NetnsName(client)})
                 ->ToStatus());
  REQUIRE_OK(InNetns(underlay, {"ip", "link", "set", "cl0", "master", "br0", "up"})->ToStatus());
  REQUIRE_OK(InNetns(client, {"ip", "addr", "add", "192.168.250.100/24", "dev", "eth0"})
                 ->ToStatus());
  REQUIRE_OK(InNetns(client, {"ip", "link", "set", "eth0", "up"})->ToStatus());

  // What kube-proxy does for a NodePort on node 1.
  const std::string rules = absl::StrCat(
      "table ip nodeport {\n"
      "  chain pre {\n"
      "    type nat hook prerouting priority dstnat;\n"
      "    tcp dport 30080 dnat to ", remote.address, ":7000\n",
      "    tcp dport 30082 dnat to ", remote.address, ":7002\n",
      "    tcp dport 31082 dnat to ", local.address, ":7002\n",
      "  }\n"
      "}\n");
  CommandOptions nft;
  nft.stdin_data = rules;
  REQUIRE_OK(c.node(1).Exec({"nft", "-f", "-"}, absl::Seconds(10), nft)->ToStatus());

  const std::string node1 = c.node(1).address();
  absl::Status connected = WaitFor(
      [&] { return AskAddress(client, node1, 30082) != "failed"; },
      absl::Seconds(15), "the NodePort to answer");
  REQUIRE_OK(connected);
  // To a pod on another node: masqueraded on node 1, so the reply comes back through it.
  CommandOptions echo;
  echo.netns = NetnsName(client);
  absl::StatusOr<CommandResult> tcp = RunCommand(
      {"python3", "-c",
       absl::StrCat("import socket\ns = socket.create_connection(('", node1,
                    "', 30080), timeout=5)\ns.sendall(b'nodeport')\nprint(s.recv(100).decode())\n")},
      absl::Seconds(15), echo);
  REQUIRE(tcp.ok());
  CHECK(absl::StrContains(tcp->stdout_data, "nodeport"));
  // To the local pod: the client's own address survives (externalTrafficPolicy: Local).
  CHECK(AskAddress(client, node1, 31082) == "192.168.250.100");
}

}  // namespace
}  // namespace weave::testing
