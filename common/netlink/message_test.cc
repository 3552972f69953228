#include "common/netlink/message.h"

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <map>
#include <vector>

#include "test/harness/status_assertions.h"

namespace weave::netlink {
namespace {

// The golden bytes below are for a little-endian host, like every machine we build for.

std::vector<uint8_t> Bytes(const Request& request) {
  return {request.bytes().begin(), request.bytes().end()};
}

net::Cidr Cidr(absl::string_view text) { return *net::Cidr::Parse(text); }
net::Ipv4 Ip(absl::string_view text) { return *net::Ipv4::Parse(text); }

// The attributes of a payload by type (the last of each type), to inspect nesting.
std::map<uint16_t, const nlattr*> AttributesOf(const void* payload, size_t length) {
  std::map<uint16_t, const nlattr*> attributes;
  auto* attr = static_cast<const nlattr*>(payload);
  int remaining = static_cast<int>(length);
  while (mnl_attr_ok(attr, remaining)) {
    attributes[mnl_attr_get_type(attr)] = attr;
    remaining -= MNL_ALIGN(attr->nla_len);
    attr = mnl_attr_next(attr);
  }
  return attributes;
}

// The attributes after a link message's struct ifinfomsg.
std::map<uint16_t, const nlattr*> LinkAttributesOf(const nlmsghdr* header) {
  return AttributesOf(mnl_nlmsg_get_payload_offset(header, sizeof(ifinfomsg)),
                      mnl_nlmsg_get_payload_len(header) - sizeof(ifinfomsg));
}

std::map<uint16_t, const nlattr*> Nested(const nlattr* nest, size_t skip = 0) {
  REQUIRE(nest != nullptr);
  CHECK((nest->nla_type & NLA_F_NESTED) != 0);
  return AttributesOf(static_cast<const uint8_t*>(mnl_attr_get_payload(nest)) + skip,
                      mnl_attr_get_payload_len(nest) - skip);
}

std::string StringOf(const nlattr* attr) {
  REQUIRE(attr != nullptr);
  return mnl_attr_get_str(attr);
}

TEST_CASE("netlink: a bridge is created with its name, MTU and kind", "[netlink]") {
  const std::vector<uint8_t> expected = {
      0x44, 0x00, 0x00, 0x00, 0x10, 0x00, 0x05, 0x06,  // len 68, RTM_NEWLINK, REQ|ACK|EXCL|CREATE
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // seq, pid
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // ifinfomsg
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
      0x0a, 0x00, 0x03, 0x00, 'w',  'e',  'a',  'v',   // IFLA_IFNAME "weave"
      'e',  0x00, 0x00, 0x00,                          //
      0x08, 0x00, 0x04, 0x00, 0x60, 0x05, 0x00, 0x00,  // IFLA_MTU 1376
      0x10, 0x00, 0x12, 0x80,                          // IFLA_LINKINFO (nested)
      0x0b, 0x00, 0x01, 0x00, 'b',  'r',  'i',  'd',   //   IFLA_INFO_KIND "bridge"
      'g',  'e',  0x00, 0x00,
  };
  CHECK(Bytes(EncodeCreateBridge("weave", 1376)) == expected);
}

TEST_CASE("netlink: an address is added with its broadcast address", "[netlink]") {
  const std::vector<uint8_t> expected = {
      0x30, 0x00, 0x00, 0x00, 0x14, 0x00, 0x05, 0x06,  // len 48, RTM_NEWADDR, REQ|ACK|EXCL|CREATE
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // seq, pid
      0x02, 0x0c, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00,  // AF_INET, /12, index 5
      0x08, 0x00, 0x02, 0x00, 0x0a, 0x20, 0x00, 0x01,  // IFA_LOCAL 10.32.0.1
      0x08, 0x00, 0x01, 0x00, 0x0a, 0x20, 0x00, 0x01,  // IFA_ADDRESS 10.32.0.1
      0x08, 0x00, 0x04, 0x00, 0x0a, 0x2f, 0xff, 0xff,  // IFA_BROADCAST 10.47.255.255
  };
  CHECK(Bytes(EncodeAddAddress(5, Cidr("10.32.0.1/12"))) == expected);
  // No broadcast address on a point-to-point /31 or a /32.
  CHECK(EncodeAddAddress(5, Cidr("10.32.0.1/31")).header()->nlmsg_len == 40);
}

TEST_CASE("netlink: a default route names its gateway and device", "[netlink]") {
  const std::vector<uint8_t> expected = {
      0x2c, 0x00, 0x00, 0x00, 0x18, 0x00, 0x05, 0x06,  // len 44, RTM_NEWROUTE, REQ|ACK|EXCL|CREATE
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // seq, pid
      0x02, 0x00, 0x00, 0x00, 0xfe, 0x03, 0x00, 0x01,  // AF_INET, /0, main, boot, universe, unicast
      0x00, 0x00, 0x00, 0x00,                          // rtm_flags
      0x08, 0x00, 0x05, 0x00, 0x0a, 0x20, 0x00, 0x01,  // RTA_GATEWAY 10.32.0.1
      0x08, 0x00, 0x04, 0x00, 0x07, 0x00, 0x00, 0x00,  // RTA_OIF 7
  };
  CHECK(Bytes(EncodeAddRoute({Cidr("0.0.0.0/0"), Ip("10.32.0.1"), 7})) == expected);

  // A device route has link scope; deleting matches any scope, protocol and type.
  const Request device_route = EncodeAddRoute({Cidr("10.32.0.0/12"), std::nullopt, 7});
  const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(device_route.header()));
  CHECK(rtm->rtm_scope == RT_SCOPE_LINK);
  const Request deletion = EncodeDeleteRoute({Cidr("10.32.0.0/12"), std::nullopt, 7});
  rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(deletion.header()));
  CHECK(deletion.header()->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK));
  CHECK(rtm->rtm_scope == RT_SCOPE_NOWHERE);
  CHECK(rtm->rtm_protocol == 0);
  CHECK(rtm->rtm_type == 0);
  CHECK(rtm->rtm_table == RT_TABLE_MAIN);
}

