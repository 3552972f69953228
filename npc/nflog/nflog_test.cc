// Unit tests of the blocked-connection log: packet parsing (and that no input crashes it), the
// log line, the rate limit, the counters, and the log of packets as NFLOG hands them over.
#include "npc/nflog/nflog.h"

#include <catch2/catch.hpp>
#include <random>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/metrics/exposition.h"

namespace weave::npc::nflog {
namespace {

using Bytes = std::vector<uint8_t>;

net::Ipv4 Ip(const char* text) { return *net::Ipv4::Parse(text); }

void PutBe16(Bytes& bytes, size_t offset, uint16_t value) {
  bytes[offset] = value >> 8;
  bytes[offset + 1] = value & 0xff;
}

struct PacketSpec {
  uint8_t protocol = 6;
  const char* saddr = "10.32.0.7";
  const char* daddr = "10.32.0.11";
  Bytes transport;          // what follows the IP header
  size_t option_bytes = 0;  // IP options, a multiple of 4
  uint16_t fragment = 0;    // the flags-and-offset field
};

// An IPv4 packet as it is on the wire (checksum left 0: nothing here reads it).
Bytes Packet(const PacketSpec& spec) {
  const size_t header = 20 + spec.option_bytes;
  Bytes out(header, 0);
  out[0] = 0x40 | static_cast<uint8_t>(header / 4);
  PutBe16(out, 2, static_cast<uint16_t>(header + spec.transport.size()));
  PutBe16(out, 6, spec.fragment);
  out[8] = 64;
  out[9] = spec.protocol;
  const uint32_t saddr = Ip(spec.saddr).value();
  const uint32_t daddr = Ip(spec.daddr).value();
  for (int i = 0; i < 4; ++i) {
    out[12 + i] = saddr >> (24 - 8 * i);
    out[16 + i] = daddr >> (24 - 8 * i);
  }
  for (size_t i = 20; i < header; ++i) out[i] = 1;  // NOP options
  out.insert(out.end(), spec.transport.begin(), spec.transport.end());
  return out;
}

// The first bytes of a TCP/UDP/SCTP header with these ports, then `rest` more bytes.
Bytes Ports(uint16_t sport, uint16_t dport, size_t rest = 16) {
  Bytes out(4 + rest, 0);
  PutBe16(out, 0, sport);
  PutBe16(out, 2, dport);
  return out;
}

BlockedPacket Blocked(Protocol protocol, uint16_t sport, uint16_t dport,
                      std::string prefix = "weave-npc ingress: ") {
  return BlockedPacket{protocol, Ip("10.32.0.7"), Ip("10.32.0.11"), true,
                       sport,    dport,           std::move(prefix)};
}

// A parse error is one non-empty line.
void CheckOneLineError(const absl::Status& status) {
  REQUIRE(absl::IsInvalidArgument(status));
  CHECK_FALSE(status.message().empty());
  CHECK_FALSE(absl::StrContains(status.message(), "\n"));
}

// ---------------------------------------------------------------------------------------------
// ParseIpv4Packet

TEST_CASE("ParseIpv4Packet reads addresses and ports of TCP, UDP and SCTP") {
  const auto [number, protocol] = GENERATE(table<uint8_t, Protocol>(
      {{6, Protocol::kTcp}, {17, Protocol::kUdp}, {132, Protocol::kSctp}}));
  const Bytes packet = Packet({.protocol = number, .transport = Ports(56648, 80)});
  const absl::StatusOr<BlockedPacket> parsed = ParseIpv4Packet(packet, "weave-npc ingress: ");
  REQUIRE(parsed.ok());
  CHECK(*parsed == Blocked(protocol, 56648, 80));
}

TEST_CASE("ParseIpv4Packet skips IP options to find the ports") {
  const size_t option_bytes = GENERATE(4, 12, 40);
  const Bytes packet = Packet({.transport = Ports(1234, 443), .option_bytes = option_bytes});
  const absl::StatusOr<BlockedPacket> parsed = ParseIpv4Packet(packet, "");
  REQUIRE(parsed.ok());
  CHECK(parsed->sport == 1234);
  CHECK(parsed->dport == 443);
}

TEST_CASE("ICMP and other protocols have no ports") {
  const uint8_t number = GENERATE(1, 47, 50, 255, 0);
  const Bytes packet = Packet({.protocol = number, .transport = Bytes{8, 0, 0, 0, 0, 1, 0, 1}});
  const absl::StatusOr<BlockedPacket> parsed = ParseIpv4Packet(packet, "p");
  REQUIRE(parsed.ok());
  CHECK(static_cast<int>(parsed->protocol) == number);
  CHECK_FALSE(parsed->has_ports);
  CHECK(parsed->sport == 0);
  CHECK(parsed->dport == 0);
  CHECK(parsed->saddr == Ip("10.32.0.7"));
  CHECK(parsed->daddr == Ip("10.32.0.11"));
  CHECK(parsed->prefix == "p");
}

TEST_CASE("a fragment other than the first has no ports, the first has them") {
  // Offset 185 (1480 bytes): its first bytes are payload, not ports.
  const Bytes later = Packet({.transport = Ports(1, 2), .fragment = 185});
  const absl::StatusOr<BlockedPacket> parsed_later = ParseIpv4Packet(later, "");
  REQUIRE(parsed_later.ok());
  CHECK_FALSE(parsed_later->has_ports);
  // A non-first fragment too short to hold ports is still fine.
  CHECK(ParseIpv4Packet(Packet({.transport = {}, .fragment = 0x2000 | 3}), "").ok());

  const Bytes first = Packet({.transport = Ports(1, 2), .fragment = 0x2000});  // more fragments
  const absl::StatusOr<BlockedPacket> parsed_first = ParseIpv4Packet(first, "");
  REQUIRE(parsed_first.ok());
  CHECK(parsed_first->has_ports);
  CHECK(parsed_first->dport == 2);
}

TEST_CASE("the total length decides where the packet ends, not padding after it") {
  Bytes packet = Packet({.transport = Ports(5, 6, 0)});
  const Bytes padded = [&] {
    Bytes out = packet;
    out.resize(out.size() + 20, 0xee);
    return out;
  }();
  CHECK(ParseIpv4Packet(padded, "")->dport == 6);

  // A total length that ends inside the ports: the bytes after it are not the packet's.
  Bytes short_total = padded;
  PutBe16(short_total, 2, 22);
  const absl::StatusOr<BlockedPacket> cut = ParseIpv4Packet(short_total, "");
  CheckOneLineError(cut.status());
  CHECK(cut.status().message() == "TCP header truncated: 2 of the 4 bytes of its ports");

  // 0 is BIG TCP's total length of a packet over 64 KiB: the captured bytes decide.
  PutBe16(packet, 2, 0);
  CHECK(ParseIpv4Packet(packet, "")->dport == 6);
}

TEST_CASE("ParseIpv4Packet names what is wrong with a packet") {
  const Bytes good = Packet({.transport = Ports(1, 2)});
  const auto error = [](const Bytes& bytes) {
    const absl::StatusOr<BlockedPacket> parsed = ParseIpv4Packet(bytes, "");
    CheckOneLineError(parsed.status());
    return std::string(parsed.status().message());
  };
  CHECK(error({}) == "IPv4 packet truncated: 0 bytes, the IP header needs 20");
  CHECK(error(Bytes(good.begin(), good.begin() + 19)) ==
        "IPv4 packet truncated: 19 bytes, the IP header needs 20");

  Bytes v6 = good;
  v6[0] = 0x60;
  CHECK(error(v6) == "not IPv4: IP version 6");

  Bytes small_ihl = good;
  small_ihl[0] = 0x43;
  CHECK(error(small_ihl) == "IPv4 header length 12 is below the minimum of 20");

  Bytes big_ihl = good;
  big_ihl[0] = 0x4f;  // 60 bytes of header, 40 bytes of packet
  CHECK(error(big_ihl) == "IPv4 packet truncated: 40 bytes, the IP header needs 60");

  Bytes short_total = good;
  PutBe16(short_total, 2, 19);
  CHECK(error(short_total) == "IPv4 total length 19 is shorter than its 20-byte header");

  Bytes udp = Packet({.protocol = 17, .transport = Bytes{0, 53, 0}});
  CHECK(error(udp) == "UDP header truncated: 3 of the 4 bytes of its ports");
}

TEST_CASE("every prefix of a valid packet parses or fails cleanly, exactly where it should") {
  const Bytes packet = Packet({.protocol = 132, .transport = Ports(9, 38412), .option_bytes = 8});
  const size_t header = 28;
  for (size_t length = 0; length <= packet.size(); ++length) {
    INFO("length " << length);
    // The copy range cuts the bytes, not the total length field.
    const absl::StatusOr<BlockedPacket> parsed =
        ParseIpv4Packet(absl::MakeConstSpan(packet.data(), length), "");
    if (length < header + 4) {
      CheckOneLineError(parsed.status());
    } else {
      REQUIRE(parsed.ok());
      CHECK(parsed->dport == 38412);
    }
  }
}

TEST_CASE("random and mutated bytes never crash the parser") {
  std::mt19937 random(86);
  const auto check = [](const Bytes& bytes) {
    const absl::StatusOr<BlockedPacket> parsed = ParseIpv4Packet(bytes, "fuzz");
    if (!parsed.ok()) CheckOneLineError(parsed.status());
  };
  for (int i = 0; i < 20000; ++i) {
    Bytes bytes(random() % 90);
    for (uint8_t& byte : bytes) byte = random();
    // Half of them look like IPv4 so that the parser gets past the first checks.
    if (!bytes.empty() && i % 2 == 0) bytes[0] = 0x40 | (bytes[0] & 0x0f);
    check(bytes);
  }
  const Bytes good = Packet({.transport = Ports(1, 2), .option_bytes = 4});
  for (int i = 0; i < 20000; ++i) {
    Bytes bytes = good;
    for (int flips = 1 + random() % 4; flips > 0; --flips)
      bytes[random() % bytes.size()] = random();
    bytes.resize(random() % (bytes.size() + 1));
    check(bytes);
  }
}

// ---------------------------------------------------------------------------------------------
// The line

TEST_CASE("the log line is the spec's sentence, word for word") {
  CHECK(FormatBlockedLine(Blocked(Protocol::kTcp, 56648, 80)) ==
        "TCP connection from 10.32.0.7:56648 to 10.32.0.11:80 blocked by Weave NPC.");
  CHECK(FormatBlockedLine(Blocked(Protocol::kUdp, 40000, 53)) ==
        "UDP connection from 10.32.0.7:40000 to 10.32.0.11:53 blocked by Weave NPC.");
  CHECK(FormatBlockedLine(Blocked(Protocol::kSctp, 1, 2)) ==
        "SCTP connection from 10.32.0.7:1 to 10.32.0.11:2 blocked by Weave NPC.");

  BlockedPacket icmp = Blocked(Protocol::kIcmp, 0, 0);
  icmp.has_ports = false;
  CHECK(FormatBlockedLine(icmp) ==
        "ICMP connection from 10.32.0.7 to 10.32.0.11 blocked by Weave NPC.");
  BlockedPacket gre = icmp;
  gre.protocol = static_cast<Protocol>(47);
  CHECK(FormatBlockedLine(gre) ==
        "IP protocol 47 connection from 10.32.0.7 to 10.32.0.11 blocked by Weave NPC.");
  BlockedPacket fragment = Blocked(Protocol::kTcp, 0, 0);
  fragment.has_ports = false;
  CHECK(FormatBlockedLine(fragment) ==
        "TCP connection from 10.32.0.7 to 10.32.0.11 blocked by Weave NPC.");
}

TEST_CASE("known pods and the direction follow the sentence in parentheses") {
  const PodLookup both = [](net::Ipv4 ip) -> std::string {
    if (ip == Ip("10.32.0.7")) return "default/client";
    if (ip == Ip("10.32.0.11")) return "shop/server";
    return "";
  };
  const PodLookup source_only = [](net::Ipv4 ip) -> std::string {
    return ip == Ip("10.32.0.7") ? "default/client" : "";
  };
  const PodLookup destination_only = [](net::Ipv4 ip) -> std::string {
    return ip == Ip("10.32.0.11") ? "shop/server" : "";
  };
  const PodLookup nobody = [](net::Ipv4) { return std::string(); };
  const std::string sentence =
      "TCP connection from 10.32.0.7:56648 to 10.32.0.11:80 blocked by Weave NPC.";
  const BlockedPacket ingress = Blocked(Protocol::kTcp, 56648, 80, "weave-npc ingress: ");
  const BlockedPacket egress = Blocked(Protocol::kTcp, 56648, 80, "weave-npc egress: ");
  const BlockedPacket unknown = Blocked(Protocol::kTcp, 56648, 80, "something else: ");

  CHECK(FormatBlockedLine(ingress, {.pod = both}) ==
        sentence + " (ingress from pod default/client to pod shop/server)");
  CHECK(FormatBlockedLine(egress, {.pod = source_only}) ==
        sentence + " (egress from pod default/client)");
  CHECK(FormatBlockedLine(ingress, {.pod = destination_only}) ==
        sentence + " (ingress to pod shop/server)");
  CHECK(FormatBlockedLine(unknown, {.pod = both}) ==
        sentence + " (from pod default/client to pod shop/server)");
  CHECK(FormatBlockedLine(ingress, {.pod = nobody}) == sentence);
  CHECK(FormatBlockedLine(ingress, {}) == sentence);
}

TEST_CASE("the policies whose rules did not allow the packet follow the pods") {
  const PodLookup both = [](net::Ipv4 ip) -> std::string {
    if (ip == Ip("10.32.0.7")) return "default/client";
    if (ip == Ip("10.32.0.11")) return "shop/server";
    return "";
  };
  std::vector<std::pair<std::string, Direction>> asked;
  const PolicyLookup policies = [&](const std::string& pod, Direction direction) {
    asked.emplace_back(pod, direction);
    if (pod == "shop/server") return std::vector<std::string>{"shop/allow-web", "shop/deny-all"};
    return std::vector<std::string>{"default/a", "default/b", "default/c", "default/d",
                                    "default/e"};
  };
  const std::string sentence =
      "TCP connection from 10.32.0.7:56648 to 10.32.0.11:80 blocked by Weave NPC.";

  // Ingress: the destination's policies; egress: the source's, at most three named.
  CHECK(FormatBlockedLine(Blocked(Protocol::kTcp, 56648, 80, "weave-npc ingress: "),
                          {both, policies}) ==
        sentence + " (ingress from pod default/client to pod shop/server; not allowed by the "
                   "ingress rules of shop/allow-web, shop/deny-all)");
  CHECK(FormatBlockedLine(Blocked(Protocol::kTcp, 56648, 80, "weave-npc egress: "),
                          {both, policies}) ==
        sentence + " (egress from pod default/client to pod shop/server; not allowed by the "
                   "egress rules of default/a, default/b, default/c and 2 more)");
  CHECK(asked == std::vector<std::pair<std::string, Direction>>{
                     {"shop/server", Direction::kIngress}, {"default/client", Direction::kEgress}});

  // No policy selects the pod (a lookup racing a change): the pods alone.
  const PolicyLookup none = [](const std::string&, Direction) {
    return std::vector<std::string>{};
  };
  CHECK(FormatBlockedLine(Blocked(Protocol::kTcp, 56648, 80, "weave-npc ingress: "),
                          {both, none}) ==
        sentence + " (ingress from pod default/client to pod shop/server)");
  // The judged pod unknown, or no direction: no policies asked for.
  asked.clear();
  const PodLookup source_only = [](net::Ipv4 ip) -> std::string {
    return ip == Ip("10.32.0.7") ? "default/client" : "";
  };
  CHECK(FormatBlockedLine(Blocked(Protocol::kTcp, 56648, 80, "weave-npc ingress: "),
                          {source_only, policies}) ==
        sentence + " (ingress from pod default/client)");
  CHECK(FormatBlockedLine(Blocked(Protocol::kTcp, 56648, 80, "x: "), {both, policies}) ==
        sentence + " (from pod default/client to pod shop/server)");
  CHECK(asked.empty());
}

TEST_CASE("a packet the router's gate held says so") {
  const PodLookup server = [](net::Ipv4 ip) -> std::string {
    return ip == Ip("10.32.0.11") ? "shop/server" : "";
  };
  const std::string sentence =
      "TCP connection from 10.32.0.7:56648 to 10.32.0.11:80 blocked by Weave NPC.";
  const BlockedPacket gated = Blocked(Protocol::kTcp, 56648, 80, "weave-gate: ");
  CHECK(FormatBlockedLine(gated, {.pod = server}) ==
        sentence +
            " (new pod held at the router's gate until weave-npc applies its policy: to pod "
            "shop/server)");
  // Without a pod named, the original sentence alone, as for weave-npc's own drops.
  CHECK(FormatBlockedLine(gated, {}) == sentence);
}

TEST_CASE("the direction comes from the prefix") {
  CHECK(DirectionOfPrefix("weave-npc ingress: ") == Direction::kIngress);
  CHECK(DirectionOfPrefix("weave-npc egress: ") == Direction::kEgress);
  CHECK(DirectionOfPrefix("weave-gate: ") == Direction::kGate);
  CHECK(DirectionOfPrefix("") == Direction::kUnknown);
  CHECK(DirectionOfPrefix("weave-npc: ") == Direction::kUnknown);
}

TEST_CASE("the summary of held-back lines counts them") {
  CHECK(SuppressedLine(57) == "... and 57 more blocked connections not logged");
  CHECK(SuppressedLine(1) == "... and 1 more blocked connection not logged");
}

// ---------------------------------------------------------------------------------------------
// Rate limiting

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

int Take(TokenBucket& bucket, absl::Time now, int attempts) {
  int taken = 0;
  for (int i = 0; i < attempts; ++i) taken += bucket.TryTake(now);
  return taken;
}

TEST_CASE("the token bucket lets a burst through, then the rate") {
  TokenBucket bucket(10, 20);
  CHECK(Take(bucket, kT0, 100) == 20);
  CHECK(Take(bucket, kT0 + absl::Milliseconds(99), 10) == 0);
  CHECK(Take(bucket, kT0 + absl::Milliseconds(100), 10) == 1);
  // Ten steps of 10 ms earn exactly one token (no rounding loss).
  for (int i = 1; i <= 9; ++i) {
    CHECK(Take(bucket, kT0 + absl::Milliseconds(100 + 10 * i), 10) == 0);
  }
  CHECK(Take(bucket, kT0 + absl::Milliseconds(200), 10) == 1);
  // A long pause refills up to the burst, no more.
  CHECK(Take(bucket, kT0 + absl::Hours(1), 100) == 20);
}

TEST_CASE("a clock going backwards earns nothing") {
  TokenBucket bucket(10, 1);
  CHECK(Take(bucket, kT0, 5) == 1);
  CHECK(Take(bucket, kT0 - absl::Seconds(5), 5) == 0);
  CHECK(Take(bucket, kT0 + absl::Milliseconds(50), 5) == 0);
  CHECK(Take(bucket, kT0 + absl::Milliseconds(100), 5) == 1);
}

TEST_CASE("without a rate only the burst passes, without a burst nothing") {
  TokenBucket no_rate(0, 3);
  CHECK(Take(no_rate, kT0, 10) == 3);
  CHECK(Take(no_rate, kT0 + absl::Hours(100), 10) == 0);
  TokenBucket no_burst(10, 0);
  CHECK(Take(no_burst, kT0, 10) == 0);
  CHECK(Take(no_burst, kT0 + absl::Hours(1), 10) == 0);
}

// ---------------------------------------------------------------------------------------------
// Counting and the log

TEST_CASE("counters bound the label sets, the rest counts under dport other") {
  BlockedConnectionCounters counters(3);
  for (uint16_t port = 1; port <= 10; ++port) counters.Add(Blocked(Protocol::kTcp, 9, port));
  counters.Add(Blocked(Protocol::kTcp, 9, 2));   // a known series still counts in its own
  counters.Add(Blocked(Protocol::kUdp, 9, 53));  // a new series of another protocol: overflow
  BlockedPacket icmp = Blocked(Protocol::kIcmp, 0, 0);
  icmp.has_ports = false;
  counters.Add(icmp);
  CHECK(counters.Snapshot() == std::vector<BlockedCount>{{"icmp", "other", 1},
                                                         {"tcp", "1", 1},
                                                         {"tcp", "2", 2},
                                                         {"tcp", "3", 1},
                                                         {"tcp", "other", 7},
                                                         {"udp", "other", 1}});
}

TEST_CASE("packets without ports count with an empty dport") {
  BlockedConnectionCounters counters;
  BlockedPacket icmp = Blocked(Protocol::kIcmp, 0, 0);
  icmp.has_ports = false;
  counters.Add(icmp);
  counters.Add(icmp);
  CHECK(counters.Snapshot() == std::vector<BlockedCount>{{"icmp", "", 2}});
}

TEST_CASE("counters are exact under concurrent adds, and a port scan stays bounded") {
  BlockedConnectionCounters counters;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&counters] {
      for (int port = 0; port < 65536; ++port) {
        counters.Add(Blocked(Protocol::kTcp, 1, static_cast<uint16_t>(port)));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const std::vector<BlockedCount> snapshot = counters.Snapshot();
  CHECK(snapshot.size() == BlockedConnectionCounters::kDefaultMaxLabelSets + 1);
  uint64_t total = 0;
  for (const BlockedCount& count : snapshot) total += count.count;
  CHECK(total == 4 * 65536);
}

TEST_CASE("the counters render as weavenpc_blocked_connections_total") {
  BlockedConnectionCounters counters;
  counters.Add(Blocked(Protocol::kTcp, 1, 80));
  counters.Add(Blocked(Protocol::kTcp, 2, 80));
  counters.Add(Blocked(Protocol::kUdp, 2, 53));
  CHECK(metrics::RenderText({BlockedConnectionsFamily(counters.Snapshot())}) ==
        "# HELP weavenpc_blocked_connections_total Connections blocked by Weave NPC.\n"
        "# TYPE weavenpc_blocked_connections_total counter\n"
        "weavenpc_blocked_connections_total{protocol=\"tcp\",dport=\"80\"} 2\n"
        "weavenpc_blocked_connections_total{protocol=\"udp\",dport=\"53\"} 1\n");
}

struct LogFixture {
  absl::Time now = kT0;
  std::vector<std::string> lines;
  BlockedConnectionLog log{{.lines_per_second = 10, .burst = 20},
                           {},
                           [this] { return now; },
                           [this](const std::string& line) { lines.push_back(line); }};
};

TEST_CASE("the log holds back lines over the rate, counts them all, and says how many it held") {
  LogFixture f;
  for (uint16_t i = 0; i < 25; ++i) f.log.Record(Blocked(Protocol::kTcp, 1000 + i, 80));
  REQUIRE(f.lines.size() == 20);
  CHECK(f.lines[0] == "TCP connection from 10.32.0.7:1000 to 10.32.0.11:80 blocked by Weave NPC.");
  CHECK(f.lines[19] == "TCP connection from 10.32.0.7:1019 to 10.32.0.11:80 blocked by Weave NPC.");
  CHECK(f.log.counters().Snapshot() == std::vector<BlockedCount>{{"tcp", "80", 25}});

  // The next line that passes comes after the count of those held back.
  f.now += absl::Milliseconds(100);
  f.log.Record(Blocked(Protocol::kUdp, 5, 53));
  REQUIRE(f.lines.size() == 22);
  CHECK(f.lines[20] == "... and 5 more blocked connections not logged");
  CHECK(f.lines[21] == "UDP connection from 10.32.0.7:5 to 10.32.0.11:53 blocked by Weave NPC.");

  // Nothing held back: Flush says nothing.
  f.log.Flush();
  CHECK(f.lines.size() == 22);

  // Held back, then quiet: Flush reports them, once.
  f.log.Record(Blocked(Protocol::kUdp, 6, 53));
  f.log.Record(Blocked(Protocol::kUdp, 7, 53));
  CHECK(f.lines.size() == 22);
  f.log.Flush();
  f.log.Flush();
  REQUIRE(f.lines.size() == 23);
  CHECK(f.lines[22] == "... and 2 more blocked connections not logged");
  CHECK(f.log.counters().Snapshot() ==
        std::vector<BlockedCount>{{"tcp", "80", 25}, {"udp", "53", 3}});
}

TEST_CASE("a logged IPv4 packet is parsed, then counted and logged with its prefix") {
  LogFixture f;
  const Bytes tcp = Packet({.transport = Ports(56648, 80)});
  const Bytes udp = Packet({.protocol = 17, .transport = Ports(40000, 53)});
  REQUIRE(f.log.RecordIpv4(tcp, "weave-npc ingress: ").ok());
  REQUIRE(f.log.RecordIpv4(udp, "weave-npc egress: ").ok());
  CHECK(f.lines ==
        std::vector<std::string>{
            "TCP connection from 10.32.0.7:56648 to 10.32.0.11:80 blocked by Weave NPC.",
            "UDP connection from 10.32.0.7:40000 to 10.32.0.11:53 blocked by Weave NPC."});
  CHECK(f.log.counters().Snapshot() ==
        std::vector<BlockedCount>{{"tcp", "80", 1}, {"udp", "53", 1}});

  // The prefix travels with the packet: it names the direction.
  std::vector<std::string> lines;
  BlockedConnectionLog log(
      {}, {.pod = [](net::Ipv4 ip) { return ip == Ip("10.32.0.11") ? "shop/server" : ""; }},
      [] { return kT0; }, [&](const std::string& line) { lines.push_back(line); });
  REQUIRE(log.RecordIpv4(tcp, "weave-npc egress: ").ok());
  CHECK(lines == std::vector<std::string>{
                     "TCP connection from 10.32.0.7:56648 to 10.32.0.11:80 blocked by Weave NPC. "
                     "(egress to pod shop/server)"});
}

TEST_CASE("a logged packet that does not parse is an error, neither counted nor logged") {
  LogFixture f;
  CheckOneLineError(f.log.RecordIpv4(Bytes{0x45, 0}, "x"));
  CheckOneLineError(f.log.RecordIpv4(Bytes(48, 0x60), "weave-npc ingress: "));  // IPv6
  CHECK(f.lines.empty());
  CHECK(f.log.counters().Snapshot().empty());
}

TEST_CASE("the log names pods through its lookup") {
  std::vector<std::string> lines;
  BlockedConnectionLog log(
      {}, {.pod = [](net::Ipv4 ip) { return ip == Ip("10.32.0.11") ? "shop/server" : ""; }},
      [] { return kT0; }, [&](const std::string& line) { lines.push_back(line); });
  log.Record(Blocked(Protocol::kTcp, 56648, 80));
  CHECK(lines == std::vector<std::string>{
                     "TCP connection from 10.32.0.7:56648 to 10.32.0.11:80 blocked by Weave NPC. "
                     "(ingress to pod shop/server)"});
}

}  // namespace
}  // namespace weave::npc::nflog
