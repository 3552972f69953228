// Kernel tests of NflogReader. Each test makes its own network namespaces (nflog groups and
// nftables rules are per namespace; the host's are never touched) and deletes them on the way
// out, failed or not. Traffic stays on the loopback device of a test's namespace: an output rule
// logs and drops what goes to 127.0.0.2, as weave-npc's rules do. The test reads the packets it
// receives itself (Seen), apart from any parser of weave-npc's.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/net/ip.h"
#include "common/netlink/netns.h"
#include "common/netlink/nflog.h"
#include "test/harness/netns.h"
#include "test/harness/status_assertions.h"
#include "test/harness/subprocess.h"
#include "test/harness/test_run.h"
#include "test/harness/wait_for.h"

namespace weave::netlink::nflog {
namespace {

using weave::testing::CommandResult;
using weave::testing::RunCommand;

constexpr absl::Duration kCommandTimeout = absl::Seconds(20);
constexpr absl::Duration kDeliveryTimeout = absl::Seconds(10);

constexpr char kRules[] = R"(table inet nflog-test {
  chain output {
    type filter hook output priority 0; policy accept;
    ip daddr 127.0.0.2 tcp dport 80 log prefix "weave-npc ingress: " group 86 drop
    ip daddr 127.0.0.2 udp dport 53 log prefix "weave-npc egress: " group 86 drop
    ip daddr 127.0.0.2 udp dport 5353 log prefix "weave-npc egress: " group 87 drop
  }
}
)";

// A network namespace of this test run ("wvt<pid>-nflog-<suffix>", so that netns-sweep removes it
// if the test dies) with loopback up and kRules applied.
class Namespace {
 public:
  explicit Namespace(const std::string& suffix)
      : name_(absl::StrCat(weave::testing::RunPrefix(getpid()), "-nflog-", suffix)) {
    (void)weave::testing::DeleteNamespace(name_);
    REQUIRE_OK(weave::testing::AddNamespace(name_));
    created_ = true;
    Run({"ip", "link", "set", "lo", "up"});
    Run({"nft", "-f", "-"}, kRules);
  }
  ~Namespace() {
    if (created_) CHECK_OK(weave::testing::DeleteNamespace(name_));
  }

  const std::string& name() const { return name_; }
  std::string path() const { return "/run/netns/" + name_; }

  // Runs a command inside the namespace; fails the test unless it exits 0.
  void Run(const std::vector<std::string>& argv, const std::string& stdin_data = "") {
    absl::StatusOr<CommandResult> result =
        RunCommand(argv, kCommandTimeout, {.stdin_data = stdin_data, .netns = name_});
    REQUIRE_OK(result);
    REQUIRE_OK(result->ToStatus());
  }

  // Runs `fn` on a thread that has entered the namespace (the test's threads never do).
  absl::Status Inside(std::function<absl::Status()> fn) const {
    return RunInNetns(path(), std::move(fn));
  }

 private:
  std::string name_;
  bool created_ = false;
};

sockaddr_in Loopback(const char* address, uint16_t port) {
  sockaddr_in out{};
  out.sin_family = AF_INET;
  out.sin_port = htons(port);
  inet_pton(AF_INET, address, &out.sin_addr);
  return out;
}

// A socket of `type` bound to 127.0.0.1 on a port the kernel picks; returns the port.
absl::StatusOr<uint16_t> BindLoopback(int fd) {
  sockaddr_in local = Loopback("127.0.0.1", 0);
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
    return absl::ErrnoToStatus(errno, "binding to 127.0.0.1");
  }
  socklen_t length = sizeof(local);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) {
    return absl::ErrnoToStatus(errno, "getsockname");
  }
  return ntohs(local.sin_port);
}

// A TCP connection attempt from 127.0.0.1 to 127.0.0.2:`port`: one SYN, then the socket is closed
// (so that it is never retransmitted). Returns the source port. Call inside the namespace.
absl::StatusOr<uint16_t> ConnectTcp(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::ErrnoToStatus(errno, "socket");
  absl::StatusOr<uint16_t> source = BindLoopback(fd);
  if (source.ok()) {
    const sockaddr_in remote = Loopback("127.0.0.2", port);
    // The SYN goes out inside connect(); the drop shows as EINPROGRESS or EPERM.
    (void)connect(fd, reinterpret_cast<const sockaddr*>(&remote), sizeof(remote));
  }
  close(fd);
  return source;
}

// `count` UDP datagrams from one socket on 127.0.0.1 to 127.0.0.2:`port`. Returns the source
// port. Call inside the namespace.
absl::StatusOr<uint16_t> SendUdp(uint16_t port, int count = 1) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::ErrnoToStatus(errno, "socket");
  absl::StatusOr<uint16_t> source = BindLoopback(fd);
  const sockaddr_in remote = Loopback("127.0.0.2", port);
  for (int i = 0; source.ok() && i < count; ++i) {
    // Dropped on output: sendto fails with EPERM, which is the point.
    (void)sendto(fd, "x", 1, 0, reinterpret_cast<const sockaddr*>(&remote), sizeof(remote));
  }
  close(fd);
  return source;
}