TEST_CASE("netlink: a veth's peer carries its own header, name, MTU and namespace", "[netlink]") {
  const Request request = EncodeCreateVeth("vethwepl1a2b", "eth0", 1376, 42);
  const nlmsghdr* header = request.header();
  CHECK(header->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL));
  auto top = LinkAttributesOf(header);
  CHECK(StringOf(top[IFLA_IFNAME]) == "vethwepl1a2b");
  CHECK(mnl_attr_get_u32(top[IFLA_MTU]) == 1376);
  auto link_info = Nested(top[IFLA_LINKINFO]);
  CHECK(StringOf(link_info[IFLA_INFO_KIND]) == "veth");
  auto info_data = Nested(link_info[IFLA_INFO_DATA]);
  auto peer = Nested(info_data[VETH_INFO_PEER], sizeof(ifinfomsg));
  CHECK(StringOf(peer[IFLA_IFNAME]) == "eth0");
  CHECK(mnl_attr_get_u32(peer[IFLA_MTU]) == 1376);
  REQUIRE(peer[IFLA_NET_NS_FD] != nullptr);
  CHECK(mnl_attr_get_u32(peer[IFLA_NET_NS_FD]) == 42);

  // -1: the peer stays here.
  const Request local = EncodeCreateVeth("a", "b", 1500, -1);
  auto local_top = LinkAttributesOf(local.header());
  auto local_peer = Nested(Nested(Nested(local_top[IFLA_LINKINFO])[IFLA_INFO_DATA])[VETH_INFO_PEER],
                           sizeof(ifinfomsg));
  CHECK(local_peer.count(IFLA_NET_NS_FD) == 0);
}

