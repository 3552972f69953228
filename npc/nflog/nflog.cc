#include "npc/nflog/nflog.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"

namespace weave::npc::nflog {
namespace {

constexpr size_t kIpv4MinHeader = 20;
constexpr size_t kPortBytes = 4;  // source and destination port lead TCP, UDP and SCTP headers

uint16_t Be16(absl::Span<const uint8_t> bytes, size_t offset) {
  return static_cast<uint16_t>(bytes[offset] << 8 | bytes[offset + 1]);
}

uint32_t Be32(absl::Span<const uint8_t> bytes, size_t offset) {
  return uint32_t{bytes[offset]} << 24 | uint32_t{bytes[offset + 1]} << 16 |
         uint32_t{bytes[offset + 2]} << 8 | uint32_t{bytes[offset + 3]};
}

bool CarriesPorts(Protocol protocol) {
  return protocol == Protocol::kTcp || protocol == Protocol::kUdp || protocol == Protocol::kSctp;
}

// "TCP", "UDP", "SCTP", "ICMP", "IP protocol 47": how the log line names a protocol.
std::string DisplayName(Protocol protocol) {
  switch (protocol) {
    case Protocol::kTcp:
      return "TCP";
    case Protocol::kUdp:
      return "UDP";
    case Protocol::kSctp:
      return "SCTP";
    case Protocol::kIcmp:
      return "ICMP";
  }
  return absl::StrCat("IP protocol ", static_cast<int>(protocol));
}

std::string Endpoint(net::Ipv4 address, bool has_port, uint16_t port) {
  return has_port ? absl::StrCat(address.ToString(), ":", port) : address.ToString();
}

absl::Status Invalid(absl::string_view why) { return absl::InvalidArgumentError(why); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Values

std::string ProtocolName(Protocol protocol) {
  switch (protocol) {
    case Protocol::kTcp:
      return "tcp";
    case Protocol::kUdp:
      return "udp";
    case Protocol::kSctp:
      return "sctp";
    case Protocol::kIcmp:
      return "icmp";
  }
  return absl::StrCat(static_cast<int>(protocol));
}

Direction DirectionOfPrefix(absl::string_view prefix) {
  if (absl::StrContains(prefix, "ingress")) return Direction::kIngress;
  if (absl::StrContains(prefix, "egress")) return Direction::kEgress;
  if (absl::StrContains(prefix, "weave-gate")) return Direction::kGate;
  return Direction::kUnknown;
}

absl::StatusOr<BlockedPacket> ParseIpv4Packet(absl::Span<const uint8_t> packet,
                                              std::string prefix) {
  if (packet.empty()) return Invalid("IPv4 packet truncated: 0 bytes, the IP header needs 20");
  if (const int version = packet[0] >> 4; version != 4) {
    return Invalid(absl::StrCat("not IPv4: IP version ", version));
  }
  if (packet.size() < kIpv4MinHeader) {
    return Invalid(
        absl::StrCat("IPv4 packet truncated: ", packet.size(), " bytes, the IP header needs 20"));
  }
  const size_t header_length = size_t{packet[0] & 0x0fu} * 4;
  if (header_length < kIpv4MinHeader) {
    return Invalid(
        absl::StrCat("IPv4 header length ", header_length, " is below the minimum of 20"));
  }
  if (packet.size() < header_length) {
    return Invalid(absl::StrCat("IPv4 packet truncated: ", packet.size(),
                                " bytes, the IP header needs ", header_length));
  }
  // The copy may end before the packet does (NFLOG's copy range), and a frame may be padded after
  // it. A total length of 0 is BIG TCP's mark of a packet over 64 KiB.
  size_t end = packet.size();
  if (const uint16_t total_length = Be16(packet, 2); total_length != 0) {
    if (total_length < header_length) {
      return Invalid(absl::StrCat("IPv4 total length ", total_length, " is shorter than its ",
                                  header_length, "-byte header"));
    }
    end = std::min<size_t>(end, total_length);
  }

  BlockedPacket out;
  out.protocol = static_cast<Protocol>(packet[9]);
  out.saddr = net::Ipv4(Be32(packet, 12));
  out.daddr = net::Ipv4(Be32(packet, 16));
  out.prefix = std::move(prefix);
  const bool first_fragment = (Be16(packet, 6) & 0x1fff) == 0;
  if (!first_fragment || !CarriesPorts(out.protocol)) return out;

  const size_t transport = end - header_length;
  if (transport < kPortBytes) {
    return Invalid(absl::StrCat(DisplayName(out.protocol), " header truncated: ", transport,
                                " of the 4 bytes of its ports"));
  }
  out.has_ports = true;
  out.sport = Be16(packet, header_length);
  out.dport = Be16(packet, header_length + 2);
  return out;
}

namespace {

// Policies named in one line at most; the rest are counted.
constexpr size_t kMaxPoliciesNamed = 3;

// "; not allowed by the ingress rules of a/x, a/y", or "" without policies.
std::string NotAllowedBy(absl::string_view direction, const std::vector<std::string>& policies) {
  if (policies.empty()) return "";
  const size_t named = std::min(policies.size(), kMaxPoliciesNamed);
  std::string text = absl::StrCat("; not allowed by the ", direction, " rules of ",
                                  absl::StrJoin(policies.begin(), policies.begin() + named, ", "));
  if (policies.size() > named) absl::StrAppend(&text, " and ", policies.size() - named, " more");
  return text;
}

}  // namespace

std::string FormatBlockedLine(const BlockedPacket& packet, const Lookups& lookups) {
  std::string line = absl::StrCat(DisplayName(packet.protocol), " connection from ",
                                  Endpoint(packet.saddr, packet.has_ports, packet.sport), " to ",
                                  Endpoint(packet.daddr, packet.has_ports, packet.dport),
                                  " blocked by Weave NPC.");
  if (!lookups.pod) return line;
  const std::string source_pod = lookups.pod(packet.saddr);
  const std::string destination_pod = lookups.pod(packet.daddr);
  if (source_pod.empty() && destination_pod.empty()) return line;
  std::vector<std::string> words;
  const Direction direction = DirectionOfPrefix(packet.prefix);
  switch (direction) {
    case Direction::kIngress:
      words.push_back("ingress");
      break;
    case Direction::kEgress:
      words.push_back("egress");
      break;
    case Direction::kGate:
      words.push_back("new pod held at the router's gate until weave-npc applies its policy:");
      break;
    case Direction::kUnknown:
      break;
  }
  if (!source_pod.empty()) words.push_back(absl::StrCat("from pod ", source_pod));
  if (!destination_pod.empty()) words.push_back(absl::StrCat("to pod ", destination_pod));
  // The pod whose policies judged the packet: the destination's for ingress, the source's for
  // egress.
  std::string reason;
  if (lookups.policies && direction == Direction::kIngress && !destination_pod.empty()) {
    reason = NotAllowedBy("ingress", lookups.policies(destination_pod, direction));
  } else if (lookups.policies && direction == Direction::kEgress && !source_pod.empty()) {
    reason = NotAllowedBy("egress", lookups.policies(source_pod, direction));
  }
  absl::StrAppend(&line, " (", absl::StrJoin(words, " "), reason, ")");
  return line;
}

std::string SuppressedLine(uint64_t suppressed) {
  return absl::StrCat("... and ", suppressed, " more blocked ",
                      suppressed == 1 ? "connection" : "connections", " not logged");
}

// ---------------------------------------------------------------------------------------------
// Rate limiting

namespace {
// Rates outside this range are clamped, so that the durations below stay finite and non-zero.
constexpr double kMinRate = 1e-6;
constexpr double kMaxRate = 1e9;
}  // namespace

TokenBucket::TokenBucket(double per_second, int burst)
    : refills_(per_second > 0),
      interval_(refills_ ? absl::Seconds(1) / std::clamp(per_second, kMinRate, kMaxRate)
                         : absl::Seconds(1)),
      capacity_(interval_ * std::max(burst, 0)),
      credit_(capacity_) {}

bool TokenBucket::TryTake(absl::Time now) {
  if (refills_ && last_ != absl::InfinitePast() && now > last_) {
    credit_ = std::min(capacity_, credit_ + (now - last_));
  }
  if (now > last_) last_ = now;
  if (credit_ < interval_) return false;
  credit_ -= interval_;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Counting

void BlockedConnectionCounters::Add(const BlockedPacket& packet) {
  std::pair<std::string, std::string> key(ProtocolName(packet.protocol),
                                          packet.has_ports ? absl::StrCat(packet.dport) : "");
  absl::MutexLock lock(&mu_);
  auto it = counts_.find(key);
  if (it == counts_.end()) {
    if (label_sets_ < max_label_sets_) {
      ++label_sets_;
    } else {
      key.second = "other";
    }
    it = counts_.try_emplace(std::move(key), 0).first;
  }
  ++it->second;
}

std::vector<BlockedCount> BlockedConnectionCounters::Snapshot() const {
  absl::MutexLock lock(&mu_);
  std::vector<BlockedCount> out;
  out.reserve(counts_.size());
  for (const auto& [key, count] : counts_) out.push_back({key.first, key.second, count});
  return out;
}

metrics::Family BlockedConnectionsFamily(const std::vector<BlockedCount>& counts) {
  metrics::Family family{"weavenpc_blocked_connections_total",
                         "Connections blocked by Weave NPC.",
                         metrics::Type::kCounter,
                         {}};
  for (const BlockedCount& count : counts) {
    family.samples.push_back(
        {{{"protocol", count.protocol}, {"dport", count.dport}}, static_cast<double>(count.count)});
  }
  return family;
}

// ---------------------------------------------------------------------------------------------
// The log

BlockedConnectionLog::BlockedConnectionLog(Options options, Lookups lookups, Clock clock,
                                           Sink sink, size_t max_label_sets)
    : lookups_(std::move(lookups)),
      clock_(std::move(clock)),
      sink_(std::move(sink)),
      counters_(max_label_sets),
      bucket_(options.lines_per_second, options.burst) {}

void BlockedConnectionLog::Record(const BlockedPacket& packet) {
  counters_.Add(packet);
  uint64_t suppressed = 0;
  {
    absl::MutexLock lock(&mu_);
    if (!bucket_.TryTake(clock_())) {
      ++suppressed_;
      return;
    }
    suppressed = std::exchange(suppressed_, 0);
  }
  if (suppressed > 0) sink_(SuppressedLine(suppressed));
  sink_(FormatBlockedLine(packet, lookups_));
}

absl::Status BlockedConnectionLog::RecordIpv4(absl::Span<const uint8_t> packet,
                                              std::string prefix) {
  ASSIGN_OR_RETURN(const BlockedPacket blocked, ParseIpv4Packet(packet, std::move(prefix)));
  Record(blocked);
  return absl::OkStatus();
}

void BlockedConnectionLog::Flush() {
  uint64_t suppressed = 0;
  {
    absl::MutexLock lock(&mu_);
    suppressed = std::exchange(suppressed_, 0);
  }
  if (suppressed > 0) sink_(SuppressedLine(suppressed));
}

}  // namespace weave::npc::nflog
