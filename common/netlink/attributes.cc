#include "common/netlink/attributes.h"

#include <arpa/inet.h>
#include <linux/rtnetlink.h>

#include <cstring>

namespace weave::netlink {

std::string MessageName(uint16_t type) {
  switch (type) {
    case RTM_NEWLINK:
      return "RTM_NEWLINK";
    case RTM_NEWADDR:
      return "RTM_NEWADDR";
    case RTM_NEWROUTE:
      return "RTM_NEWROUTE";
    case RTM_NEWNEIGH:
      return "RTM_NEWNEIGH";
    case NLMSG_ERROR:
      return "NLMSG_ERROR";
    case NLMSG_DONE:
      return "NLMSG_DONE";
    default:
      return absl::StrCat("netlink message type ", type);
  }
}

absl::Status Malformed(const nlmsghdr& message, absl::string_view why) {
  return absl::InternalError(
      absl::StrCat("malformed ", MessageName(message.nlmsg_type), " message: ", why));
}

absl::StatusOr<Attributes> Attributes::OfMessage(const nlmsghdr& message, size_t offset,
                                                 absl::Span<const AttrSpec> specs) {
  Attributes attributes(specs);
  if (mnl_attr_parse(&message, offset, &Attributes::Collect, &attributes) == MNL_CB_ERROR) {
    return Malformed(message, attributes.error_);
  }
  return attributes;
}

absl::StatusOr<Attributes> Attributes::OfNest(const nlmsghdr& message, uint16_t type,
                                              absl::Span<const AttrSpec> specs) const {
  Attributes nested(specs);
  if (const nlattr* nest = Get(type);
      nest != nullptr &&
      mnl_attr_parse_nested(nest, &Attributes::Collect, &nested) == MNL_CB_ERROR) {
    return Malformed(message, nested.error_);
  }
  return nested;
}

size_t Attributes::Length(uint16_t type) const {
  const nlattr* attr = Get(type);
  return attr != nullptr ? mnl_attr_get_payload_len(attr) : 0;
}

std::optional<uint8_t> Attributes::U8(uint16_t type) const {
  const nlattr* attr = Get(type);
  return attr != nullptr ? std::optional<uint8_t>(mnl_attr_get_u8(attr)) : std::nullopt;
}

std::optional<uint32_t> Attributes::U32(uint16_t type) const {
  const nlattr* attr = Get(type);
  return attr != nullptr ? std::optional<uint32_t>(mnl_attr_get_u32(attr)) : std::nullopt;
}

std::optional<uint16_t> Attributes::Be16(uint16_t type) const {
  const nlattr* attr = Get(type);
  return attr != nullptr ? std::optional<uint16_t>(ntohs(mnl_attr_get_u16(attr))) : std::nullopt;
}

std::optional<net::Ipv4> Attributes::Ipv4(uint16_t type) const {
  const nlattr* attr = Get(type);
  if (attr == nullptr || mnl_attr_get_payload_len(attr) != sizeof(uint32_t)) return std::nullopt;
  uint32_t network_order;
  std::memcpy(&network_order, mnl_attr_get_payload(attr), sizeof(network_order));
  return net::Ipv4(ntohl(network_order));
}

std::optional<std::string> Attributes::String(uint16_t type) const {
  const nlattr* attr = Get(type);
  if (attr == nullptr) return std::nullopt;
  const char* data = static_cast<const char*>(mnl_attr_get_payload(attr));
  return std::string(data, strnlen(data, mnl_attr_get_payload_len(attr)));
}

int Attributes::Collect(const nlattr* attr, void* data) {
  auto* self = static_cast<Attributes*>(data);
  const uint16_t type = mnl_attr_get_type(attr);
  for (const AttrSpec& spec : self->specs_) {
    if (spec.type != type) continue;
    const int valid = spec.length == 0 ? mnl_attr_validate(attr, spec.data_type)
                                       : mnl_attr_validate2(attr, spec.data_type, spec.length);
    if (valid < 0) {
      self->error_ = absl::StrCat("attribute ", type, " has a bad size (",
                                  mnl_attr_get_payload_len(attr), " bytes)");
      return MNL_CB_ERROR;
    }
    self->table_[type] = attr;
  }
  return MNL_CB_OK;
}

}  // namespace weave::netlink
