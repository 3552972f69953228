// Kernel tests of Conntrack. Each test makes its own network namespace (conntrack entries are per
// namespace; the host's are never listed or touched), talks over its loopback between 127.0.0.2
// (client) and 127.0.0.1 (server) with sockets opened by threads inside it, and deletes it on the
// way out. /proc/net/nf_conntrack, read inside the namespace, is the independent witness.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/netlink/conntrack.h"
#include "common/netlink/netns.h"
#include "common/status_macros.h"
#include "test/harness/deadline.h"
#include "test/harness/netns.h"
#include "test/harness/status_assertions.h"
#include "test/harness/subprocess.h"
#include "test/harness/test_run.h"
#include "test/harness/wait_for.h"

namespace weave::netlink::conntrack {
namespace {

using weave::testing::WaitFor;

constexpr absl::Duration kTimeout = absl::Seconds(10);
constexpr uint16_t kTcpPort = 8080;
constexpr uint16_t kUdpPort = 5353;
const net::Ipv4 kServer(0x7f000001);  // 127.0.0.1
const net::Ipv4 kClient(0x7f000002);  // 127.0.0.2

// Output packets of the namespace meet `ct state established,related accept` first and then the
// chain `verdicts`, which starts empty: conntrack runs (nft's ct expression turns it on for the
// namespace) and nothing is dropped until a test adds a "new policy" there.
constexpr char kRuleset[] = R"(table inet weave-ct-test {
  chain verdicts {
  }
  chain output {
    type filter hook output priority filter; policy accept;
    ct state established,related accept
    jump verdicts
  }
}
)";

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_ = -1;
};

absl::Status Errno(absl::string_view what) { return absl::ErrnoToStatus(errno, what); }

sockaddr_in Address(net::Ipv4 ip, uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(ip.value());
  address.sin_port = htons(port);
  return address;
}

const sockaddr* Sockaddr(const sockaddr_in& address) {
  return reinterpret_cast<const sockaddr*>(&address);
}

// A socket of `type` bound to ip:port (0: any port), with timeouts so that a blocking call of a
// broken test fails instead of hanging.
absl::StatusOr<Fd> BoundSocket(int type, int protocol, net::Ipv4 ip, uint16_t port) {
  Fd fd(socket(AF_INET, type | SOCK_CLOEXEC, protocol));
  if (fd.get() < 0) return Errno("socket");
  const timeval timeout = {.tv_sec = absl::ToInt64Seconds(kTimeout), .tv_usec = 0};
  const int on = 1;
  if (setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) < 0 ||
      setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout)) < 0 ||
      setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0) {
    return Errno("setsockopt");
  }
  const sockaddr_in address = Address(ip, port);
  if (bind(fd.get(), Sockaddr(address), sizeof(address)) < 0) {
    return Errno(absl::StrCat("bind ", ip.ToString(), ":", port));
  }
  return fd;
}

absl::StatusOr<uint16_t> LocalPort(const Fd& fd) {
  sockaddr_in address{};
  socklen_t length = sizeof(address);
  if (getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) < 0) {
    return Errno("getsockname");
  }
  return ntohs(address.sin_port);
}

