// Logging in the original Weave Net's line format:
//
//   INFO: 2026/11/26 05:40:41.081956 message
//
// Levels print as DEBU, INFO, WARN, ERRO, FATA. Call InitLogging once at the start of main;
// then log with spdlog's functions (spdlog::info("...{}...", x)). Thread-safe.
#pragma once

#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "fmt/format.h"

namespace weave {

// Sets up the default logger on stderr. `level` is one of debug, info, warning, error.
absl::Status InitLogging(absl::string_view level);

// The pattern used by InitLogging; exposed so that tests can format a line.
inline constexpr absl::string_view kLogPattern = "%*: %Y/%m/%d %H:%M:%S.%f %v";

}  // namespace weave

// Our abseil's string_view is its own type (not std::string_view): teach fmt to print it, and
// absl::Status as its message, so that spdlog::error("...: {}", status) reads naturally.
template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<fmt::string_view> {
  template <typename Context>
  auto format(absl::string_view value, Context& ctx) const {
    return fmt::formatter<fmt::string_view>::format(fmt::string_view(value.data(), value.size()),
                                                    ctx);
  }
};

template <>
struct fmt::formatter<absl::Status> : fmt::formatter<fmt::string_view> {
  template <typename Context>
  auto format(const absl::Status& status, Context& ctx) const {
    absl::string_view message = status.ok() ? absl::string_view("OK") : status.message();
    return fmt::formatter<fmt::string_view>::format(
        fmt::string_view(message.data(), message.size()), ctx);
  }
};