TEST_CASE("netlink: hairpin is a nested IFLA_PROTINFO of an AF_BRIDGE RTM_SETLINK", "[netlink]") {
  for (bool on : {true, false}) {
    const Request request = EncodeSetHairpin(9, on);
    const nlmsghdr* header = request.header();
    CHECK(header->nlmsg_type == RTM_SETLINK);
    const auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(header));
    CHECK(ifi->ifi_family == AF_BRIDGE);
    CHECK(ifi->ifi_index == 9);
    auto top = LinkAttributesOf(header);
    auto protinfo = Nested(top[IFLA_PROTINFO]);
    REQUIRE(protinfo[IFLA_BRPORT_MODE] != nullptr);
    CHECK(mnl_attr_get_u8(protinfo[IFLA_BRPORT_MODE]) == (on ? 1 : 0));
  }
}

TEST_CASE("netlink: SetLink changes only what it is asked to, by name", "[netlink]") {
  const Request down = EncodeSetLink("eth0", {.up = false});
  const auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(down.header()));
  CHECK(ifi->ifi_index == 0);
  CHECK(ifi->ifi_change == IFF_UP);
  CHECK(ifi->ifi_flags == 0);
  auto attrs = LinkAttributesOf(down.header());
  CHECK(StringOf(attrs[IFLA_IFNAME]) == "eth0");
  CHECK(attrs.size() == 1);

  const Request nomaster = EncodeSetLink("eth0", {.master_index = 0});
  ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nomaster.header()));
  CHECK(ifi->ifi_change == 0);
  attrs = LinkAttributesOf(nomaster.header());
  REQUIRE(attrs[IFLA_MASTER] != nullptr);
  CHECK(mnl_attr_get_u32(attrs[IFLA_MASTER]) == 0);
}

// A kernel-like RTM_NEWLINK.
Request LinkReply(const std::function<void(Request&)>& add_attributes) {
  ifinfomsg* ifi;
  Request reply = Request::WithHeader(RTM_NEWLINK, NLM_F_MULTI, &ifi);
  ifi->ifi_index = 4;
  ifi->ifi_flags = IFF_UP | IFF_BROADCAST;
  add_attributes(reply);
  return reply;
}

TEST_CASE("netlink: links decode from RTM_NEWLINK", "[netlink]") {
  const MacAddress mac = {0x02, 0x42, 0xac, 0x11, 0x00, 0x02};
  const Request reply = LinkReply([&](Request& r) {
    r.PutString(IFLA_IFNAME, "vethwepl1");
    r.PutU32(IFLA_MTU, 1376);
    r.PutBytes(IFLA_ADDRESS, mac);
    r.PutU32(IFLA_MASTER, 3);
    r.PutU32(9999 & 0x3fff, 1);  // An attribute from a newer kernel.
    nlattr* info = r.BeginNest(IFLA_LINKINFO);
    r.PutString(IFLA_INFO_KIND, "veth");
    r.EndNest(info);
  });
  ASSIGN_OR_REQUIRE(const LinkInfo link, DecodeLink(*reply.header()));
  CHECK(link == LinkInfo{.index = 4,
                         .name = "vethwepl1",
                         .kind = "veth",
                         .mac = mac,
                         .mtu = 1376,
                         .up = true,
                         .master_index = 3});

  // lo and the like: no kind, no master; an L3 device's address is not a MAC.
  const Request plain = LinkReply([](Request& r) {
    r.PutString(IFLA_IFNAME, "tun0");
    r.PutBytes(IFLA_ADDRESS, std::vector<uint8_t>{10, 0, 0, 1});
  });
  ASSIGN_OR_REQUIRE(const LinkInfo tun, DecodeLink(*plain.header()));
  CHECK(tun.kind.empty());
  CHECK(tun.master_index == 0);
  CHECK(tun.mac == MacAddress{});

  // A creation request is a link message too: what we send, we can read back.
  ASSIGN_OR_REQUIRE(const LinkInfo bridge, DecodeLink(*EncodeCreateBridge("weave", 1376).header()));
  CHECK(bridge.name == "weave");
  CHECK(bridge.kind == "bridge");
  CHECK(bridge.mtu == 1376);
}

