#include "common/netlink/conntrack.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/netlink/netns.h"
#include "common/netlink/socket.h"
#include "common/status_macros.h"

namespace weave::netlink::conntrack {
namespace {

constexpr uint16_t MessageType(uint8_t ctnetlink_message) {
  return static_cast<uint16_t>((NFNL_SUBSYS_CTNETLINK << 8) | ctnetlink_message);
}

constexpr uint8_t kUdpLite = 136;
constexpr uint8_t kDccp = 33;
constexpr uint8_t kGre = 47;

std::string ProtocolName(uint8_t protocol) {
  switch (protocol) {
    case kIcmp:
      return "icmp";
    case kTcp:
      return "tcp";
    case kUdp:
      return "udp";
    case kSctp:
      return "sctp";
    case kUdpLite:
      return "udplite";
    case kDccp:
      return "dccp";
    case kGre:
      return "gre";
    default:
      return absl::StrCat("protocol ", protocol);
  }
}

// ---- Encoding ----

// A request of `ctnetlink_message` for IPv4, `flags` | NLM_F_REQUEST, filled in by `put`.
template <typename PutAttributes>
std::vector<uint8_t> CtnetlinkRequest(uint8_t ctnetlink_message, uint16_t flags,
                                      PutAttributes put) {
  // Requests are a few dozen bytes; a page is plenty, and libmnl does not check.
  std::vector<uint8_t> buffer(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* header = mnl_nlmsg_put_header(buffer.data());
  header->nlmsg_type = MessageType(ctnetlink_message);
  header->nlmsg_flags = NLM_F_REQUEST | flags;
  auto* family = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(header, sizeof(nfgenmsg)));
  family->nfgen_family = AF_INET;
  family->version = NFNETLINK_V0;
  family->res_id = 0;
  put(header);
  buffer.resize(header->nlmsg_len);
  return buffer;
}

// ---- Decoding ----

absl::Status Malformed(absl::string_view why) {
  return absl::InternalError(absl::StrCat("malformed conntrack message: ", why));
}

// The payloads of one level of attributes by type, pointing into the message. As in the kernel,
// the flag bits of the type are ignored, a later attribute of a type replaces an earlier one and
// types above kMax are skipped.
template <size_t kMax>
using AttributeTable = std::array<std::optional<absl::Span<const uint8_t>>, kMax + 1>;

template <size_t kMax>
absl::StatusOr<AttributeTable<kMax>> ParseAttributes(absl::Span<const uint8_t> data,
                                                     absl::string_view where) {
  AttributeTable<kMax> table;
  while (!data.empty()) {
    if (data.size() < sizeof(nlattr)) {
      return Malformed(absl::StrCat(where, " ends in ", data.size(), " stray bytes"));
    }
    nlattr header;
    std::memcpy(&header, data.data(), sizeof(header));
    const uint16_t type = header.nla_type & NLA_TYPE_MASK;
    if (header.nla_len < NLA_HDRLEN || header.nla_len > data.size()) {
      return Malformed(absl::StrCat("attribute ", type, " in ", where, " claims ", header.nla_len,
                                    " bytes of ", data.size()));
    }
    if (type <= kMax) table[type] = data.subspan(NLA_HDRLEN, header.nla_len - NLA_HDRLEN);
    data.remove_prefix(std::min<size_t>(data.size(), NLA_ALIGN(header.nla_len)));
  }
  return table;
}

// A fixed-size attribute, in the byte order it has on the wire.
template <typename T>
absl::StatusOr<std::optional<T>> Optional(const std::optional<absl::Span<const uint8_t>>& payload,
                                          absl::string_view name) {
  if (!payload.has_value()) return std::nullopt;
  if (payload->size() != sizeof(T)) {
    return Malformed(absl::StrCat(name, " has ", payload->size(), " bytes, not ", sizeof(T)));
  }
  T value;
  std::memcpy(&value, payload->data(), sizeof(T));
  return value;
}

template <typename T>
absl::StatusOr<T> Required(const std::optional<absl::Span<const uint8_t>>& payload,
                           absl::string_view name) {
  ASSIGN_OR_RETURN(std::optional<T> value, Optional<T>(payload, name));
  if (!value.has_value()) return Malformed(absl::StrCat("no ", name));
  return *value;
}

template <size_t kMax>
absl::StatusOr<AttributeTable<kMax>> RequiredNest(
    const std::optional<absl::Span<const uint8_t>>& payload, absl::string_view name) {
  if (!payload.has_value()) return Malformed(absl::StrCat("no ", name));
  return ParseAttributes<kMax>(*payload, name);
}

// The ports (or ICMP identity) of CTA_TUPLE_PROTO into `flow`.
absl::Status DecodeProto(const AttributeTable<CTA_PROTO_MAX>& proto, Flow& flow) {
  ASSIGN_OR_RETURN(flow.protocol, Required<uint8_t>(proto[CTA_PROTO_NUM], "CTA_PROTO_NUM"));
  if (flow.protocol == kIcmp) {
    ASSIGN_OR_RETURN(const uint16_t id,
                     Required<uint16_t>(proto[CTA_PROTO_ICMP_ID], "CTA_PROTO_ICMP_ID"));
    flow.icmp.id = ntohs(id);
    ASSIGN_OR_RETURN(flow.icmp.type,
                     Required<uint8_t>(proto[CTA_PROTO_ICMP_TYPE], "CTA_PROTO_ICMP_TYPE"));
    ASSIGN_OR_RETURN(flow.icmp.code,
                     Required<uint8_t>(proto[CTA_PROTO_ICMP_CODE], "CTA_PROTO_ICMP_CODE"));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(std::optional<uint16_t> sport,
                   Optional<uint16_t>(proto[CTA_PROTO_SRC_PORT], "CTA_PROTO_SRC_PORT"));
  ASSIGN_OR_RETURN(std::optional<uint16_t> dport,
                   Optional<uint16_t>(proto[CTA_PROTO_DST_PORT], "CTA_PROTO_DST_PORT"));
  // The kernel always sends the ports of TCP and UDP; without them the entry could not be deleted.
  if ((flow.protocol == kTcp || flow.protocol == kUdp) &&
      (!sport.has_value() || !dport.has_value())) {
    return Malformed(absl::StrCat("no ports for ", ProtocolName(flow.protocol)));
  }
  flow.sport = ntohs(sport.value_or(0));
  flow.dport = ntohs(dport.value_or(0));
  return absl::OkStatus();
}

// The message an encoder wrote, for NetlinkSocket (a vector's bytes come from operator new,
// aligned for nlmsghdr).
nlmsghdr& Header(std::vector<uint8_t>& request) {
  return *reinterpret_cast<nlmsghdr*>(request.data());
}

}  // namespace

std::string Flow::ToString() const {
  std::string text;
  if (protocol == kIcmp) {
    text = absl::StrCat("icmp ", saddr.ToString(), " -> ", daddr.ToString(), " type ", icmp.type,
                        " code ", icmp.code, " id ", icmp.id);
  } else {
    text = absl::StrCat(ProtocolName(protocol), " ", saddr.ToString(), ":", sport, " -> ",
                        daddr.ToString(), ":", dport);
  }
  if (zone != 0) absl::StrAppend(&text, " zone ", zone);
  return text;
}

std::vector<uint8_t> EncodeListRequest() {
  return CtnetlinkRequest(IPCTNL_MSG_CT_GET, NLM_F_DUMP, [](nlmsghdr*) {});
}

std::vector<uint8_t> EncodeDeleteRequest(const Flow& flow) {
  return CtnetlinkRequest(IPCTNL_MSG_CT_DELETE, NLM_F_ACK, [&](nlmsghdr* header) {
    nlattr* tuple = mnl_attr_nest_start(header, CTA_TUPLE_ORIG);
    nlattr* ip = mnl_attr_nest_start(header, CTA_TUPLE_IP);
    mnl_attr_put_u32(header, CTA_IP_V4_SRC, htonl(flow.saddr.value()));
    mnl_attr_put_u32(header, CTA_IP_V4_DST, htonl(flow.daddr.value()));
    mnl_attr_nest_end(header, ip);
    nlattr* proto = mnl_attr_nest_start(header, CTA_TUPLE_PROTO);
    mnl_attr_put_u8(header, CTA_PROTO_NUM, flow.protocol);
    if (flow.protocol == kIcmp) {
      // The kernel's ICMP tuple needs all three (icmp_nlattr_to_tuple).
      mnl_attr_put_u16(header, CTA_PROTO_ICMP_ID, htons(flow.icmp.id));
      mnl_attr_put_u8(header, CTA_PROTO_ICMP_TYPE, flow.icmp.type);
      mnl_attr_put_u8(header, CTA_PROTO_ICMP_CODE, flow.icmp.code);
    } else {
      // Protocols with ports (and GRE, whose keys travel here) need both; protocols the kernel
      // tracks generically ignore them.
      mnl_attr_put_u16(header, CTA_PROTO_SRC_PORT, htons(flow.sport));
      mnl_attr_put_u16(header, CTA_PROTO_DST_PORT, htons(flow.dport));
    }
    mnl_attr_nest_end(header, proto);
    mnl_attr_nest_end(header, tuple);
    if (flow.zone != 0) mnl_attr_put_u16(header, CTA_ZONE, htons(flow.zone));
  });
}

absl::StatusOr<std::optional<Flow>> DecodeFlow(absl::Span<const uint8_t> message) {
  if (message.size() < NLMSG_HDRLEN) {
    return Malformed(absl::StrCat(message.size(), " bytes is too short for a netlink header"));
  }
  nlmsghdr header;
  std::memcpy(&header, message.data(), sizeof(header));
  if (header.nlmsg_len < NLMSG_HDRLEN || header.nlmsg_len > message.size()) {
    return Malformed(absl::StrCat("nlmsg_len ", header.nlmsg_len, " for a message of ",
                                  message.size(), " bytes"));
  }
  if (header.nlmsg_type != MessageType(IPCTNL_MSG_CT_NEW)) {
    return absl::InternalError(absl::StrCat("expected a conntrack entry (IPCTNL_MSG_CT_NEW), got ",
                                            "netlink message type 0x",
                                            absl::Hex(header.nlmsg_type)));
  }
  const absl::Span<const uint8_t> payload =
      message.subspan(NLMSG_HDRLEN, header.nlmsg_len - NLMSG_HDRLEN);
  if (payload.size() < NLMSG_ALIGN(sizeof(nfgenmsg))) {
    return Malformed(absl::StrCat(header.nlmsg_len, " bytes is too short for an nfgenmsg"));
  }
  nfgenmsg family;
  std::memcpy(&family, payload.data(), sizeof(family));
  if (family.nfgen_family != AF_INET) return std::nullopt;

  ASSIGN_OR_RETURN(
      const AttributeTable<CTA_MAX> entry,
      ParseAttributes<CTA_MAX>(payload.subspan(NLMSG_ALIGN(sizeof(nfgenmsg))), "the entry"));
  ASSIGN_OR_RETURN(const AttributeTable<CTA_TUPLE_MAX> tuple,
                   RequiredNest<CTA_TUPLE_MAX>(entry[CTA_TUPLE_ORIG], "CTA_TUPLE_ORIG"));
  ASSIGN_OR_RETURN(const AttributeTable<CTA_IP_MAX> ip,
                   RequiredNest<CTA_IP_MAX>(tuple[CTA_TUPLE_IP], "CTA_TUPLE_IP"));
  ASSIGN_OR_RETURN(const uint32_t saddr, Required<uint32_t>(ip[CTA_IP_V4_SRC], "CTA_IP_V4_SRC"));
  ASSIGN_OR_RETURN(const uint32_t daddr, Required<uint32_t>(ip[CTA_IP_V4_DST], "CTA_IP_V4_DST"));
  Flow flow;
  flow.saddr = net::Ipv4(ntohl(saddr));
  flow.daddr = net::Ipv4(ntohl(daddr));
  ASSIGN_OR_RETURN(const AttributeTable<CTA_PROTO_MAX> proto,
                   RequiredNest<CTA_PROTO_MAX>(tuple[CTA_TUPLE_PROTO], "CTA_TUPLE_PROTO"));
  RETURN_IF_ERROR(DecodeProto(proto, flow));
  // A zone of both directions comes as CTA_ZONE; one of the original direction only as the
  // tuple's CTA_TUPLE_ZONE. Either way, CTA_ZONE in a delete request finds the entry.
  ASSIGN_OR_RETURN(std::optional<uint16_t> zone, Optional<uint16_t>(entry[CTA_ZONE], "CTA_ZONE"));
  ASSIGN_OR_RETURN(std::optional<uint16_t> tuple_zone,
                   Optional<uint16_t>(tuple[CTA_TUPLE_ZONE], "CTA_TUPLE_ZONE"));
  flow.zone = ntohs(zone.value_or(tuple_zone.value_or(0)));
  return flow;
}

// ---- The socket ----

absl::StatusOr<std::unique_ptr<Conntrack>> Conntrack::Open() {
  ASSIGN_OR_RETURN(std::unique_ptr<NetlinkSocket> socket, NetlinkSocket::Open(NETLINK_NETFILTER));
  return std::unique_ptr<Conntrack>(new Conntrack(std::move(socket)));
}

absl::StatusOr<std::unique_ptr<Conntrack>> Conntrack::OpenInNamespace(
    const std::string& netns_path) {
  absl::StatusOr<std::unique_ptr<Conntrack>> opened;
  RETURN_IF_ERROR(RunInNetns(netns_path, [&] {
    opened = Open();
    return opened.status();
  }));
  return opened;
}

Conntrack::Conntrack(std::unique_ptr<NetlinkSocket> socket) : socket_(std::move(socket)) {}

Conntrack::~Conntrack() = default;

absl::StatusOr<std::vector<Flow>> Conntrack::List() {
  std::vector<uint8_t> request = EncodeListRequest();
  std::vector<Flow> flows;
  const auto add = [&](const nlmsghdr& message) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<Flow> flow,
                     DecodeFlow({reinterpret_cast<const uint8_t*>(&message), message.nlmsg_len}));
    if (flow.has_value()) flows.push_back(*flow);
    return absl::OkStatus();
  };
  ASSIGN_OR_RETURN(const NetlinkSocket::Answer answer,
                   socket_->Exchange(Header(request), "listing conntrack entries", add));
  RETURN_IF_ERROR(answer.status);
  return flows;
}

