// The pure layer of the ctnetlink adapter: entries decoded from messages built here by hand (the
// layout the kernel's ctnetlink_fill_info writes), never a crash on anything else, and delete
// requests checked byte for byte.
#include "common/netlink/conntrack.h"

#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <map>
#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "test/harness/status_assertions.h"

namespace weave::netlink::conntrack {
namespace {

using Bytes = std::vector<uint8_t>;

constexpr uint16_t kCtNew = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
constexpr uint16_t kCtGet = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
constexpr uint16_t kCtDelete = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;

net::Ipv4 Ip(const char* text) { return *net::Ipv4::Parse(text); }

// A netlink message written byte by byte, apart from the code under test: header, nfgenmsg,
// attributes (host-order nla_len/nla_type, 4-byte padding), nests with NLA_F_NESTED as the kernel
// sets it.
class MessageBuilder {
 public:
  MessageBuilder(uint16_t type, uint8_t family, uint16_t flags = NLM_F_MULTI) {
    Grow(NLMSG_HDRLEN);
    Put16At(4, type);
    Put16At(6, flags);
    bytes_[Grow(4)] = family;  // nfgenmsg: family, version 0, res_id 0.
  }

  MessageBuilder& Attr(uint16_t type, const Bytes& payload) {
    const size_t at = Grow(NLA_HDRLEN);
    Put16At(at, static_cast<uint16_t>(NLA_HDRLEN + payload.size()));
    Put16At(at + 2, type);
    bytes_.insert(bytes_.end(), payload.begin(), payload.end());
    bytes_.resize(NLA_ALIGN(bytes_.size()), 0);
    return *this;
  }
  MessageBuilder& U8(uint16_t type, uint8_t value) { return Attr(type, {value}); }
  MessageBuilder& Be16(uint16_t type, uint16_t value) {
    return Attr(type, {static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(value)});
  }
  MessageBuilder& Be32(uint16_t type, uint32_t value) {
    return Attr(type, {static_cast<uint8_t>(value >> 24), static_cast<uint8_t>(value >> 16),
                       static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(value)});
  }
  MessageBuilder& Begin(uint16_t type) {
    nests_.push_back(Grow(NLA_HDRLEN));
    Put16At(nests_.back() + 2, type | NLA_F_NESTED);
    return *this;
  }
  MessageBuilder& End() {
    Put16At(nests_.back(), static_cast<uint16_t>(bytes_.size() - nests_.back()));
    nests_.pop_back();
    return *this;
  }

  Bytes Build() {
    const uint32_t length = static_cast<uint32_t>(bytes_.size());
    std::memcpy(bytes_.data(), &length, sizeof(length));
    return bytes_;
  }

 private:
  size_t Grow(size_t n) {
    bytes_.resize(bytes_.size() + n, 0);
    return bytes_.size() - n;
  }
  void Put16At(size_t at, uint16_t value) { std::memcpy(&bytes_[at], &value, sizeof(value)); }

