#include "test/harness/test_run.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "test/harness/netns.h"
#include "test/harness/subprocess.h"

namespace weave::testing {
namespace {

constexpr absl::string_view kRunPrefix = "wvt";
constexpr char kWorkDirParent[] = "/tmp";

}  // namespace

std::string RunPrefix(pid_t pid) { return absl::StrCat(kRunPrefix, pid); }

std::string RunWorkDir(pid_t pid) { return absl::StrCat(kWorkDirParent, "/", RunPrefix(pid)); }

std::optional<pid_t> ParseRunPid(absl::string_view name) {
  if (!absl::ConsumePrefix(&name, kRunPrefix)) return std::nullopt;
  const absl::string_view digits = name.substr(0, name.find('-'));
  pid_t pid;
  if (digits.empty() || digits.find_first_not_of("0123456789") != absl::string_view::npos ||
      !absl::SimpleAtoi(digits, &pid) || pid <= 0) {
    return std::nullopt;
  }
  return pid;
}

absl::Status SweepStaleRuns(const SweepOptions& options, std::ostream& report) {
  auto is_stale = [&](absl::string_view name) {
    const std::optional<pid_t> pid = ParseRunPid(name);
    return pid.has_value() && (options.all || !ProcessAlive(*pid));
  };
  absl::Status first_error;
  auto note = [&](const absl::Status& status, absl::string_view what) {
    if (status.ok()) {
      report << "removed " << what << "\n";
    } else {
      report << "could not remove " << what << ": " << status << "\n";
      first_error.Update(status);
    }
  };

  absl::StatusOr<std::vector<std::string>> namespaces = ListNamespaces();
  if (!namespaces.ok()) return namespaces.status();
  for (const std::string& name : *namespaces) {
    if (is_stale(name)) note(DeleteNamespace(name), absl::StrCat("network namespace ", name));
  }

  std::error_code listing_error;
  for (const auto& entry : std::filesystem::directory_iterator(kWorkDirParent, listing_error)) {
    std::error_code error;
    if (!entry.is_directory(error) || !is_stale(entry.path().filename().string())) continue;
    std::filesystem::remove_all(entry.path(), error);
    note(error ? absl::InternalError(error.message()) : absl::OkStatus(),
         absl::StrCat("work directory ", entry.path().string()));
  }
  if (listing_error) {
    first_error.Update(absl::InternalError(
        absl::StrCat("listing ", kWorkDirParent, ": ", listing_error.message())));
  }
  return first_error;
}

}  // namespace weave::testing