TEST_CASE("netlink: malformed link messages are errors, not crashes", "[netlink]") {
  auto expect_internal = [](const Request& reply) {
    const absl::StatusOr<LinkInfo> link = DecodeLink(*reply.header());
    INFO(link.status().ToString());
    CHECK(link.status().code() == absl::StatusCode::kInternal);
  };
  // An MTU of the wrong size.
  expect_internal(LinkReply([](Request& r) {
    r.PutString(IFLA_IFNAME, "x");
    r.PutBytes(IFLA_MTU, std::vector<uint8_t>{1, 2});
  }));
  // No name.
  expect_internal(LinkReply([](Request& r) { r.PutU32(IFLA_MTU, 1500); }));
  // A nest whose content is garbage.
  expect_internal(LinkReply([](Request& r) {
    r.PutString(IFLA_IFNAME, "x");
    nlattr* info = r.BeginNest(IFLA_LINKINFO);
    r.PutBytes(IFLA_INFO_KIND, {});
    r.EndNest(info);
  }));
  // Too short for its header.
  Request short_reply = LinkReply([](Request&) {});
  short_reply.header()->nlmsg_len = MNL_NLMSG_HDRLEN + 4;
  expect_internal(short_reply);
  // Not a link message at all.
  expect_internal(EncodeAddAddress(1, Cidr("10.0.0.1/8")));

  // A name without its NUL and an attribute overrunning the message are read safely.
  Request unterminated = LinkReply([](Request& r) {
    r.PutBytes(IFLA_IFNAME, std::vector<uint8_t>{'a', 'b', 'c'});
    r.PutU32(IFLA_MTU, 1500);
  });
  auto* mtu = reinterpret_cast<nlattr*>(reinterpret_cast<uint8_t*>(unterminated.header()) +
                                        unterminated.header()->nlmsg_len - 8);
  mtu->nla_len = 200;
  ASSIGN_OR_REQUIRE(const LinkInfo link, DecodeLink(*unterminated.header()));
  CHECK(link.name == "abc");
  CHECK(link.mtu == 0);
}

TEST_CASE("netlink: isolation and flushing are nested IFLA_PROTINFO of AF_BRIDGE RTM_SETLINK",
          "[netlink]") {
  auto protinfo_of = [](const Request& request) {
    const nlmsghdr* header = request.header();
    CHECK(header->nlmsg_type == RTM_SETLINK);
    CHECK(header->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK));
    const auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(header));
    CHECK(ifi->ifi_family == AF_BRIDGE);
    CHECK(ifi->ifi_index == 9);
    auto top = LinkAttributesOf(header);
    CHECK(top.size() == 1);
    return Nested(top[IFLA_PROTINFO]);
  };
  for (bool on : {true, false}) {
    const Request isolate = EncodeSetIsolated(9, on);
    auto protinfo = protinfo_of(isolate);
    REQUIRE(protinfo[IFLA_BRPORT_ISOLATED] != nullptr);
    CHECK(mnl_attr_get_payload_len(protinfo[IFLA_BRPORT_ISOLATED]) == 1);
    CHECK(mnl_attr_get_u8(protinfo[IFLA_BRPORT_ISOLATED]) == (on ? 1 : 0));
  }
  const Request flush = EncodeFlushLearned(9);
  auto protinfo = protinfo_of(flush);
  REQUIRE(protinfo[IFLA_BRPORT_FLUSH] != nullptr);
  CHECK(mnl_attr_get_payload_len(protinfo[IFLA_BRPORT_FLUSH]) == 0);  // A flag.
  CHECK(protinfo.size() == 1);
}