  Bytes bytes_;
  std::vector<size_t> nests_;
};

// CTA_TUPLE_IP of an IPv4 tuple.
MessageBuilder& IpNest(MessageBuilder& m, const char* src, const char* dst) {
  return m.Begin(CTA_TUPLE_IP)
      .Be32(CTA_IP_V4_SRC, Ip(src).value())
      .Be32(CTA_IP_V4_DST, Ip(dst).value())
      .End();
}

// CTA_TUPLE_IP and CTA_TUPLE_PROTO of an IPv4 tuple with ports.
MessageBuilder& PortTuple(MessageBuilder& m, const char* src, const char* dst, uint8_t protocol,
                          uint16_t sport, uint16_t dport) {
  return IpNest(m, src, dst)
      .Begin(CTA_TUPLE_PROTO)
      .U8(CTA_PROTO_NUM, protocol)
      .Be16(CTA_PROTO_SRC_PORT, sport)
      .Be16(CTA_PROTO_DST_PORT, dport)
      .End();
}

// What a dump sends for an established TCP connection 10.32.0.1:40000 -> 10.32.0.2:80, in the
// kernel's order, with the attributes around the tuples that the decoder must skip.
Bytes TcpEntry() {
  MessageBuilder m(kCtNew, AF_INET);
  m.Begin(CTA_TUPLE_ORIG);
  PortTuple(m, "10.32.0.1", "10.32.0.2", IPPROTO_TCP, 40000, 80).End();
  m.Begin(CTA_TUPLE_REPLY);
  PortTuple(m, "10.32.0.2", "10.32.0.1", IPPROTO_TCP, 80, 40000).End();
  return m.Be32(CTA_STATUS, 0x18e)
      .Be32(CTA_MARK, 0)
      .Be32(CTA_ID, 0x12345678)
      .Be32(CTA_USE, 1)
      .Be32(CTA_TIMEOUT, 431999)
      .Begin(CTA_PROTOINFO)
      .Begin(CTA_PROTOINFO_TCP)
      .U8(CTA_PROTOINFO_TCP_STATE, 3)
      .U8(CTA_PROTOINFO_TCP_WSCALE_ORIGINAL, 7)
      .Attr(CTA_PROTOINFO_TCP_FLAGS_ORIGINAL, {0x23, 0x00})
      .End()
      .End()
      .Build();
}

Flow TcpFlow() {
  return Flow{.saddr = Ip("10.32.0.1"),
              .daddr = Ip("10.32.0.2"),
              .protocol = kTcp,
              .sport = 40000,
              .dport = 80};
}

Bytes IcmpEntry() {
  MessageBuilder m(kCtNew, AF_INET);
  m.Begin(CTA_TUPLE_ORIG);
  IpNest(m, "10.32.0.5", "10.40.0.1")
      .Begin(CTA_TUPLE_PROTO)
      .U8(CTA_PROTO_NUM, IPPROTO_ICMP)
      .Be16(CTA_PROTO_ICMP_ID, 4242)
      .U8(CTA_PROTO_ICMP_TYPE, 8)
      .U8(CTA_PROTO_ICMP_CODE, 0)
      .End()
      .End();
  return m.Be32(CTA_STATUS, 0x188).Build();
}

absl::StatusOr<std::optional<Flow>> Decode(const Bytes& bytes) { return DecodeFlow(bytes); }

Flow MustDecode(const Bytes& bytes) {
  absl::StatusOr<std::optional<Flow>> flow = Decode(bytes);
  REQUIRE_OK(flow);
  REQUIRE(flow->has_value());
  return **flow;
}

TEST_CASE("A TCP entry decodes to its original direction", "[conntrack]") {
  const Flow flow = MustDecode(TcpEntry());
  CHECK(flow == TcpFlow());
  CHECK(flow.ToString() == "tcp 10.32.0.1:40000 -> 10.32.0.2:80");
}

TEST_CASE("A UDP entry in a zone decodes with its zone", "[conntrack]") {
  MessageBuilder m(kCtNew, AF_INET);
  m.Begin(CTA_TUPLE_ORIG);
  PortTuple(m, "10.32.0.7", "10.96.0.10", IPPROTO_UDP, 5353, 53).End();
  m.Begin(CTA_TUPLE_REPLY);
  PortTuple(m, "10.96.0.10", "10.32.0.7", IPPROTO_UDP, 53, 5353).End();
  const Flow flow = MustDecode(m.Be16(CTA_ZONE, 3).Be32(CTA_STATUS, 0x8).Build());
  CHECK(flow == Flow{.saddr = Ip("10.32.0.7"),
                     .daddr = Ip("10.96.0.10"),
                     .protocol = kUdp,
                     .sport = 5353,
                     .dport = 53,
                     .zone = 3});
  CHECK(flow.ToString() == "udp 10.32.0.7:5353 -> 10.96.0.10:53 zone 3");
}

TEST_CASE("A zone of the original direction only comes inside the tuple", "[conntrack]") {
  MessageBuilder m(kCtNew, AF_INET);
  m.Begin(CTA_TUPLE_ORIG);
  PortTuple(m, "10.32.0.7", "10.96.0.10", IPPROTO_UDP, 5353, 53).Be16(CTA_TUPLE_ZONE, 9).End();
  CHECK(MustDecode(m.Build()).zone == 9);
}

TEST_CASE("An ICMP entry keeps the identifier, type and code that make its tuple", "[conntrack]") {
  const Flow flow = MustDecode(IcmpEntry());
  CHECK(flow == Flow{.saddr = Ip("10.32.0.5"),
                     .daddr = Ip("10.40.0.1"),
                     .protocol = kIcmp,
                     .icmp = {.id = 4242, .type = 8, .code = 0}});
  CHECK(flow.ToString() == "icmp 10.32.0.5 -> 10.40.0.1 type 8 code 0 id 4242");
}

TEST_CASE("An entry of a protocol without ports has ports 0", "[conntrack]") {
  MessageBuilder m(kCtNew, AF_INET);
  m.Begin(CTA_TUPLE_ORIG);
  IpNest(m, "10.32.0.5", "10.40.0.1")
      .Begin(CTA_TUPLE_PROTO)
      .U8(CTA_PROTO_NUM, 50)  // ESP: tracked generically.
      .End()
      .End();
  const Flow flow = MustDecode(m.Build());
  CHECK(flow.protocol == 50);
  CHECK(flow.sport == 0);
  CHECK(flow.dport == 0);
  CHECK(flow.ToString() == "protocol 50 10.32.0.5:0 -> 10.40.0.1:0");
}

TEST_CASE("An IPv6 entry is skipped", "[conntrack]") {
  MessageBuilder m(kCtNew, AF_INET6);
  m.Begin(CTA_TUPLE_ORIG)
      .Begin(CTA_TUPLE_IP)
      .Attr(CTA_IP_V6_SRC, Bytes(16, 0xfd))
      .Attr(CTA_IP_V6_DST, Bytes(16, 0xfe))
      .End()
      .Begin(CTA_TUPLE_PROTO)
      .U8(CTA_PROTO_NUM, IPPROTO_TCP)
      .Be16(CTA_PROTO_SRC_PORT, 1)
      .Be16(CTA_PROTO_DST_PORT, 2)
      .End()
      .End();
  absl::StatusOr<std::optional<Flow>> flow = Decode(m.Build());
  REQUIRE_OK(flow);
  CHECK_FALSE(flow->has_value());
}

TEST_CASE("Messages that are not a sound IPv4 entry are errors", "[conntrack]") {
  const auto error_of = [](const Bytes& bytes) {
    absl::StatusOr<std::optional<Flow>> flow = Decode(bytes);
    REQUIRE_FALSE(flow.ok());
    return std::string(flow.status().message());
  };
  using Catch::Matchers::Contains;

  SECTION("another message type") {
    CHECK_THAT(error_of(MessageBuilder(kCtDelete, AF_INET).Build()),
               Contains("got netlink message type 0x102"));
  }
  SECTION("shorter than a header") {
    CHECK_THAT(error_of(Bytes(10, 0)), Contains("10 bytes is too short for a netlink header"));
  }
  SECTION("a length beyond the bytes") {
    Bytes bytes = TcpEntry();
    bytes.pop_back();
    CHECK_THAT(error_of(bytes), Contains("nlmsg_len"));
  }
  SECTION("no nfgenmsg") {
    Bytes bytes = MessageBuilder(kCtNew, AF_INET).Build();
    bytes.resize(NLMSG_HDRLEN);
    const uint32_t length = NLMSG_HDRLEN;
    std::memcpy(bytes.data(), &length, sizeof(length));
    CHECK_THAT(error_of(bytes), Contains("too short for an nfgenmsg"));
  }
  SECTION("no original tuple") {
    MessageBuilder m(kCtNew, AF_INET);
    m.Begin(CTA_TUPLE_REPLY);
    PortTuple(m, "10.32.0.2", "10.32.0.1", IPPROTO_TCP, 80, 40000).End();
    CHECK_THAT(error_of(m.Build()), Contains("no CTA_TUPLE_ORIG"));
  }
  SECTION("an address of the wrong size") {
    MessageBuilder m(kCtNew, AF_INET);
    m.Begin(CTA_TUPLE_ORIG)
        .Begin(CTA_TUPLE_IP)
        .Attr(CTA_IP_V4_SRC, {10, 32, 0})
        .Be32(CTA_IP_V4_DST, 1)
        .End()
        .End();
    CHECK_THAT(error_of(m.Build()), Contains("CTA_IP_V4_SRC has 3 bytes, not 4"));
  }
  SECTION("TCP without ports") {
    MessageBuilder m(kCtNew, AF_INET);
    m.Begin(CTA_TUPLE_ORIG);
    IpNest(m, "0.0.0.1", "0.0.0.2")
        .Begin(CTA_TUPLE_PROTO)
        .U8(CTA_PROTO_NUM, IPPROTO_TCP)
        .Be16(CTA_PROTO_SRC_PORT, 1)
        .End()
        .End();
    CHECK_THAT(error_of(m.Build()), Contains("no ports for tcp"));
  }
  SECTION("ICMP without its identifier") {
    MessageBuilder m(kCtNew, AF_INET);
    m.Begin(CTA_TUPLE_ORIG);
    IpNest(m, "0.0.0.1", "0.0.0.2")
        .Begin(CTA_TUPLE_PROTO)
        .U8(CTA_PROTO_NUM, IPPROTO_ICMP)
        .U8(CTA_PROTO_ICMP_TYPE, 8)
        .U8(CTA_PROTO_ICMP_CODE, 0)
        .End()
        .End();
    CHECK_THAT(error_of(m.Build()), Contains("no CTA_PROTO_ICMP_ID"));
  }
  SECTION("a nest that claims more than its parent holds") {
    Bytes bytes = TcpEntry();
    // CTA_TUPLE_ORIG's first child, CTA_TUPLE_IP, right after the outer attribute header.
    const size_t at = NLMSG_HDRLEN + 4 + NLA_HDRLEN;
    const uint16_t huge = 0x7000;
    std::memcpy(&bytes[at], &huge, sizeof(huge));
    CHECK_THAT(error_of(bytes), Contains("attribute 1 in CTA_TUPLE_ORIG claims 28672 bytes"));
  }
  SECTION("an attribute length below its own header") {
    Bytes bytes = TcpEntry();
    const uint16_t tiny = 2;
    std::memcpy(&bytes[NLMSG_HDRLEN + 4], &tiny, sizeof(tiny));
    CHECK_THAT(error_of(bytes), Contains("claims 2 bytes"));
  }
  SECTION("stray bytes after the attributes") {
    Bytes bytes = TcpEntry();
    bytes.insert(bytes.end(), {1, 2});
    const uint32_t length = static_cast<uint32_t>(bytes.size());
    std::memcpy(bytes.data(), &length, sizeof(length));
    CHECK_THAT(error_of(bytes), Contains("the entry ends in 2 stray bytes"));
  }
}

// Decoding must end in a Flow, a skip or an error: the sanitizers and the absence of a crash are
// the assertions here, plus a sanity check that errors say what they are.
void DecodeAnything(const Bytes& bytes) {
  absl::StatusOr<std::optional<Flow>> flow = DecodeFlow(bytes);
  if (!flow.ok()) CHECK_FALSE(flow.status().message().empty());
}

TEST_CASE("Every truncation of a valid entry decodes or fails, never crashes", "[conntrack]") {
  for (const Bytes& valid : {TcpEntry(), IcmpEntry()}) {
    for (size_t size = 0; size < valid.size(); ++size) {
      const Bytes truncated(valid.begin(), valid.begin() + static_cast<ptrdiff_t>(size));
      DecodeAnything(truncated);  // nlmsg_len still claims the whole message.
      if (size >= sizeof(uint32_t)) {
        Bytes relabelled = truncated;  // nlmsg_len says the truncated size.
        const uint32_t length = static_cast<uint32_t>(size);
        std::memcpy(relabelled.data(), &length, sizeof(length));
        DecodeAnything(relabelled);
      }
    }
  }
}

TEST_CASE("Random bytes and random corruptions of valid entries never crash", "[conntrack]") {
  std::mt19937 random(20240611);
  std::uniform_int_distribution<int> byte(0, 255);
  const Bytes valid = TcpEntry();
  int decoded = 0;
  for (int round = 0; round < 20000; ++round) {
    Bytes bytes;
    if (round % 2 == 0) {
      // Noise behind a plausible header, so that the attribute parser sees it.
      bytes.resize(std::uniform_int_distribution<size_t>(0, 200)(random));
      for (uint8_t& b : bytes) b = static_cast<uint8_t>(byte(random));
      if (bytes.size() >= NLMSG_HDRLEN + 4) {
        const uint32_t length = static_cast<uint32_t>(bytes.size());
        std::memcpy(bytes.data(), &length, sizeof(length));
        std::memcpy(&bytes[4], &kCtNew, sizeof(kCtNew));
        bytes[NLMSG_HDRLEN] = AF_INET;
      }
    } else {
      bytes = valid;
      const int flips = std::uniform_int_distribution<int>(1, 4)(random);
      for (int i = 0; i < flips; ++i) {
        // Header bytes stay, so that the corruption lands in the attributes.
        const size_t at =
            std::uniform_int_distribution<size_t>(NLMSG_HDRLEN + 1, valid.size() - 1)(random);
        bytes[at] = static_cast<uint8_t>(byte(random));
      }
    }
    absl::StatusOr<std::optional<Flow>> flow = DecodeFlow(bytes);
    if (flow.ok()) ++decoded;
  }
  // Corrupting a port or an address still yields an entry: the loop reached the decoder's end.
  CHECK(decoded > 0);
}

// The attributes of one level of a message, parsed again here, apart from the decoder.
std::map<uint16_t, Bytes> Level(const Bytes& data) {
  std::map<uint16_t, Bytes> out;
  size_t at = 0;
  while (at + NLA_HDRLEN <= data.size()) {
    uint16_t length, type;
    std::memcpy(&length, &data[at], 2);
    std::memcpy(&type, &data[at + 2], 2);
    REQUIRE(length >= NLA_HDRLEN);
    REQUIRE(at + length <= data.size());
    out[type] = Bytes(data.begin() + static_cast<ptrdiff_t>(at + NLA_HDRLEN),
                      data.begin() + static_cast<ptrdiff_t>(at + length));
    at += NLA_ALIGN(length);
  }
  REQUIRE(at == data.size());
  return out;
}

TEST_CASE("A delete request is exactly the kernel's layout", "[conntrack]") {
  const Bytes request = EncodeDeleteRequest(TcpFlow());
  // Written out by hand from <linux/netfilter/nfnetlink_conntrack.h> and ctnetlink_parse_tuple:
  // host-order lengths and types, NLA_F_NESTED (0x8000) on nests, addresses and ports in network
  // order, each attribute padded to 4 bytes.
  const std::string expected =
      "48000000"  // nlmsg_len 72
      "0201"      // IPCTNL_MSG_CT_DELETE | NFNL_SUBSYS_CTNETLINK << 8
      "0500"      // NLM_F_REQUEST | NLM_F_ACK
      "00000000"  // seq (the socket stamps it)
      "00000000"  // pid
      "02000000"  // nfgenmsg: AF_INET, NFNETLINK_V0, res_id 0
      "34000180"  // CTA_TUPLE_ORIG, 52 bytes
      "14000180"  //   CTA_TUPLE_IP, 20 bytes
      "08000100"
      "0a200001"  //     CTA_IP_V4_SRC 10.32.0.1
      "08000200"
      "0a200002"  //     CTA_IP_V4_DST 10.32.0.2
      "1c000280"  //   CTA_TUPLE_PROTO, 28 bytes
      "05000100"
      "06000000"  //     CTA_PROTO_NUM 6 (tcp)
      "06000200"
      "9c400000"  //     CTA_PROTO_SRC_PORT 40000
      "06000300"
      "00500000";  //    CTA_PROTO_DST_PORT 80
  CHECK(absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(request.data()),
                                                 request.size())) == expected);
}

