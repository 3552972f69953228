// IPv4 addresses, CIDR blocks and host:port endpoints as plain values.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace weave::net {

class Ipv4 {
 public:
  constexpr Ipv4() = default;
  constexpr explicit Ipv4(uint32_t host_order) : value_(host_order) {}

  // Strict dotted quad ("10.32.0.1"); anything else is InvalidArgument.
  static absl::StatusOr<Ipv4> Parse(absl::string_view text);

  constexpr uint32_t value() const { return value_; }
  std::string ToString() const;

  friend constexpr auto operator<=>(Ipv4, Ipv4) = default;

 private:
  uint32_t value_ = 0;
};

// An address with a prefix length: either a network ("10.32.0.0/12") or an interface
// address within its subnet ("10.32.0.1/12"). Parse keeps the host bits; IsNetwork() tells.
class Cidr {
 public:
  constexpr Cidr() = default;
  Cidr(Ipv4 address, int prefix_length);

  static absl::StatusOr<Cidr> Parse(absl::string_view text);

  Ipv4 address() const { return address_; }
  int prefix_length() const { return prefix_length_; }
  uint32_t mask() const;
  Ipv4 network() const;  // first address
  Ipv4 last() const;     // last address (broadcast)
  Cidr Network() const { return Cidr(network(), prefix_length_); }
  bool IsNetwork() const { return address_ == network(); }
  uint64_t Size() const { return uint64_t{1} << (32 - prefix_length_); }
  bool Contains(Ipv4 ip) const;
  bool Contains(const Cidr& other) const;
  bool Overlaps(const Cidr& other) const;
  std::string ToString() const;

  friend bool operator==(const Cidr&, const Cidr&) = default;

 private:
  Ipv4 address_;
  int prefix_length_ = 0;
};

// "host:port" or "host" (then `default_port`). Host is a name or an IPv4 address; it is
// not resolved here. Port must be 1..65535.
struct HostPort {
  std::string host;
  uint16_t port = 0;

  static absl::StatusOr<HostPort> Parse(absl::string_view text,
                                        std::optional<uint16_t> default_port = std::nullopt);
  std::string ToString() const;
  friend bool operator==(const HostPort&, const HostPort&) = default;
};

}  // namespace weave::net