void Send(const Fd& fd, absl::string_view data) {
  REQUIRE(send(fd.get(), data.data(), data.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(data.size()));
}

// What arrives on `fd` within `timeout`, up to `want` bytes.
std::string ReceiveWithin(const Fd& fd, size_t want, absl::Duration timeout) {
  const weave::testing::Deadline deadline(timeout);
  std::string received;
  while (received.size() < want) {
    pollfd readable = {fd.get(), POLLIN, 0};
    const int ready = poll(&readable, 1, deadline.PollTimeoutMs());
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;
    char buffer[256];
    const ssize_t n =
        recv(fd.get(), buffer, std::min(sizeof(buffer), want - received.size()), MSG_DONTWAIT);
    if (n <= 0) break;
    received.append(buffer, static_cast<size_t>(n));
  }
  return received;
}

// A network namespace of this test run ("wvt<pid>-ct-<suffix>", so that netns-sweep removes it
// if the test dies) with lo up, kRuleset loaded and a Conntrack inside.
class Namespace {
 public:
  explicit Namespace(const std::string& suffix)
      : name_(absl::StrCat(weave::testing::RunPrefix(getpid()), "-ct-", suffix)) {
    (void)weave::testing::DeleteNamespace(name_);
    REQUIRE_OK(weave::testing::AddNamespace(name_));
    try {
      Run({"ip", "link", "set", "lo", "up"});
      Run({"nft", "-f", "-"}, kRuleset);
      ASSIGN_OR_REQUIRE(conntrack_, Conntrack::OpenInNamespace(path()));
    } catch (...) {
      (void)weave::testing::DeleteNamespace(name_);
      throw;
    }
  }
  ~Namespace() {
    conntrack_.reset();
    CHECK_OK(weave::testing::DeleteNamespace(name_));
  }

  std::string path() const { return "/run/netns/" + name_; }
  Conntrack& conntrack() { return *conntrack_; }

  // Runs a command inside the namespace; fails the test unless it exits 0.
  std::string Run(const std::vector<std::string>& argv, const std::string& stdin_data = "") {
    absl::StatusOr<weave::testing::CommandResult> result =
        weave::testing::RunCommand(argv, kTimeout, {.stdin_data = stdin_data, .netns = name_});
    REQUIRE_OK(result);
    REQUIRE_OK(result->ToStatus());
    return result->stdout_data;
  }

  // Runs `fn` on a thread inside the namespace: the sockets it opens belong to the namespace and
  // can be used from any thread afterwards.
  void Inside(const std::function<absl::Status()>& fn) { REQUIRE_OK(RunInNetns(path(), fn)); }

  std::vector<Flow> List() {
    ASSIGN_OR_REQUIRE(std::vector<Flow> flows, conntrack_->List());
    return flows;
  }
  bool Lists(const Flow& flow) {
    const std::vector<Flow> flows = List();
    return std::find(flows.begin(), flows.end(), flow) != flows.end();
  }

  // The kernel's own listing of the namespace's entries.
  std::string ProcListing() { return Run({"cat", "/proc/net/nf_conntrack"}); }

 private:
  std::string name_;
  std::unique_ptr<Conntrack> conntrack_;
};

// How /proc/net/nf_conntrack shows a flow's original direction.
std::string ProcTuple(const Flow& flow) {
  return absl::StrCat("src=", flow.saddr.ToString(), " dst=", flow.daddr.ToString(),
                      " sport=", flow.sport, " dport=", flow.dport, " ");
}

// An established TCP connection client -> server:kTcpPort, and its flow.
struct TcpConnection {
  Fd listener;
  Fd client;
  Fd server;
  Flow flow;
};

TcpConnection Connect(Namespace& ns) {
  TcpConnection c;
  ns.Inside([&]() -> absl::Status {
    ASSIGN_OR_RETURN(c.listener, BoundSocket(SOCK_STREAM, 0, kServer, kTcpPort));
    if (listen(c.listener.get(), 1) < 0) return Errno("listen");
    ASSIGN_OR_RETURN(c.client, BoundSocket(SOCK_STREAM, 0, kClient, 0));
    const sockaddr_in server = Address(kServer, kTcpPort);
    if (connect(c.client.get(), Sockaddr(server), sizeof(server)) < 0) return Errno("connect");
    c.server = Fd(accept4(c.listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (c.server.get() < 0) return Errno("accept");
    ASSIGN_OR_RETURN(const uint16_t port, LocalPort(c.client));
    c.flow = Flow{
        .saddr = kClient, .daddr = kServer, .protocol = kTcp, .sport = port, .dport = kTcpPort};
    return absl::OkStatus();
  });
  return c;
}

// A UDP client connected to a server on `port`, which has received one datagram from it.
struct UdpExchange {
  Fd client;
  Fd server;
  Flow flow;
};

UdpExchange SendUdp(Namespace& ns, uint16_t port) {
  UdpExchange u;
  ns.Inside([&]() -> absl::Status {
    ASSIGN_OR_RETURN(u.server, BoundSocket(SOCK_DGRAM, 0, kServer, port));
    ASSIGN_OR_RETURN(u.client, BoundSocket(SOCK_DGRAM, 0, kClient, 0));
    const sockaddr_in server = Address(kServer, port);
    if (connect(u.client.get(), Sockaddr(server), sizeof(server)) < 0) return Errno("connect");
    ASSIGN_OR_RETURN(const uint16_t client_port, LocalPort(u.client));
    u.flow = Flow{
        .saddr = kClient, .daddr = kServer, .protocol = kUdp, .sport = client_port, .dport = port};
    return absl::OkStatus();
  });
  Send(u.client, "datagram");
  REQUIRE(ReceiveWithin(u.server, 8, kTimeout) == "datagram");
  return u;
}

bool Sorted(std::vector<Flow> flows, std::vector<Flow> expected) {
  const auto less = [](const Flow& a, const Flow& b) { return a.ToString() < b.ToString(); };
  std::sort(flows.begin(), flows.end(), less);
  std::sort(expected.begin(), expected.end(), less);
  return flows == expected;
}

TEST_CASE("List shows the namespace's flows and DeleteIf deletes exactly the doomed one",
          "[netns]") {
  Namespace ns("list");
  const TcpConnection tcp = Connect(ns);
  const UdpExchange udp = SendUdp(ns, kUdpPort);
  CAPTURE(tcp.flow.ToString(), udp.flow.ToString());

  REQUIRE_OK(WaitFor(
      [&] {
        return Sorted(ns.List(), {tcp.flow, udp.flow});
      },
      kTimeout, "List to show exactly the TCP and the UDP flow"));
  std::string proc = ns.ProcListing();
  CHECK_THAT(proc, Catch::Matchers::Contains(ProcTuple(tcp.flow)));
  CHECK_THAT(proc, Catch::Matchers::Contains(ProcTuple(udp.flow)));

  ASSIGN_OR_REQUIRE(const int deleted,
                    ns.conntrack().DeleteIf([&](const Flow& flow) { return flow == tcp.flow; }));
  CHECK(deleted == 1);
  CHECK(Sorted(ns.List(), {udp.flow}));
  proc = ns.ProcListing();
  CHECK_THAT(proc, !Catch::Matchers::Contains(ProcTuple(tcp.flow)));
  CHECK_THAT(proc, Catch::Matchers::Contains(ProcTuple(udp.flow)));

  // Deleting what is gone is nothing to do.
  ASSIGN_OR_REQUIRE(const int again,
                    ns.conntrack().DeleteIf([&](const Flow& flow) { return flow == tcp.flow; }));
  CHECK(again == 0);
}

// The packets counted by the rule `<match> counter drop` of chain verdicts.
int64_t DropCount(Namespace& ns, absl::string_view match) {
  const std::string listing = ns.Run({"nft", "list", "chain", "inet", "weave-ct-test", "verdicts"});
  const std::string prefix = absl::StrCat(match, " counter packets ");
  const size_t at = listing.find(prefix);
  REQUIRE(at != std::string::npos);
  const size_t start = at + prefix.size();
  int64_t packets = -1;
  REQUIRE(absl::SimpleAtoi(listing.substr(start, listing.find(' ', start) - start), &packets));
  return packets;
}

TEST_CASE("A flow a new policy denies passes until its entry is deleted, then is dropped",
          "[netns]") {
  Namespace ns("deny");
  const TcpConnection tcp = Connect(ns);
  Send(tcp.client, "hello");
  REQUIRE(ReceiveWithin(tcp.server, 5, kTimeout) == "hello");

  // The new policy: new TCP to the server's port is dropped (and anything of the server's port
  // that is not established, so that the server's side cannot start a fresh entry either).
  ns.Run({"nft", "-f", "-"},
         "add rule inet weave-ct-test verdicts tcp dport 8080 counter drop\n"
         "add rule inet weave-ct-test verdicts tcp sport 8080 counter drop\n");

  // Established: the old connection still passes, and the drop rule never sees it.
  Send(tcp.client, "before");
  CHECK(ReceiveWithin(tcp.server, 6, kTimeout) == "before");
  CHECK(DropCount(ns, "tcp dport 8080") == 0);
  REQUIRE(ns.Lists(tcp.flow));

  ASSIGN_OR_REQUIRE(const int deleted, ns.conntrack().DeleteIf([](const Flow& flow) {
    return flow.protocol == kTcp && flow.dport == kTcpPort;
  }));
  CHECK(deleted == 1);

  // The next packet of the flow is not established any more: the policy drops it.
  Send(tcp.client, "after");
  REQUIRE_OK(WaitFor([&] { return DropCount(ns, "tcp dport 8080") > 0; }, kTimeout,
                     "the policy to drop the connection's next packet"));
  CHECK(ReceiveWithin(tcp.server, 5, absl::ZeroDuration()).empty());
  CHECK_FALSE(ns.Lists(tcp.flow));

  // Without the policy, TCP's retransmission delivers the data: the connection itself was fine.
  ns.Run({"nft", "flush", "chain", "inet", "weave-ct-test", "verdicts"});
  CHECK(ReceiveWithin(tcp.server, 5, kTimeout) == "after");
}

// An ICMP echo request from kClient to kServer with identifier `id`.
void Ping(Namespace& ns, uint16_t id) {
  ns.Inside([&]() -> absl::Status {
    ASSIGN_OR_RETURN(const Fd icmp, BoundSocket(SOCK_RAW, IPPROTO_ICMP, kClient, 0));
    icmphdr echo{};
    echo.type = ICMP_ECHO;
    echo.un.echo.id = htons(id);
    echo.un.echo.sequence = htons(1);
    uint32_t sum = 0;
    uint16_t words[sizeof(echo) / 2];
    std::memcpy(words, &echo, sizeof(echo));
    for (uint16_t word : words) sum += word;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    echo.checksum = static_cast<uint16_t>(~sum);
    const sockaddr_in server = Address(kServer, 0);
    if (sendto(icmp.get(), &echo, sizeof(echo), 0, Sockaddr(server), sizeof(server)) < 0) {
      return Errno("sendto");
    }
    return absl::OkStatus();
  });
}

TEST_CASE("ICMP entries and entries in a zone are listed and deleted as the kernel keeps them",
          "[netns]") {
  Namespace ns("zone");
  // Conntrack zones are chosen before conntrack sees a packet (priority raw).
  ns.Run({"nft", "-f", "-"}, R"(table inet weave-ct-test {
  chain zone {
    type filter hook output priority raw; policy accept;
    udp dport 6000 ct zone set 5
  }
}
)");
  Ping(ns, 0x1234);
  const UdpExchange zoned = SendUdp(ns, 6000);
  const UdpExchange plain = SendUdp(ns, kUdpPort);
  Flow ping{.saddr = kClient,
            .daddr = kServer,
            .protocol = kIcmp,
            .icmp = {.id = 0x1234, .type = ICMP_ECHO, .code = 0}};
  Flow in_zone = zoned.flow;
  in_zone.zone = 5;

  REQUIRE_OK(WaitFor(
      [&] {
        return Sorted(ns.List(), {ping, in_zone, plain.flow});
      },
      kTimeout, "List to show the ping, the zoned and the plain UDP flow"));
  const std::string proc = ns.ProcListing();
  CHECK_THAT(proc, Catch::Matchers::Contains("id=4660"));
  CHECK_THAT(proc, Catch::Matchers::Contains("zone=5"));

  ASSIGN_OR_REQUIRE(const int deleted, ns.conntrack().DeleteIf([&](const Flow& flow) {
    return flow == ping || flow == in_zone;
  }));
  CHECK(deleted == 2);
  CHECK(Sorted(ns.List(), {plain.flow}));
}

TEST_CASE("Thousands of entries come in a multi-part dump and are all deleted", "[netns]") {
  Namespace ns("many");
  constexpr int kFlows = 3000;
  constexpr uint16_t kFirstPort = 20000;
  // One datagram to each of kFlows ports nobody listens on: an unreplied entry each.
  ns.Inside([&]() -> absl::Status {
    ASSIGN_OR_RETURN(const Fd udp, BoundSocket(SOCK_DGRAM, 0, kClient, 0));
    for (int i = 0; i < kFlows; ++i) {
      const sockaddr_in server = Address(kServer, static_cast<uint16_t>(kFirstPort + i));
      if (sendto(udp.get(), "x", 1, 0, Sockaddr(server), sizeof(server)) < 0) {
        return Errno("sendto");
      }
    }
    return absl::OkStatus();
  });
  const auto ours = [&](const Flow& flow) {
    return flow.protocol == kUdp && flow.saddr == kClient && flow.daddr == kServer &&
           flow.dport >= kFirstPort && flow.dport < kFirstPort + kFlows;
  };
  const auto distinct_ports = [&] {
    std::set<uint16_t> ports;
    for (const Flow& flow : ns.List()) {
      if (ours(flow)) ports.insert(flow.dport);
    }
    return ports.size();
  };
  REQUIRE_OK(WaitFor([&] { return distinct_ports() == kFlows; }, kTimeout,
                     "List to show all the UDP flows"));

  ASSIGN_OR_REQUIRE(const int deleted, ns.conntrack().DeleteIf(ours));
  CHECK(deleted == kFlows);
  CHECK(distinct_ports() == 0);
}

TEST_CASE("Open works in the caller's namespace", "[netns]") {
  // A thread that enters the test's namespace first, so the host's table is never read.
  Namespace ns("open");
  const UdpExchange udp = SendUdp(ns, kUdpPort);
  ns.Inside([&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::unique_ptr<Conntrack> conntrack, Conntrack::Open());
    ASSIGN_OR_RETURN(std::vector<Flow> flows, conntrack->List());
    if (flows != std::vector<Flow>{udp.flow}) {
      return absl::InternalError(absl::StrCat("listed ", flows.size(), " flows"));
    }
    return absl::OkStatus();
  });
}

}  // namespace
}  // namespace weave::netlink::conntrack