TEST_CASE("netlink: a VXLAN device is created with its VNI, port, learning, no checksums, TTL 64",
          "[netlink]") {
  const VxlanSpec spec{
      .name = "vxlan-weave", .vni = 0xabcdef, .port = 4789, .mtu = 1376, .learning = false};
  const Request request = EncodeCreateVxlan(spec);
  const nlmsghdr* header = request.header();
  CHECK(header->nlmsg_type == RTM_NEWLINK);
  CHECK(header->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL));
  auto top = LinkAttributesOf(header);
  CHECK(StringOf(top[IFLA_IFNAME]) == "vxlan-weave");
  CHECK(mnl_attr_get_u32(top[IFLA_MTU]) == 1376);
  auto link_info = Nested(top[IFLA_LINKINFO]);
  CHECK(StringOf(link_info[IFLA_INFO_KIND]) == "vxlan");
  auto data = Nested(link_info[IFLA_INFO_DATA]);
  CHECK(mnl_attr_get_u32(data[IFLA_VXLAN_ID]) == 0xabcdef);
  // The port goes in network byte order: 4789 = 0x12b5.
  REQUIRE(mnl_attr_get_payload_len(data[IFLA_VXLAN_PORT]) == 2);
  const auto* port = static_cast<const uint8_t*>(mnl_attr_get_payload(data[IFLA_VXLAN_PORT]));
  CHECK(std::vector<uint8_t>(port, port + 2) == std::vector<uint8_t>{0x12, 0xb5});
  CHECK(mnl_attr_get_u8(data[IFLA_VXLAN_LEARNING]) == 0);
  CHECK(mnl_attr_get_u8(data[IFLA_VXLAN_UDP_CSUM]) == 0);
  CHECK(mnl_attr_get_u8(data[IFLA_VXLAN_TTL]) == 64);
  // Nothing that would tie it to an address, a device or a default remote.
  for (uint16_t absent : {IFLA_VXLAN_LOCAL, IFLA_VXLAN_LINK, IFLA_VXLAN_GROUP}) {
    CHECK(data.count(absent) == 0);
  }
  CHECK(data.size() == 5);
}

TEST_CASE("netlink: VXLAN settings decode from RTM_NEWLINK, for VXLAN devices only", "[netlink]") {
  // What we send, we can read back.
  const VxlanSpec spec{.name = "vx0", .vni = 42, .port = 8472, .mtu = 1410, .learning = true};
  ASSIGN_OR_REQUIRE(const std::optional<VxlanSpec> decoded,
                    DecodeVxlan(*EncodeCreateVxlan(spec).header()));
  CHECK(decoded == spec);
  ASSIGN_OR_REQUIRE(const LinkInfo link, DecodeLink(*EncodeCreateVxlan(spec).header()));
  CHECK(link.kind == "vxlan");

  ASSIGN_OR_REQUIRE(const std::optional<VxlanSpec> bridge,
                    DecodeVxlan(*EncodeCreateBridge("weave", 1376).header()));
  CHECK_FALSE(bridge);

  auto vxlan_reply = [](const std::function<void(Request&)>& add_data) {
    return LinkReply([&](Request& r) {
      r.PutString(IFLA_IFNAME, "vx0");
      r.PutU32(IFLA_MTU, 1410);
      nlattr* info = r.BeginNest(IFLA_LINKINFO);
      r.PutString(IFLA_INFO_KIND, "vxlan");
      nlattr* data = r.BeginNest(IFLA_INFO_DATA);
      add_data(r);
      r.EndNest(data);
      r.EndNest(info);
    });
  };
  // As the kernel sends it, with attributes we do not read.
  const Request kernel = vxlan_reply([](Request& r) {
    r.PutU32(IFLA_VXLAN_ID, 42);
    r.PutU8(IFLA_VXLAN_TTL, 0);
    r.PutU8(IFLA_VXLAN_LEARNING, 1);
    r.PutU32(IFLA_VXLAN_AGEING, 300);
    r.PutBe16(IFLA_VXLAN_PORT, 8472);
  });
  CHECK(*DecodeVxlan(*kernel.header()) == spec);

  auto expect_internal = [](const Request& reply) {
    const absl::StatusOr<std::optional<VxlanSpec>> vxlan = DecodeVxlan(*reply.header());
    INFO(vxlan.status().ToString());
    CHECK(vxlan.status().code() == absl::StatusCode::kInternal);
  };
  expect_internal(vxlan_reply([](Request& r) {  // A port of the wrong size.
    r.PutU32(IFLA_VXLAN_ID, 42);
    r.PutU32(IFLA_VXLAN_PORT, 8472);
    r.PutU8(IFLA_VXLAN_LEARNING, 1);
  }));
  expect_internal(vxlan_reply([](Request& r) {  // No VNI.
    r.PutBe16(IFLA_VXLAN_PORT, 8472);
    r.PutU8(IFLA_VXLAN_LEARNING, 1);
  }));
  expect_internal(vxlan_reply([](Request& r) {  // Garbage inside IFLA_INFO_DATA.
    r.PutBytes(IFLA_VXLAN_ID, std::vector<uint8_t>{1});
  }));
  expect_internal(vxlan_reply([](Request&) {}));  // No settings at all.
}

