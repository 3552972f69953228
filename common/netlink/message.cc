#include "common/netlink/message.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/netlink/attributes.h"
#include "common/status_macros.h"

namespace weave::netlink {
namespace {

[[noreturn]] void RequestOverflow() {
  std::fprintf(stderr, "netlink request outgrew its %zu-byte buffer\n", Request::kCapacity);
  std::abort();
}

constexpr AttrSpec kLinkSpecs[] = {
    {IFLA_IFNAME, MNL_TYPE_STRING},   {IFLA_MTU, MNL_TYPE_U32},
    {IFLA_ADDRESS, MNL_TYPE_UNSPEC},  {IFLA_MASTER, MNL_TYPE_U32},
    {IFLA_LINKINFO, MNL_TYPE_NESTED},
};
constexpr AttrSpec kLinkInfoSpecs[] = {{IFLA_INFO_KIND, MNL_TYPE_STRING}};
constexpr AttrSpec kLinkDataSpecs[] = {{IFLA_INFO_DATA, MNL_TYPE_NESTED}};
constexpr AttrSpec kVxlanSpecs[] = {
    {IFLA_VXLAN_ID, MNL_TYPE_U32},
    {IFLA_VXLAN_PORT, MNL_TYPE_U16},
    {IFLA_VXLAN_LEARNING, MNL_TYPE_U8},
};
constexpr AttrSpec kAddressSpecs[] = {
    {IFA_LOCAL, MNL_TYPE_UNSPEC, 4},
    {IFA_ADDRESS, MNL_TYPE_UNSPEC, 4},
};
constexpr AttrSpec kRouteSpecs[] = {
    {RTA_DST, MNL_TYPE_UNSPEC, 4}, {RTA_GATEWAY, MNL_TYPE_UNSPEC, 4}, {RTA_OIF, MNL_TYPE_U32},
    {RTA_TABLE, MNL_TYPE_U32},     {RTA_MULTIPATH, MNL_TYPE_UNSPEC},
};
constexpr AttrSpec kErrorSpecs[] = {{NLMSGERR_ATTR_MSG, MNL_TYPE_STRING}};

constexpr uint16_t kCreate = NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;

Request LinkRequest(uint16_t type, uint16_t flags, uint8_t family = AF_UNSPEC, int index = 0) {
  ifinfomsg* ifi;
  Request request = Request::WithHeader(type, flags, &ifi);
  ifi->ifi_family = family;
  ifi->ifi_index = index;
  return request;
}

// An RTM_NEWLINK creating `name` with `mtu`, its IFLA_LINKINFO nest left open after
// IFLA_INFO_KIND `kind` for the caller to complete and end.
Request NewLinkRequest(absl::string_view name, int mtu, absl::string_view kind,
                       nlattr** link_info) {
  Request request = LinkRequest(RTM_NEWLINK, kCreate);
  request.PutString(IFLA_IFNAME, name);
  request.PutU32(IFLA_MTU, static_cast<uint32_t>(mtu));
  *link_info = request.BeginNest(IFLA_LINKINFO);
  request.PutString(IFLA_INFO_KIND, kind);
  return request;
}

// An AF_BRIDGE RTM_SETLINK of the bridge port's settings that `put` adds inside IFLA_PROTINFO.
template <typename Put>
Request SetPortRequest(int port_index, Put put) {
  Request request = LinkRequest(RTM_SETLINK, NLM_F_ACK, AF_BRIDGE, port_index);
  nlattr* protinfo = request.BeginNest(IFLA_PROTINFO);
  put(request);
  request.EndNest(protinfo);
  return request;
}

Request AddressRequest(uint16_t type, uint16_t flags, int index, int prefix_length) {
  ifaddrmsg* ifa;
  Request request = Request::WithHeader(type, flags, &ifa);
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = static_cast<uint8_t>(prefix_length);
  ifa->ifa_index = static_cast<uint32_t>(index);
  return request;
}

// A route request in the main table; zero protocol and type match any when deleting.
Request RouteRequest(uint16_t type, uint16_t flags, const RouteEntry& route, uint8_t scope,
                     uint8_t protocol, uint8_t route_type) {
  rtmsg* rtm;
  Request request = Request::WithHeader(type, flags, &rtm);
  rtm->rtm_family = AF_INET;
  rtm->rtm_dst_len = static_cast<uint8_t>(route.dst.prefix_length());
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_scope = scope;
  rtm->rtm_protocol = protocol;
  rtm->rtm_type = route_type;
  if (route.dst.prefix_length() > 0) request.PutIpv4(RTA_DST, route.dst.address());
  if (route.gateway) request.PutIpv4(RTA_GATEWAY, *route.gateway);
  if (route.oif > 0) request.PutU32(RTA_OIF, static_cast<uint32_t>(route.oif));
  return request;
}

// The extended ack's message in an NLMSG_ERROR or NLMSG_DONE whose attributes start at `offset`.
absl::StatusOr<std::string> ExtackMessage(const nlmsghdr& message, size_t offset) {
  if (!(message.nlmsg_flags & NLM_F_ACK_TLVS)) return std::string();
  if (offset > mnl_nlmsg_get_payload_len(&message)) return Malformed(message, "truncated");
  ASSIGN_OR_RETURN(const Attributes attrs, Attributes::OfMessage(message, offset, kErrorSpecs));
  return attrs.String(NLMSGERR_ATTR_MSG).value_or("");
}

}  // namespace

Request::Request(uint16_t type, uint16_t flags) {
  nlmsghdr* header = mnl_nlmsg_put_header(buffer_.data());
  header->nlmsg_type = type;
  header->nlmsg_flags = NLM_F_REQUEST | flags;
}

void Request::Put(uint16_t type, size_t size, const void* data) {
  if (!mnl_attr_put_check(header(), kCapacity, type, size, data)) RequestOverflow();
}

void Request::PutU8(uint16_t type, uint8_t value) { Put(type, sizeof(value), &value); }

void Request::PutU32(uint16_t type, uint32_t value) { Put(type, sizeof(value), &value); }

void Request::PutBe16(uint16_t type, uint16_t value) {
  const uint16_t network_order = htons(value);
  Put(type, sizeof(network_order), &network_order);
}

void Request::PutIpv4(uint16_t type, net::Ipv4 address) {
  const uint32_t network_order = htonl(address.value());
  Put(type, sizeof(network_order), &network_order);
}

void Request::PutString(uint16_t type, absl::string_view value) {
  const std::string terminated(value);
  Put(type, terminated.size() + 1, terminated.c_str());
}

void Request::PutBytes(uint16_t type, absl::Span<const uint8_t> value) {
  Put(type, value.size(), value.data());
}

void Request::PutFlag(uint16_t type) {
  constexpr uint8_t kNothing = 0;  // A valid pointer for the empty copy.
  Put(type, 0, &kNothing);
}

void* Request::PutZeros(size_t size) {
  if (header()->nlmsg_len + MNL_ALIGN(size) > kCapacity) RequestOverflow();
  return mnl_nlmsg_put_extra_header(header(), size);
}

nlattr* Request::BeginNest(uint16_t type) {
  nlattr* nest = mnl_attr_nest_start_check(header(), kCapacity, type);
  if (nest == nullptr) RequestOverflow();
  return nest;
}

void Request::EndNest(nlattr* nest) { mnl_attr_nest_end(header(), nest); }

// ---- Links ----

Request EncodeGetLink(absl::string_view name) {
  Request request = LinkRequest(RTM_GETLINK, 0);
  request.PutString(IFLA_IFNAME, name);
  request.PutU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  return request;
}

Request EncodeGetLink(int index) {
  Request request = LinkRequest(RTM_GETLINK, 0, AF_UNSPEC, index);
  request.PutU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  return request;
}

Request EncodeListLinks() {
  Request request = LinkRequest(RTM_GETLINK, NLM_F_DUMP);
  request.PutU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  return request;
}

Request EncodeCreateBridge(absl::string_view name, int mtu) {
  nlattr* link_info;
  Request request = NewLinkRequest(name, mtu, "bridge", &link_info);
  request.EndNest(link_info);
  return request;
}

Request EncodeCreateVeth(absl::string_view name, absl::string_view peer_name, int mtu,
                         int peer_netns_fd) {
  nlattr* link_info;
  Request request = NewLinkRequest(name, mtu, "veth", &link_info);
  nlattr* info_data = request.BeginNest(IFLA_INFO_DATA);
  nlattr* peer = request.BeginNest(VETH_INFO_PEER);
  request.PutZeros(sizeof(ifinfomsg));
  request.PutString(IFLA_IFNAME, peer_name);
  request.PutU32(IFLA_MTU, static_cast<uint32_t>(mtu));
  if (peer_netns_fd >= 0) request.PutU32(IFLA_NET_NS_FD, static_cast<uint32_t>(peer_netns_fd));
  request.EndNest(peer);
  request.EndNest(info_data);
  request.EndNest(link_info);
  return request;
}

Request EncodeDeleteLink(absl::string_view name) {
  Request request = LinkRequest(RTM_DELLINK, NLM_F_ACK);
  request.PutString(IFLA_IFNAME, name);
  return request;
}

Request EncodeDeleteLinkByIndex(int index) {
  return LinkRequest(RTM_DELLINK, NLM_F_ACK, AF_UNSPEC, index);
}

Request EncodeSetLink(absl::string_view name, const LinkChange& change) {
  ifinfomsg* ifi;
  Request request = Request::WithHeader(RTM_SETLINK, NLM_F_ACK, &ifi);
  ifi->ifi_family = AF_UNSPEC;
  if (change.up) {
    ifi->ifi_change = IFF_UP;
    ifi->ifi_flags = *change.up ? IFF_UP : 0;
  }
  request.PutString(IFLA_IFNAME, name);
  if (change.mtu) request.PutU32(IFLA_MTU, static_cast<uint32_t>(*change.mtu));
  if (change.mac) request.PutBytes(IFLA_ADDRESS, *change.mac);
  if (change.master_index) request.PutU32(IFLA_MASTER, static_cast<uint32_t>(*change.master_index));
  return request;
}

Request EncodeCreateVxlan(const VxlanSpec& spec) {
  constexpr uint8_t kTtl = 64;
  nlattr* link_info;
  Request request = NewLinkRequest(spec.name, spec.mtu, "vxlan", &link_info);
  nlattr* info_data = request.BeginNest(IFLA_INFO_DATA);
  request.PutU32(IFLA_VXLAN_ID, spec.vni);
  request.PutBe16(IFLA_VXLAN_PORT, spec.port);
  request.PutU8(IFLA_VXLAN_LEARNING, spec.learning ? 1 : 0);
  request.PutU8(IFLA_VXLAN_UDP_CSUM, 0);
  request.PutU8(IFLA_VXLAN_TTL, kTtl);
  request.EndNest(info_data);
  request.EndNest(link_info);
  return request;
}

Request EncodeSetHairpin(int port_index, bool on) {
  return SetPortRequest(port_index, [on](Request& request) {
    request.PutU8(IFLA_BRPORT_MODE, on ? BRIDGE_MODE_HAIRPIN : BRIDGE_MODE_UNSPEC);
  });
}

Request EncodeSetIsolated(int port_index, bool on) {
  return SetPortRequest(
      port_index, [on](Request& request) { request.PutU8(IFLA_BRPORT_ISOLATED, on ? 1 : 0); });
}

Request EncodeFlushLearned(int port_index) {
  return SetPortRequest(port_index, [](Request& request) { request.PutFlag(IFLA_BRPORT_FLUSH); });
}

absl::StatusOr<LinkInfo> DecodeLink(const nlmsghdr& message) {
  ASSIGN_OR_RETURN(const ifinfomsg* ifi, FamilyHeader<ifinfomsg>(message, RTM_NEWLINK));
  ASSIGN_OR_RETURN(const Attributes attrs,
                   Attributes::OfMessage(message, sizeof(ifinfomsg), kLinkSpecs));
  ASSIGN_OR_RETURN(const Attributes info, attrs.OfNest(message, IFLA_LINKINFO, kLinkInfoSpecs));
  std::optional<std::string> name = attrs.String(IFLA_IFNAME);
  if (!name || name->empty()) return Malformed(message, "no IFLA_IFNAME");
  LinkInfo link;
  link.index = ifi->ifi_index;
  link.name = std::move(*name);
  link.kind = info.String(IFLA_INFO_KIND).value_or("");
  // Only Ethernet-like links have a 6-byte address; others (an L3 tun) keep zeros.
  if (const nlattr* address = attrs.Get(IFLA_ADDRESS);
      address != nullptr && mnl_attr_get_payload_len(address) == link.mac.size()) {
    std::memcpy(link.mac.data(), mnl_attr_get_payload(address), link.mac.size());
  }
  link.mtu = static_cast<int>(attrs.U32(IFLA_MTU).value_or(0));
  link.up = (ifi->ifi_flags & IFF_UP) != 0;
  link.master_index = static_cast<int>(attrs.U32(IFLA_MASTER).value_or(0));
  return link;
}

absl::StatusOr<std::optional<VxlanSpec>> DecodeVxlan(const nlmsghdr& message) {
  ASSIGN_OR_RETURN(const LinkInfo link, DecodeLink(message));
  if (link.kind != "vxlan") return std::nullopt;
  ASSIGN_OR_RETURN(const Attributes attrs,
                   Attributes::OfMessage(message, sizeof(ifinfomsg), kLinkSpecs));
  ASSIGN_OR_RETURN(const Attributes info, attrs.OfNest(message, IFLA_LINKINFO, kLinkDataSpecs));
  ASSIGN_OR_RETURN(const Attributes data, info.OfNest(message, IFLA_INFO_DATA, kVxlanSpecs));
  const std::optional<uint32_t> vni = data.U32(IFLA_VXLAN_ID);
  const std::optional<uint16_t> port = data.Be16(IFLA_VXLAN_PORT);
  const std::optional<uint8_t> learning = data.U8(IFLA_VXLAN_LEARNING);
  if (!vni || !port || !learning) {
    return Malformed(message, "a VXLAN device without IFLA_VXLAN_ID, _PORT or _LEARNING");
  }
  return VxlanSpec{link.name, *vni, *port, link.mtu, *learning != 0};
}

// ---- Addresses ----

Request EncodeAddAddress(int index, const net::Cidr& address) {
  Request request = AddressRequest(RTM_NEWADDR, kCreate, index, address.prefix_length());
  request.PutIpv4(IFA_LOCAL, address.address());
  request.PutIpv4(IFA_ADDRESS, address.address());
  if (address.prefix_length() < 31) request.PutIpv4(IFA_BROADCAST, address.last());
  return request;
}

Request EncodeDeleteAddress(int index, const net::Cidr& address) {
  Request request = AddressRequest(RTM_DELADDR, NLM_F_ACK, index, address.prefix_length());
  request.PutIpv4(IFA_LOCAL, address.address());
  request.PutIpv4(IFA_ADDRESS, address.address());
  return request;
}

Request EncodeListAddresses(int index) { return AddressRequest(RTM_GETADDR, NLM_F_DUMP, index, 0); }

absl::StatusOr<std::optional<AddressEntry>> DecodeAddress(const nlmsghdr& message) {
  ASSIGN_OR_RETURN(const ifaddrmsg* ifa, FamilyHeader<ifaddrmsg>(message, RTM_NEWADDR));
  if (ifa->ifa_family != AF_INET) return std::nullopt;
  if (ifa->ifa_prefixlen > 32) return Malformed(message, "IPv4 prefix length over 32");
  ASSIGN_OR_RETURN(const Attributes attrs,
                   Attributes::OfMessage(message, sizeof(ifaddrmsg), kAddressSpecs));
  // IFA_LOCAL is the interface's own address; IFA_ADDRESS differs only on point-to-point links.
  std::optional<net::Ipv4> local = attrs.Ipv4(IFA_LOCAL);
  if (!local) local = attrs.Ipv4(IFA_ADDRESS);
  if (!local) return Malformed(message, "no IFA_LOCAL or IFA_ADDRESS");
  return AddressEntry{static_cast<int>(ifa->ifa_index), net::Cidr(*local, ifa->ifa_prefixlen)};
}

// ---- Routes ----

Request EncodeAddRoute(const RouteEntry& route) {
  return RouteRequest(RTM_NEWROUTE, kCreate, route,
                      route.gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK, RTPROT_BOOT, RTN_UNICAST);
}

Request EncodeDeleteRoute(const RouteEntry& route) {
  return RouteRequest(RTM_DELROUTE, NLM_F_ACK, route, RT_SCOPE_NOWHERE, RTPROT_UNSPEC, RTN_UNSPEC);
}

Request EncodeListRoutes() {
  rtmsg* rtm;
  Request request = Request::WithHeader(RTM_GETROUTE, NLM_F_DUMP, &rtm);
  rtm->rtm_family = AF_INET;
  rtm->rtm_table = RT_TABLE_MAIN;
  return request;
}

absl::StatusOr<std::optional<RouteEntry>> DecodeRoute(const nlmsghdr& message) {
  ASSIGN_OR_RETURN(const rtmsg* rtm, FamilyHeader<rtmsg>(message, RTM_NEWROUTE));
  if (rtm->rtm_family != AF_INET) return std::nullopt;
  if (rtm->rtm_dst_len > 32) return Malformed(message, "IPv4 prefix length over 32");
  ASSIGN_OR_RETURN(const Attributes attrs,
                   Attributes::OfMessage(message, sizeof(rtmsg), kRouteSpecs));
  const uint32_t table = attrs.U32(RTA_TABLE).value_or(rtm->rtm_table);
  if (table != RT_TABLE_MAIN || rtm->rtm_type != RTN_UNICAST ||
      (rtm->rtm_flags & RTM_F_CLONED) != 0 || attrs.Get(RTA_MULTIPATH) != nullptr) {
    return std::nullopt;
  }
  RouteEntry route;
  route.dst = net::Cidr(attrs.Ipv4(RTA_DST).value_or(net::Ipv4()), rtm->rtm_dst_len);
  route.gateway = attrs.Ipv4(RTA_GATEWAY);
  route.oif = static_cast<int>(attrs.U32(RTA_OIF).value_or(0));
  return route;
}

// ---- Answers ----

absl::StatusOr<KernelError> DecodeError(const nlmsghdr& message) {
  ASSIGN_OR_RETURN(const nlmsgerr* err, FamilyHeader<nlmsgerr>(message, NLMSG_ERROR));
  if (err->error > 0) return Malformed(message, "positive error");
  // Without NETLINK_CAP_ACK the request follows in full before the extended ack.
  const size_t offset = (message.nlmsg_flags & NLM_F_CAPPED)
                            ? sizeof(nlmsgerr)
                            : sizeof(err->error) + size_t{err->msg.nlmsg_len};
  ASSIGN_OR_RETURN(std::string text, ExtackMessage(message, offset));
  return KernelError{-err->error, std::move(text)};
}

absl::StatusOr<KernelError> DecodeDone(const nlmsghdr& message) {
  if (message.nlmsg_type != NLMSG_DONE) return Malformed(message, "expected NLMSG_DONE");
  int error = 0;
  if (mnl_nlmsg_get_payload_len(&message) >= sizeof(error)) {
    std::memcpy(&error, mnl_nlmsg_get_payload(&message), sizeof(error));
  }
  if (error > 0) return Malformed(message, "positive error");
  ASSIGN_OR_RETURN(std::string text, ExtackMessage(message, sizeof(error)));
  return KernelError{-error, std::move(text)};
}

}  // namespace weave::netlink
