// Parsing of configuration values that arrive as text from a flag or its environment
// variable. Every error is one line naming the variable, the flag, the value and the
// accepted form, e.g.
//   invalid CONN_LIMIT (--conn-limit) "-1": expected a whole number, 0 or more (0 = unlimited)
#pragma once

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/net/ip.h"

namespace weave::config {

// How the user names a setting. `env` may be empty for flag-only settings.
struct Setting {
  absl::string_view flag;  // "--conn-limit"
  absl::string_view env;   // "CONN_LIMIT"
};

absl::Status InvalidValue(Setting setting, absl::string_view value, absl::string_view expected);

// A decimal whole number in [min, max]; `expected` describes the accepted form.
absl::StatusOr<int64_t> ParseInteger(Setting setting, absl::string_view value, int64_t min,
                                     int64_t max, absl::string_view expected);

// 1/0, true/false, yes/no, on/off (any case).
absl::StatusOr<bool> ParseBool(Setting setting, absl::string_view value);

absl::StatusOr<net::Cidr> ParseCidr(Setting setting, absl::string_view value,
                                    absl::string_view expected);

// Splits on commas and whitespace, dropping empty items ("a, b  c" -> a, b, c).
std::vector<std::string> SplitList(absl::string_view value);

}  // namespace weave::config