// What the test reads of a packet: the IPv4 header's protocol and addresses, the ports behind it
// (TCP and UDP put them first), and the rule's prefix.
struct Seen {
  uint8_t protocol = 0;
  net::Ipv4 saddr;
  net::Ipv4 daddr;
  uint16_t sport = 0;
  uint16_t dport = 0;
  std::string prefix;

  friend bool operator==(const Seen&, const Seen&) = default;
};

uint16_t Be16(const std::vector<uint8_t>& bytes, size_t at) {
  return static_cast<uint16_t>(bytes[at] << 8 | bytes[at + 1]);
}

uint32_t Be32(const std::vector<uint8_t>& bytes, size_t at) {
  return uint32_t{Be16(bytes, at)} << 16 | Be16(bytes, at + 2);
}

Seen Read(const LoggedPacket& packet) {
  const std::vector<uint8_t>& bytes = packet.payload;
  REQUIRE(bytes.size() >= 20);
  REQUIRE(bytes[0] >> 4 == 4);
  const size_t header = size_t{bytes[0] & 0x0fu} * 4;
  REQUIRE(bytes.size() >= header + 4);
  return {bytes[9],
          net::Ipv4(Be32(bytes, 12)),
          net::Ipv4(Be32(bytes, 16)),
          Be16(bytes, header),
          Be16(bytes, header + 2),
          packet.prefix};
}

