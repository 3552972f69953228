#include "common/netlink/types.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace weave::netlink {

std::string FormatMac(const MacAddress& mac) {
  return absl::StrFormat("%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
                         mac[5]);
}

absl::StatusOr<MacAddress> ParseMac(absl::string_view text) {
  const std::vector<absl::string_view> parts = absl::StrSplit(text, ':');
  MacAddress mac{};
  bool ok = parts.size() == mac.size();
  for (size_t i = 0; ok && i < parts.size(); ++i) {
    uint32_t byte = 0;
    ok = parts[i].size() == 2 && absl::ascii_isxdigit(parts[i][0]) &&
         absl::ascii_isxdigit(parts[i][1]) && absl::SimpleHexAtoi(parts[i], &byte);
    mac[i] = static_cast<uint8_t>(byte);
  }
  if (!ok) return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is not a MAC address"));
  return mac;
}

std::string Route::ToString() const {
  std::string text =
      dst.prefix_length() == 0 && dst.address() == net::Ipv4() ? "default" : dst.ToString();
  if (gateway) absl::StrAppend(&text, " via ", gateway->ToString());
  if (!dev.empty()) absl::StrAppend(&text, " dev ", dev);
  return text;
}

std::string FdbEntry::ToString() const {
  std::string text = FormatMac(mac);
  if (dst) absl::StrAppend(&text, " dst ", dst->ToString());
  absl::StrAppend(&text, self ? " self" : " master");
  if (permanent) absl::StrAppend(&text, " permanent");
  return text;
}

std::ostream& operator<<(std::ostream& out, const LinkInfo& link) {
  return out << link.index << ": " << link.name << " kind=" << link.kind
             << " mac=" << FormatMac(link.mac) << " mtu=" << link.mtu << (link.up ? " up" : " down")
             << " master=" << link.master_index;
}

std::ostream& operator<<(std::ostream& out, const Route& route) { return out << route.ToString(); }

std::ostream& operator<<(std::ostream& out, const VxlanSpec& spec) {
  return out << spec.name << " vni=" << spec.vni << " port=" << spec.port << " mtu=" << spec.mtu
             << (spec.learning ? " learning" : " nolearning");
}

std::ostream& operator<<(std::ostream& out, const FdbEntry& entry) {
  return out << entry.ToString();
}

absl::Status ValidateLinkName(absl::string_view name) {
  constexpr size_t kMaxNameLength = 15;  // IFNAMSIZ - 1
  const bool valid = !name.empty() && name.size() <= kMaxNameLength && name != "." &&
                     name != ".." && std::none_of(name.begin(), name.end(), [](char c) {
                       return c == '/' || c == ':' || absl::ascii_isspace(c) || c == '\0';
                     });
  if (valid) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "\"", name, "\" is not a valid interface name (1 to 15 bytes, no '/', ':' or spaces)"));
}

absl::Status ValidateRoute(const Route& route) {
  if (!route.dst.IsNetwork()) {
    return absl::InvalidArgumentError(absl::StrCat("route destination ", route.dst.ToString(),
                                                   " has host bits set (the network is ",
                                                   route.dst.Network().ToString(), ")"));
  }
  if (route.dev.empty()) {
    if (route.gateway) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat("route to ", route.dst.ToString(), " has neither a gateway nor a device"));
  }
  return ValidateLinkName(route.dev);
}

absl::Status ValidateUnicastMac(const MacAddress& mac) {
  const bool multicast = (mac[0] & 1) != 0;
  const bool zero = mac == MacAddress{};
  if (!multicast && !zero) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(FormatMac(mac), " is not a unicast MAC address an interface can take"));
}

absl::Status ValidateVxlanSpec(const VxlanSpec& spec) {
  constexpr uint32_t kMaxVni = (uint32_t{1} << 24) - 1;
  if (spec.vni > kMaxVni) {
    return absl::InvalidArgumentError(
        absl::StrCat("VNI ", spec.vni, " does not fit in 24 bits (at most ", kMaxVni, ")"));
  }
  if (spec.port == 0) {
    return absl::InvalidArgumentError("UDP port 0 is not a VXLAN destination port");
  }
  return ValidateLinkName(spec.name);
}

absl::Status ValidateIsVxlan(const LinkInfo& link) {
  if (link.kind == "vxlan") return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(link.name, " is not a VXLAN device (its kind is \"", link.kind, "\")"));
}

}  // namespace weave::netlink