TEST_CASE("netlink: addresses decode from RTM_NEWADDR, IPv4 only", "[netlink]") {
  ASSIGN_OR_REQUIRE(const std::optional<AddressEntry> entry,
                    DecodeAddress(*EncodeAddAddress(5, Cidr("10.32.0.1/12")).header()));
  CHECK(entry == AddressEntry{5, Cidr("10.32.0.1/12")});

  ifaddrmsg* ifa;
  Request ipv6 = Request::WithHeader(RTM_NEWADDR, 0, &ifa);
  ifa->ifa_family = AF_INET6;
  ifa->ifa_prefixlen = 64;
  ASSIGN_OR_REQUIRE(const std::optional<AddressEntry> none, DecodeAddress(*ipv6.header()));
  CHECK_FALSE(none);

  Request bad = Request::WithHeader(RTM_NEWADDR, 0, &ifa);
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = 24;
  CHECK(DecodeAddress(*bad.header()).status().code() == absl::StatusCode::kInternal);
  ifa->ifa_prefixlen = 33;
  bad.PutIpv4(IFA_LOCAL, Ip("10.0.0.1"));
  CHECK(DecodeAddress(*bad.header()).status().code() == absl::StatusCode::kInternal);
}

TEST_CASE("netlink: routes decode from RTM_NEWROUTE, main-table unicast only", "[netlink]") {
  const RouteEntry default_route{Cidr("0.0.0.0/0"), Ip("10.32.0.1"), 7};
  ASSIGN_OR_REQUIRE(const std::optional<RouteEntry> decoded,
                    DecodeRoute(*EncodeAddRoute(default_route).header()));
  CHECK(decoded == default_route);
  const RouteEntry connected{Cidr("10.32.0.0/12"), std::nullopt, 3};
  CHECK(*DecodeRoute(*EncodeAddRoute(connected).header()) == connected);

  auto decode_with = [](const std::function<void(rtmsg&, Request&)>& change) {
    Request request = EncodeAddRoute({Cidr("10.0.0.0/8"), std::nullopt, 3});
    change(*static_cast<rtmsg*>(mnl_nlmsg_get_payload(request.header())), request);
    return DecodeRoute(*request.header());
  };
  CHECK(decode_with([](rtmsg& rtm, Request&) { rtm.rtm_table = RT_TABLE_LOCAL; }).value() ==
        std::nullopt);
  CHECK(decode_with([](rtmsg&, Request& r) { r.PutU32(RTA_TABLE, 1000); }).value() == std::nullopt);
  CHECK(decode_with([](rtmsg& rtm, Request&) { rtm.rtm_type = RTN_BLACKHOLE; }).value() ==
        std::nullopt);
  CHECK(decode_with([](rtmsg& rtm, Request&) { rtm.rtm_family = AF_INET6; }).value() ==
        std::nullopt);
  CHECK(decode_with([](rtmsg&, Request& r) {
          r.PutBytes(RTA_MULTIPATH, std::vector<uint8_t>(8));
        }).value() == std::nullopt);
  CHECK(decode_with([](rtmsg& rtm, Request&) { rtm.rtm_dst_len = 40; }).status().code() ==
        absl::StatusCode::kInternal);
  CHECK(decode_with([](rtmsg&, Request& r) { r.PutU8(RTA_GATEWAY, 1); }).status().code() ==
        absl::StatusCode::kInternal);
}

