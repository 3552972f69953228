#include "common/config/values.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace weave::config {

absl::Status InvalidValue(Setting setting, absl::string_view value, absl::string_view expected) {
  std::string name = setting.env.empty()
                         ? std::string(setting.flag)
                         : absl::StrCat(setting.env, " (", setting.flag, ")");
  return absl::InvalidArgumentError(
      absl::StrCat("invalid ", name, " \"", absl::CHexEscape(value), "\": expected ", expected));
}

absl::StatusOr<int64_t> ParseInteger(Setting setting, absl::string_view value, int64_t min,
                                     int64_t max, absl::string_view expected) {
  int64_t parsed = 0;
  // SimpleAtoi tolerates surrounding whitespace and a leading '+'; a setting should not.
  bool digits_only = !value.empty() && (absl::ascii_isdigit(value[0]) || value[0] == '-');
  if (!digits_only || !absl::SimpleAtoi(value, &parsed) || parsed < min || parsed > max ||
      absl::StripAsciiWhitespace(value) != value) {
    return InvalidValue(setting, value, expected);
  }
  return parsed;
}

absl::StatusOr<bool> ParseBool(Setting setting, absl::string_view value) {
  std::string lower = absl::AsciiStrToLower(value);
  if (lower == "1" || lower == "true" || lower == "yes" || lower == "on") return true;
  if (lower == "0" || lower == "false" || lower == "no" || lower == "off") return false;
  return InvalidValue(setting, value, "1 or 0 (also true/false, yes/no, on/off)");
}

absl::StatusOr<net::Cidr> ParseCidr(Setting setting, absl::string_view value,
                                    absl::string_view expected) {
  absl::StatusOr<net::Cidr> cidr = net::Cidr::Parse(value);
  if (!cidr.ok()) return InvalidValue(setting, value, expected);
  return cidr;
}

std::vector<std::string> SplitList(absl::string_view value) {
  return absl::StrSplit(value, absl::ByAnyChar(", \t\n"), absl::SkipEmpty());
}

}  // namespace weave::config