// What a reader's handler has received. The handler runs on the reader's thread; the packets are
// read on the test's.
class Received {
 public:
  NflogReader::Handler Handler() {
    return [this](const LoggedPacket& packet) {
      absl::MutexLock lock(&mu_);
      packets_.push_back(packet);
      return absl::OkStatus();
    };
  }
  std::vector<Seen> packets() const {
    absl::MutexLock lock(&mu_);
    std::vector<Seen> seen;
    for (const LoggedPacket& packet : packets_) seen.push_back(Read(packet));
    return seen;
  }
  // Waits until a packet to `dport` has arrived.
  absl::Status WaitForPort(uint16_t dport) const {
    return weave::testing::WaitFor(
        [&] {
          for (const Seen& packet : packets()) {
            if (packet.dport == dport) return true;
          }
          return false;
        },
        kDeliveryTimeout, absl::StrCat("a logged packet to port ", dport));
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<LoggedPacket> packets_ ABSL_GUARDED_BY(mu_);
};

Seen Expected(uint8_t protocol, uint16_t sport, uint16_t dport, std::string prefix) {
  return {protocol,
          *net::Ipv4::Parse("127.0.0.1"),
          *net::Ipv4::Parse("127.0.0.2"),
          sport,
          dport,
          std::move(prefix)};
}

TEST_CASE("the reader delivers logged TCP and UDP packets in order, with their prefixes",
          "[netns]") {
  Namespace ns("packets");
  ASSIGN_OR_REQUIRE(std::unique_ptr<NflogReader> reader, NflogReader::OpenInNamespace(ns.path()));
  Received received;
  REQUIRE_OK(reader->Start(received.Handler()));

  uint16_t tcp_port = 0;
  uint16_t udp_port = 0;
  uint16_t marker_port = 0;
  REQUIRE_OK(ns.Inside([&]() -> absl::Status {
    absl::StatusOr<uint16_t> tcp = ConnectTcp(80);
    absl::StatusOr<uint16_t> udp = SendUdp(53);
    // A last packet: once it is in, anything else the first two caused would be too.
    absl::StatusOr<uint16_t> marker = SendUdp(53);
    if (!tcp.ok()) return tcp.status();
    if (!udp.ok()) return udp.status();
    if (!marker.ok()) return marker.status();
    tcp_port = *tcp;
    udp_port = *udp;
    marker_port = *marker;
    return absl::OkStatus();
  }));
  REQUIRE_OK(weave::testing::WaitFor(
      [&] {
        const std::vector<Seen> packets = received.packets();
        return !packets.empty() && packets.back().sport == marker_port;
      },
      kDeliveryTimeout, "the marker packet"));

  CHECK(received.packets() == std::vector<Seen>{
                                  Expected(IPPROTO_TCP, tcp_port, 80, "weave-npc ingress: "),
                                  Expected(IPPROTO_UDP, udp_port, 53, "weave-npc egress: "),
                                  Expected(IPPROTO_UDP, marker_port, 53, "weave-npc egress: "),
                              });
  const NflogReader::Stats stats = reader->stats();
  CHECK(stats.packets == 3);
  CHECK(stats.malformed == 0);
  CHECK(stats.overruns == 0);
}

TEST_CASE("a packet the handler refuses counts as malformed, not as a packet", "[netns]") {
  Namespace ns("refused");
  ASSIGN_OR_REQUIRE(std::unique_ptr<NflogReader> reader, NflogReader::OpenInNamespace(ns.path()));
  REQUIRE_OK(reader->Start([](const LoggedPacket& packet) {
    return absl::InvalidArgumentError(absl::StrCat("refusing ", packet.payload.size(), " bytes"));
  }));
  REQUIRE_OK(ns.Inside([] { return SendUdp(53, 2).status(); }));
  REQUIRE_OK(weave::testing::WaitFor([&] { return reader->stats().malformed == 2; },
                                     kDeliveryTimeout, "both packets to be refused"));
  CHECK(reader->stats().packets == 0);
}

TEST_CASE("Stop returns promptly, and the reader can start again", "[netns]") {
  Namespace ns("stop");
  ASSIGN_OR_REQUIRE(std::unique_ptr<NflogReader> reader, NflogReader::OpenInNamespace(ns.path()));
  Received received;
  REQUIRE_OK(reader->Start(received.Handler()));
  CHECK(absl::IsFailedPrecondition(reader->Start(received.Handler())));
  // Let the thread settle into its wait.
  REQUIRE_OK(ns.Inside([] { return SendUdp(53).status(); }));
  REQUIRE_OK(received.WaitForPort(53));

  const absl::Time before = absl::Now();
  reader->Stop();
  CHECK(absl::Now() - before < absl::Seconds(1));
  reader->Stop();  // idempotent

  // Logged while stopped: waits in the socket and arrives after the restart.
  uint16_t port = 0;
  REQUIRE_OK(ns.Inside([&]() -> absl::Status {
    absl::StatusOr<uint16_t> sent = ConnectTcp(80);
    if (sent.ok()) port = *sent;
    return sent.status();
  }));
  REQUIRE_OK(reader->Start(received.Handler()));
  REQUIRE_OK(received.WaitForPort(80));
  CHECK(received.packets().back().sport == port);

  const absl::Time before_destruction = absl::Now();
  reader.reset();
  CHECK(absl::Now() - before_destruction < absl::Seconds(1));
}

TEST_CASE("a second reader of a group in a namespace fails, naming the group", "[netns]") {
  Namespace ns("busy");
  Namespace other("other");
  ASSIGN_OR_REQUIRE(std::unique_ptr<NflogReader> first, NflogReader::OpenInNamespace(ns.path()));

  const absl::StatusOr<std::unique_ptr<NflogReader>> second =
      NflogReader::OpenInNamespace(ns.path());
  REQUIRE_FALSE(second.ok());
  const std::string message(second.status().message());
  INFO(message);
  CHECK_THAT(message, Catch::Matchers::StartsWith("binding NFLOG group 86: "));
  CHECK_THAT(message, Catch::Matchers::Contains("another socket in this network namespace"));

  // Another group of the same namespace, and the same group of another namespace, are free.
  CHECK_OK(NflogReader::OpenInNamespace(ns.path(), {.group = 87}));
  CHECK_OK(NflogReader::OpenInNamespace(other.path()));

  // Closing the first reader unbinds the group.
  first.reset();
  ASSIGN_OR_REQUIRE(std::unique_ptr<NflogReader> again, NflogReader::OpenInNamespace(ns.path()));
  Received received;
  REQUIRE_OK(again->Start(received.Handler()));
  REQUIRE_OK(ns.Inside([] { return SendUdp(53).status(); }));
  CHECK_OK(received.WaitForPort(53));
}

TEST_CASE("a namespace that does not exist is an error naming it", "[netns]") {
  const absl::StatusOr<std::unique_ptr<NflogReader>> reader =
      NflogReader::OpenInNamespace("/run/netns/wvt-nflog-no-such-namespace");
  REQUIRE_FALSE(reader.ok());
  CHECK_THAT(std::string(reader.status().message()),
             Catch::Matchers::Contains("/run/netns/wvt-nflog-no-such-namespace"));
}

TEST_CASE("a socket overrun is counted and reading goes on", "[netns]") {
  Namespace ns("overrun");
  // The smallest buffer the kernel allows holds a handful of messages; nobody reads while a
  // thousand packets are logged.
  ASSIGN_OR_REQUIRE(std::unique_ptr<NflogReader> reader,
                    NflogReader::OpenInNamespace(ns.path(), {.receive_buffer_bytes = 1}));
  REQUIRE_OK(ns.Inside([] { return SendUdp(53, 1000).status(); }));
  Received received;
  REQUIRE_OK(reader->Start(received.Handler()));
  REQUIRE_OK(weave::testing::WaitFor([&] { return reader->stats().overruns > 0; }, kDeliveryTimeout,
                                     "the overrun to be counted"));

  uint16_t port = 0;
  REQUIRE_OK(ns.Inside([&]() -> absl::Status {
    absl::StatusOr<uint16_t> sent = ConnectTcp(80);
    if (sent.ok()) port = *sent;
    return sent.status();
  }));
  REQUIRE_OK(received.WaitForPort(80));
  CHECK(received.packets().back().sport == port);
  CHECK(reader->stats().packets < 1000);
}

}  // namespace
}  // namespace weave::netlink::nflog