absl::StatusOr<int> Conntrack::DeleteIf(const std::function<bool(const Flow&)>& doomed) {
  ASSIGN_OR_RETURN(const std::vector<Flow> flows, List());
  int deleted = 0;
  int refusals = 0;
  absl::Status first_refusal;
  for (const Flow& flow : flows) {
    if (!doomed(flow)) continue;
    std::vector<uint8_t> request = EncodeDeleteRequest(flow);
    const absl::StatusOr<NetlinkSocket::Answer> answer = socket_->Exchange(
        Header(request), absl::StrCat("deleting conntrack entry ", flow.ToString()),
        [](const nlmsghdr&) { return absl::OkStatus(); });
    if (!answer.ok()) {
      return absl::Status(answer.status().code(), absl::StrCat(answer.status().message(), " (",
                                                               deleted, " entries deleted)"));
    }
    if (answer->status.ok()) {
      ++deleted;
    } else if (!absl::IsNotFound(answer->status) && refusals++ == 0) {
      first_refusal = answer->status;
    }
  }
  if (refusals > 0) {
    return absl::Status(first_refusal.code(),
                        absl::StrCat(first_refusal.message(), " (", refusals - 1, " more refused; ",
                                     deleted, " entries deleted)"));
  }
  return deleted;
}

}  // namespace weave::netlink::conntrack