TEST_CASE("A delete request carries the tuple, the ICMP identity and the zone", "[conntrack]") {
  const Flow icmp{.saddr = Ip("10.32.0.5"),
                  .daddr = Ip("10.40.0.1"),
                  .protocol = kIcmp,
                  .icmp = {.id = 4242, .type = 8, .code = 0},
                  .zone = 7};
  const Bytes request = EncodeDeleteRequest(icmp);
  uint16_t type, flags;
  std::memcpy(&type, &request[4], 2);
  std::memcpy(&flags, &request[6], 2);
  CHECK(type == kCtDelete);
  CHECK(flags == (NLM_F_REQUEST | NLM_F_ACK));
  CHECK(request[NLMSG_HDRLEN] == AF_INET);

  std::map<uint16_t, Bytes> top = Level(Bytes(request.begin() + NLMSG_HDRLEN + 4, request.end()));
  CHECK(top[CTA_ZONE] == Bytes{0, 7});
  REQUIRE(top.count(CTA_TUPLE_ORIG | NLA_F_NESTED) == 1);
  std::map<uint16_t, Bytes> tuple = Level(top[CTA_TUPLE_ORIG | NLA_F_NESTED]);
  std::map<uint16_t, Bytes> ip = Level(tuple[CTA_TUPLE_IP | NLA_F_NESTED]);
  CHECK(ip[CTA_IP_V4_SRC] == Bytes{10, 32, 0, 5});
  CHECK(ip[CTA_IP_V4_DST] == Bytes{10, 40, 0, 1});
  std::map<uint16_t, Bytes> proto = Level(tuple[CTA_TUPLE_PROTO | NLA_F_NESTED]);
  CHECK(proto == std::map<uint16_t, Bytes>{{CTA_PROTO_NUM, {1}},
                                           {CTA_PROTO_ICMP_ID, {0x10, 0x92}},
                                           {CTA_PROTO_ICMP_TYPE, {8}},
                                           {CTA_PROTO_ICMP_CODE, {0}}});
}