TEST_CASE("netlink: dumps ask the kernel to filter and to skip statistics", "[netlink]") {
  const Request links = EncodeListLinks();
  CHECK((links.header()->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP);
  const Request addresses = EncodeListAddresses(6);
  const auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(addresses.header()));
  CHECK(ifa->ifa_family == AF_INET);
  CHECK(ifa->ifa_index == 6);
  const Request routes = EncodeListRoutes();
  const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(routes.header()));
  CHECK(rtm->rtm_family == AF_INET);
  CHECK(rtm->rtm_table == RT_TABLE_MAIN);
  for (const Request& get : {EncodeGetLink("weave"), EncodeGetLink(3), links}) {
    auto attrs = LinkAttributesOf(get.header());
    REQUIRE(attrs[IFLA_EXT_MASK] != nullptr);
    CHECK(mnl_attr_get_u32(attrs[IFLA_EXT_MASK]) == RTEXT_FILTER_SKIP_STATS);
    CHECK((get.header()->nlmsg_flags & NLM_F_ACK) == 0);
  }
}

// An NLMSG_ERROR as the kernel sends it, capped (NETLINK_CAP_ACK) or with the request echoed.
Request ErrorReply(int error, bool capped, absl::string_view text) {
  nlmsgerr* err;
  Request reply = Request::WithHeader(NLMSG_ERROR, 0, &err);
  err->error = -error;
  err->msg.nlmsg_len = MNL_NLMSG_HDRLEN + (capped ? 0 : 16);
  reply.header()->nlmsg_flags = capped ? NLM_F_CAPPED : 0;
  if (!capped) reply.PutZeros(16);
  if (!text.empty()) {
    reply.header()->nlmsg_flags |= NLM_F_ACK_TLVS;
    reply.PutString(NLMSGERR_ATTR_MSG, text);
  }
  return reply;
}

TEST_CASE("netlink: errors and acks decode with the kernel's explanation", "[netlink]") {
  for (bool capped : {true, false}) {
    INFO("capped: " << capped);
    ASSIGN_OR_REQUIRE(
        const KernelError error,
        DecodeError(*ErrorReply(ENETUNREACH, capped, "Nexthop has invalid gateway").header()));
    CHECK(error.error == ENETUNREACH);
    CHECK(error.message == "Nexthop has invalid gateway");
    ASSIGN_OR_REQUIRE(const KernelError ack, DecodeError(*ErrorReply(0, capped, "").header()));
    CHECK(ack.error == 0);
    CHECK(ack.message.empty());
  }
  // An echoed request longer than the message itself.
  Request lying = ErrorReply(EEXIST, false, "x");
  static_cast<nlmsgerr*>(mnl_nlmsg_get_payload(lying.header()))->msg.nlmsg_len = 4000;
  CHECK(DecodeError(*lying.header()).status().code() == absl::StatusCode::kInternal);

  int* done_error;
  Request done = Request::WithHeader(NLMSG_DONE, NLM_F_MULTI, &done_error);
  *done_error = -EINTR;
  ASSIGN_OR_REQUIRE(const KernelError interrupted, DecodeDone(*done.header()));
  CHECK(interrupted.error == EINTR);
}

}  // namespace
}  // namespace weave::netlink
