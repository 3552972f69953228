#include "common/net/ip.h"

#include <arpa/inet.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace weave::net {

absl::StatusOr<Ipv4> Ipv4::Parse(absl::string_view text) {
  in_addr parsed{};
  // inet_pton needs a NUL-terminated string and, unlike inet_aton, accepts only a dotted quad.
  if (inet_pton(AF_INET, std::string(text).c_str(), &parsed) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" is not an IPv4 address"));
  }
  return Ipv4(ntohl(parsed.s_addr));
}

std::string Ipv4::ToString() const {
  return absl::StrFormat("%d.%d.%d.%d", value_ >> 24, (value_ >> 16) & 0xff,
                         (value_ >> 8) & 0xff, value_ & 0xff);
}

Cidr::Cidr(Ipv4 address, int prefix_length)
    : address_(address), prefix_length_(prefix_length) {}

absl::StatusOr<Cidr> Cidr::Parse(absl::string_view text) {
  size_t slash = text.find('/');
  if (slash == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" is not a CIDR (expected address/prefix-length)"));
  }
  absl::StatusOr<Ipv4> address = Ipv4::Parse(text.substr(0, slash));
  int prefix = -1;
  absl::string_view prefix_text = text.substr(slash + 1);
  if (!address.ok() || prefix_text.empty() || prefix_text.size() > 2 ||
      !absl::SimpleAtoi(prefix_text, &prefix) || prefix < 0 || prefix > 32) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", text, "\" is not a CIDR (expected an IPv4 address and a prefix length 0..32)"));
  }
  return Cidr(*address, prefix);
}

uint32_t Cidr::mask() const {
  return prefix_length_ == 0 ? 0 : ~uint32_t{0} << (32 - prefix_length_);
}

Ipv4 Cidr::network() const { return Ipv4(address_.value() & mask()); }

Ipv4 Cidr::last() const { return Ipv4(network().value() | ~mask()); }

bool Cidr::Contains(Ipv4 ip) const { return (ip.value() & mask()) == network().value(); }

bool Cidr::Contains(const Cidr& other) const {
  return other.prefix_length_ >= prefix_length_ && Contains(other.network());
}

bool Cidr::Overlaps(const Cidr& other) const {
  return Contains(other.network()) || other.Contains(network());
}

std::string Cidr::ToString() const {
  return absl::StrCat(address_.ToString(), "/", prefix_length_);
}

absl::StatusOr<HostPort> HostPort::Parse(absl::string_view text,
                                         std::optional<uint16_t> default_port) {
  auto invalid = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" ", why));
  };
  HostPort result;
  size_t colon = text.rfind(':');
  if (colon == absl::string_view::npos) {
    if (!default_port) return invalid("has no port (expected host:port)");
    result.host = std::string(text);
    result.port = *default_port;
  } else {
    result.host = std::string(text.substr(0, colon));
    int port = 0;
    if (!absl::SimpleAtoi(text.substr(colon + 1), &port) || port < 1 || port > 65535) {
      return invalid("has an invalid port (expected host:port with port 1..65535)");
    }
    result.port = static_cast<uint16_t>(port);
  }
  // A DNS name or an IPv4 address: letters, digits, '.', '-' and '_' only.
  if (result.host.empty() ||
      result.host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789.-_") != std::string::npos) {
    return invalid("has an invalid host (expected host:port)");
  }
  return result;
}

std::string HostPort::ToString() const { return absl::StrCat(host, ":", port); }

}  // namespace weave::net
