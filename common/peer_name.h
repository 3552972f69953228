// A peer's name: 48 bits written as a lower-case MAC address ("42:8e:e8:c4:52:1b").
// Input may abbreviate runs of zero groups with "::" as the original allowed ("::1").
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace weave {

class PeerName {
 public:
  constexpr PeerName() = default;
  constexpr explicit PeerName(uint64_t value) : value_(value & 0xffffffffffffULL) {}

  static absl::StatusOr<PeerName> Parse(absl::string_view text);

  constexpr uint64_t value() const { return value_; }
  std::string ToString() const;

  friend constexpr auto operator<=>(PeerName, PeerName) = default;

 private:
  uint64_t value_ = 0;
};

}  // namespace weave
