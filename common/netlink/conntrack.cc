#include "common/netlink/conntrack.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/netlink/errors.h"
#include "common/netlink/netns.h"
#include "common/status_macros.h"

namespace weave::netlink::conntrack {
namespace {

constexpr uint16_t MessageType(uint8_t ctnetlink_message) {
  return static_cast<uint16_t>((NFNL_SUBSYS_CTNETLINK << 8) | ctnetlink_message);
}

constexpr uint8_t kUdpLite = 136;
constexpr uint8_t kDccp = 33;
constexpr uint8_t kGre = 47;

// At least MNL_SOCKET_BUFFER_SIZE, and more than the largest datagram the kernel builds for a
// dump (32 KiB): a bigger one would be truncated, which libmnl reports as ENOSPC.
constexpr size_t kReceiveBufferSize = 64 * 1024;

// The kernel answers within microseconds; a request unanswered for this long means a lost reply,
// and waiting forever would hang the controller.
constexpr timeval kReceiveTimeout = {.tv_sec = 10, .tv_usec = 0};

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
std::vector<uint8_t> Request(uint8_t ctnetlink_message, uint16_t flags, PutAttributes put) {
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

// The text of the kernel's extended ack after an nlmsgerr, if it sent one.
std::string ExtendedAckText(absl::Span<const uint8_t> message, const nlmsghdr& header,
                            const nlmsgerr& error) {
  if ((header.nlmsg_flags & NLM_F_ACK_TLVS) == 0) return {};
  size_t offset = NLMSG_HDRLEN + sizeof(nlmsgerr);
  if ((header.nlmsg_flags & NLM_F_CAPPED) == 0 && error.msg.nlmsg_len > NLMSG_HDRLEN) {
    offset += NLMSG_ALIGN(error.msg.nlmsg_len - NLMSG_HDRLEN);
  }
  if (offset >= message.size()) return {};
  absl::StatusOr<AttributeTable<NLMSGERR_ATTR_MAX>> tlvs =
      ParseAttributes<NLMSGERR_ATTR_MAX>(message.subspan(offset), "the extended ack");
  if (!tlvs.ok() || !(*tlvs)[NLMSGERR_ATTR_MSG].has_value()) return {};
  const absl::Span<const uint8_t> text = *(*tlvs)[NLMSGERR_ATTR_MSG];
  const auto end = std::find(text.begin(), text.end(), '\0');
  return std::string(text.begin(), end);
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
  return Request(IPCTNL_MSG_CT_GET, NLM_F_DUMP, [](nlmsghdr*) {});
}

std::vector<uint8_t> EncodeDeleteRequest(const Flow& flow) {
  return Request(IPCTNL_MSG_CT_DELETE, NLM_F_ACK, [&](nlmsghdr* header) {
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
  mnl_socket* socket = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
  if (socket == nullptr) return ErrnoStatus(errno, "opening a ctnetlink socket");
  if (mnl_socket_bind(socket, 0, MNL_SOCKET_AUTOPID) < 0 ||
      setsockopt(mnl_socket_get_fd(socket), SOL_SOCKET, SO_RCVTIMEO, &kReceiveTimeout,
                 sizeof(kReceiveTimeout)) < 0) {
    const int error = errno;
    mnl_socket_close(socket);
    return ErrnoStatus(error, "setting up a ctnetlink socket");
  }
  // Acks without a copy of the request, with the kernel's error text where it has one.
  int on = 1;
  for (int option : {NETLINK_EXT_ACK, NETLINK_CAP_ACK}) {
    (void)mnl_socket_setsockopt(socket, option, &on, sizeof(on));
  }
  return std::unique_ptr<Conntrack>(new Conntrack(socket));
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

Conntrack::Conntrack(mnl_socket* socket)
    : socket_(socket), port_id_(mnl_socket_get_portid(socket)), buffer_(kReceiveBufferSize) {}

Conntrack::~Conntrack() { mnl_socket_close(socket_); }

absl::StatusOr<std::vector<Flow>> Conntrack::List() {
  std::vector<Flow> flows;
  ASSIGN_OR_RETURN(const Answer answer,
                   Exchange(EncodeListRequest(), "listing conntrack entries",
                            [&](absl::Span<const uint8_t> message) -> absl::Status {
                              ASSIGN_OR_RETURN(std::optional<Flow> flow, DecodeFlow(message));
                              if (flow.has_value()) flows.push_back(*flow);
                              return absl::OkStatus();
                            }));
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
    const absl::StatusOr<Answer> answer = Exchange(
        EncodeDeleteRequest(flow), absl::StrCat("deleting conntrack entry ", flow.ToString()),
        [](absl::Span<const uint8_t>) { return absl::OkStatus(); });
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

absl::StatusOr<Conntrack::Answer> Conntrack::Exchange(std::vector<uint8_t> request,
                                                      absl::string_view what,
                                                      const MessageHandler& on_message) {
  auto* request_header = reinterpret_cast<nlmsghdr*>(request.data());
  const uint32_t seq = ++last_seq_;
  request_header->nlmsg_seq = seq;
  while (mnl_socket_sendto(socket_, request.data(), request.size()) < 0) {
    if (errno != EINTR) return ErrnoStatus(errno, what);
  }
  // The first error of `on_message` is returned once the answer has been read in full, so that
  // the next request starts clean (stale answers would be skipped by their sequence number, too).
  absl::Status handler_status;
  while (true) {
    const ssize_t received = mnl_socket_recvfrom(socket_, buffer_.data(), buffer_.size());
    if (received < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, absl::StrCat(what, ": reading the answer"));
    }
    int remaining = static_cast<int>(received);
    for (auto* message = reinterpret_cast<const nlmsghdr*>(buffer_.data());
         mnl_nlmsg_ok(message, remaining); message = mnl_nlmsg_next(message, &remaining)) {
      if (message->nlmsg_seq != seq || !mnl_nlmsg_portid_ok(message, port_id_)) continue;
      const absl::Span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(message),
                                            message->nlmsg_len);
      switch (message->nlmsg_type) {
        case NLMSG_NOOP:
          continue;
        case NLMSG_OVERRUN:
          return ErrnoStatus(ENOBUFS, what);
        case NLMSG_ERROR: {
          if (message->nlmsg_len < NLMSG_HDRLEN + sizeof(nlmsgerr)) {
            return Annotate(
                Malformed(absl::StrCat("an error message of ", message->nlmsg_len, " bytes")),
                what);
          }
          nlmsgerr error;
          std::memcpy(&error, mnl_nlmsg_get_payload(message), sizeof(error));
          if (error.error != 0) {
            return Answer{ErrnoStatus(-error.error, what, ExtendedAckText(bytes, *message, error))};
          }
          return Answer{Annotate(handler_status, what)};
        }
        case NLMSG_DONE: {
          int error = 0;
          if (message->nlmsg_len >= NLMSG_HDRLEN + sizeof(error)) {
            std::memcpy(&error, mnl_nlmsg_get_payload(message), sizeof(error));
          }
          if (error < 0) return Answer{ErrnoStatus(-error, what)};
          return Answer{Annotate(handler_status, what)};
        }
        default:
          if (handler_status.ok()) handler_status = on_message(bytes);
      }
    }
  }
}

}  // namespace weave::netlink::conntrack
