// Inside layer 2 of the adapter: how the decoders (message.cc, fdb_message.cc) read a message
// they did not write without trusting it. Internal to common/netlink.
#pragma once

#include <libmnl/libmnl.h>
#include <linux/netlink.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/net/ip.h"

namespace weave::netlink {

// "RTM_NEWLINK", "NLMSG_ERROR", or "netlink message type 42", for errors.
std::string MessageName(uint16_t type);

// The Internal error for a message that is not what rtnetlink sends: "malformed RTM_NEWLINK
// message: no IFLA_IFNAME".
absl::Status Malformed(const nlmsghdr& message, absl::string_view why);

// The family header after the netlink header, once the message is known to have `expected_type`
// and to hold the header.
template <typename T>
absl::StatusOr<const T*> FamilyHeader(const nlmsghdr& message, uint16_t expected_type) {
  if (message.nlmsg_type != expected_type) {
    return absl::InternalError(absl::StrCat("expected ", MessageName(expected_type), ", got ",
                                            MessageName(message.nlmsg_type)));
  }
  if (message.nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(T)) {
    return Malformed(message, absl::StrCat(message.nlmsg_len, " bytes is too short"));
  }
  return static_cast<const T*>(mnl_nlmsg_get_payload(&message));
}

// What an attribute we read must look like; others are skipped.
struct AttrSpec {
  uint16_t type;
  mnl_attr_data_type data_type;
  size_t length = 0;  // Exact payload size; 0 = the type's own (any for UNSPEC and strings).
};

// The attributes of a message or a nest that match their specs, validated: an accessor returns a
// value only for an attribute that has its spec's size, so reading it cannot overrun.
class Attributes {
 public:
  static constexpr uint16_t kMaxType = 63;

  // The attributes after the first `offset` bytes of the message's payload.
  static absl::StatusOr<Attributes> OfMessage(const nlmsghdr& message, size_t offset,
                                              absl::Span<const AttrSpec> specs);
  // The attributes inside this one's nest `type` (none when it is absent); errors name `message`.
  absl::StatusOr<Attributes> OfNest(const nlmsghdr& message, uint16_t type,
                                    absl::Span<const AttrSpec> specs) const;

  const nlattr* Get(uint16_t type) const { return type <= kMaxType ? table_[type] : nullptr; }
  size_t Length(uint16_t type) const;  // The payload size; 0 when absent.

  std::optional<uint8_t> U8(uint16_t type) const;
  std::optional<uint32_t> U32(uint16_t type) const;
  std::optional<uint16_t> Be16(uint16_t type) const;  // Network byte order on the wire.
  // Network byte order on the wire; nullopt unless the payload has 4 bytes.
  std::optional<net::Ipv4> Ipv4(uint16_t type) const;
  // Up to the first NUL, so that a string without one cannot be overread.
  std::optional<std::string> String(uint16_t type) const;

 private:
  explicit Attributes(absl::Span<const AttrSpec> specs) : specs_(specs) {}

  static int Collect(const nlattr* attr, void* data);

  absl::Span<const AttrSpec> specs_;
  std::array<const nlattr*, kMaxType + 1> table_{};
  std::string error_;
};

}  // namespace weave::netlink
