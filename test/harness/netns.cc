#include "test/harness/netns.h"

#include <signal.h>

#include <filesystem>
#include <system_error>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "test/harness/subprocess.h"
#include "test/harness/wait_for.h"

namespace weave::testing {
namespace {

constexpr char kNetnsDir[] = "/run/netns";
constexpr absl::Duration kIpTimeout = absl::Seconds(10);
constexpr absl::Duration kKillTimeout = absl::Seconds(10);

}  // namespace

absl::StatusOr<std::vector<std::string>> ListNamespaces() {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(kNetnsDir, error)) {
    names.push_back(entry.path().filename());
  }
  if (error && error != std::errc::no_such_file_or_directory) {
    return absl::InternalError(absl::StrCat("listing ", kNetnsDir, ": ", error.message()));
  }
  return names;
}

bool NamespaceExists(const std::string& name) {
  std::error_code error;
  return std::filesystem::exists(std::filesystem::path(kNetnsDir) / name, error);
}

absl::Status AddNamespace(const std::string& name) {
  return RunChecked({"ip", "netns", "add", name}, kIpTimeout);
}

absl::StatusOr<std::vector<pid_t>> NamespacePids(const std::string& name) {
  ASSIGN_OR_RETURN(const CommandResult result,
                   RunCommand({"ip", "netns", "pids", name}, kIpTimeout));
  RETURN_IF_ERROR(result.ToStatus());
  std::vector<pid_t> pids;
  for (absl::string_view line : absl::StrSplit(result.stdout_data, '\n', absl::SkipWhitespace())) {
    pid_t pid;
    if (!absl::SimpleAtoi(line, &pid)) {
      return absl::InternalError(absl::StrCat("`", result.command, "` printed '", line, "'"));
    }
    pids.push_back(pid);
  }
  return pids;
}

absl::Status DeleteNamespace(const std::string& name) {
  if (!NamespaceExists(name)) return absl::OkStatus();
  absl::Status listing;
  const absl::Status emptied = WaitFor(
      [&] {
        absl::StatusOr<std::vector<pid_t>> pids = NamespacePids(name);
        listing = pids.status();
        if (!pids.ok()) return false;
        for (pid_t pid : *pids) kill(pid, SIGKILL);
        return pids->empty();
      },
      kKillTimeout, absl::StrCat("the processes in network namespace ", name, " to exit"));
  if (!emptied.ok()) return listing.ok() ? emptied : listing;

  const absl::Status deleted = RunChecked({"ip", "netns", "delete", name}, kIpTimeout);
  // Someone else deleting it in the meantime is as good.
  return NamespaceExists(name) ? deleted : absl::OkStatus();
}

}  // namespace weave::testing