TEST_CASE("A delete request's tuple reads back as the flow it was made for", "[conntrack]") {
  // The request and an entry share the CTA_TUPLE_ORIG and CTA_ZONE layout, so relabelled as an
  // entry the request must decode to its flow.
  const std::vector<Flow> flows = {
      TcpFlow(),
      Flow{.saddr = Ip("192.168.1.1"),
           .daddr = Ip("255.255.255.255"),
           .protocol = kUdp,
           .sport = 65535,
           .dport = 1,
           .zone = 65535},
      Flow{.saddr = Ip("10.0.0.1"),
           .daddr = Ip("10.0.0.2"),
           .protocol = kSctp,
           .sport = 9,
           .dport = 10},
      Flow{.saddr = Ip("10.0.0.1"),
           .daddr = Ip("10.0.0.2"),
           .protocol = kIcmp,
           .icmp = {.id = 1, .type = 13, .code = 0}},
  };
  for (const Flow& flow : flows) {
    Bytes request = EncodeDeleteRequest(flow);
    std::memcpy(&request[4], &kCtNew, sizeof(kCtNew));
    CAPTURE(flow.ToString());
    CHECK(MustDecode(request) == flow);
  }
}

TEST_CASE("A list request dumps IPv4 entries", "[conntrack]") {
  const Bytes request = EncodeListRequest();
  REQUIRE(request.size() == NLMSG_HDRLEN + 4);
  uint32_t length;
  uint16_t type, flags;
  std::memcpy(&length, &request[0], 4);
  std::memcpy(&type, &request[4], 2);
  std::memcpy(&flags, &request[6], 2);
  CHECK(length == request.size());
  CHECK(type == kCtGet);
  CHECK(flags == (NLM_F_REQUEST | NLM_F_DUMP));
  CHECK(request[NLMSG_HDRLEN] == AF_INET);
  CHECK(request[NLMSG_HDRLEN + 1] == NFNETLINK_V0);
}

TEST_CASE("Opening a namespace that does not exist is an error naming it", "[conntrack]") {
  absl::StatusOr<std::unique_ptr<Conntrack>> conntrack =
      Conntrack::OpenInNamespace("/run/netns/weave-no-such-namespace");
  REQUIRE_FALSE(conntrack.ok());
  CHECK(absl::IsNotFound(conntrack.status()));
  CHECK_THAT(std::string(conntrack.status().message()),
             Catch::Matchers::Contains("/run/netns/weave-no-such-namespace: ENOENT"));
}

}  // namespace
}  // namespace weave::netlink::conntrack
