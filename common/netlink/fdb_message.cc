// Layer 2 for the forwarding database: AF_BRIDGE neighbour messages (declared in message.h).
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>

#include "common/netlink/attributes.h"
#include "common/netlink/message.h"
#include "common/status_macros.h"

namespace weave::netlink {
namespace {

constexpr size_t kIpv4Length = 4;
constexpr size_t kIpv6Length = 16;

constexpr AttrSpec kFdbSpecs[] = {
    {NDA_LLADDR, MNL_TYPE_UNSPEC},
    {NDA_DST, MNL_TYPE_UNSPEC},
};

// An AF_BRIDGE neighbour request about the device `index`.
Request FdbRequest(uint16_t type, uint16_t flags, int index, uint16_t state, uint8_t ntf_flags) {
  ndmsg* ndm;
  Request request = Request::WithHeader(type, flags, &ndm);
  ndm->ndm_family = AF_BRIDGE;
  ndm->ndm_ifindex = index;
  ndm->ndm_state = state;
  ndm->ndm_flags = ntf_flags;
  return request;
}

// A permanent entry of the device's own table, as `bridge fdb ... self permanent` names it.
Request SelfEntryRequest(uint16_t type, uint16_t flags, int index, const MacAddress& mac,
                         net::Ipv4 dst) {
  Request request = FdbRequest(type, flags, index, NUD_PERMANENT | NUD_NOARP, NTF_SELF);
  request.PutBytes(NDA_LLADDR, mac);
  request.PutIpv4(NDA_DST, dst);
  return request;
}

}  // namespace

Request EncodeAddFdb(int index, const MacAddress& mac, net::Ipv4 dst) {
  return SelfEntryRequest(RTM_NEWNEIGH, NLM_F_ACK | NLM_F_CREATE | NLM_F_APPEND, index, mac, dst);
}

Request EncodeDeleteFdb(int index, const MacAddress& mac, net::Ipv4 dst) {
  return SelfEntryRequest(RTM_DELNEIGH, NLM_F_ACK, index, mac, dst);
}

// A strict socket rejects a dump request with any state or flags set.
Request EncodeListFdb(int index) { return FdbRequest(RTM_GETNEIGH, NLM_F_DUMP, index, 0, 0); }

absl::StatusOr<std::optional<FdbRecord>> DecodeFdb(const nlmsghdr& message) {
  ASSIGN_OR_RETURN(const ndmsg* ndm, FamilyHeader<ndmsg>(message, RTM_NEWNEIGH));
  if (ndm->ndm_family != AF_BRIDGE) return std::nullopt;
  ASSIGN_OR_RETURN(const Attributes attrs,
                   Attributes::OfMessage(message, sizeof(ndmsg), kFdbSpecs));
  FdbRecord record;
  record.index = ndm->ndm_ifindex;
  const nlattr* lladdr = attrs.Get(NDA_LLADDR);
  if (lladdr == nullptr) return Malformed(message, "no NDA_LLADDR");
  if (attrs.Length(NDA_LLADDR) != record.entry.mac.size()) return std::nullopt;
  std::memcpy(record.entry.mac.data(), mnl_attr_get_payload(lladdr), record.entry.mac.size());
  switch (attrs.Length(NDA_DST)) {
    case 0:
      break;
    case kIpv4Length:
      record.entry.dst = attrs.Ipv4(NDA_DST);
      break;
    case kIpv6Length:
      return std::nullopt;
    default:
      return Malformed(message, "NDA_DST is neither IPv4 nor IPv6");
  }
  record.entry.permanent = (ndm->ndm_state & NUD_PERMANENT) != 0;
  record.entry.self = (ndm->ndm_flags & NTF_SELF) != 0;
  return record;
}

}  // namespace weave::netlink
