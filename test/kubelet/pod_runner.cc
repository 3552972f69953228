#include "test/kubelet/pod_runner.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "test/harness/deadline.h"
#include "test/harness/file_util.h"
#include "test/harness/wait_for.h"

namespace weave::testing::kubelet {
namespace {

namespace fs = std::filesystem;

constexpr absl::Duration kPodmanTimeout = absl::Seconds(60);
constexpr int kStopGraceSeconds = 2;

absl::Status FsError(const std::error_code& error, absl::string_view doing) {
  return absl::InternalError(absl::StrCat(doing, ": ", error.message()));
}

std::string Tail(const std::string& path, int max_lines) {
  return absl::StrJoin(LastLines(path, max_lines), "\n");
}

}  // namespace

PodRunner::PodRunner(std::string podman, NodeContext node, std::string log_dir,
                     std::string podman_prefix)
    : podman_(std::move(podman)),
      node_(std::move(node)),
      log_dir_(std::move(log_dir)),
      podman_prefix_(std::move(podman_prefix)) {}

PodRunner::~PodRunner() { (void)Teardown(); }

std::string PodRunner::LogPath(const std::string& container) const {
  return absl::StrCat(log_dir_, "/", container, ".log");
}

std::vector<std::string> PodRunner::PodmanArgv(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {podman_};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

// The fake node's root starts nearly empty where a real host has /run, /var/lib and so on, so
// parents are created for every type; otherwise kubelet's checks (and containerd's creation of a
// missing path of type "") are kept.
absl::Status PodRunner::PrepareHostPaths(const ContainerPlan& plan) const {
  for (const HostPathSource& source : plan.host_paths) {
    const fs::path path(source.path);
    std::error_code error;
    const bool exists = fs::exists(path, error);
    if (source.type == "" || source.type == "DirectoryOrCreate") {
      if (!exists && (fs::create_directories(path, error), error)) {
        return FsError(error, absl::StrCat("creating hostPath ", source.path));
      }
    } else if (source.type == "FileOrCreate") {
      if (!exists) {
        if (fs::create_directories(path.parent_path(), error); error) {
          return FsError(error, absl::StrCat("creating the folder of hostPath ", source.path));
        }
        std::ofstream(path).close();
        chmod(path.c_str(), 0644);
      }
    } else if (!exists) {
      return absl::FailedPreconditionError(absl::StrCat(
          "hostPath ", source.path, " of type ", source.type, " does not exist on the node"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Process>> PodRunner::Launch(const ContainerPlan& plan) {
  RETURN_IF_ERROR(PrepareHostPaths(plan));
  podman_names_.push_back(plan.podman_name);
  logged_.push_back(plan.name);
  return Process::Start(PodmanArgv(plan.podman_args), {.log_path = LogPath(plan.name)});
}

absl::Status PodRunner::RunInitContainers(const nlohmann::json& pod_template,
                                          absl::Duration each_within) {
  ASSIGN_OR_RETURN(std::vector<ContainerPlan> plans,
                   PlanContainers(pod_template, /*init=*/true, node_, podman_prefix_));
  for (const ContainerPlan& plan : plans) {
    ASSIGN_OR_RETURN(std::unique_ptr<Process> process, Launch(plan));
    absl::StatusOr<ExitStatus> exit = process->Wait(each_within);
    if (!exit.ok()) {
      (void)process->Stop(absl::Seconds(kStopGraceSeconds));
      return absl::DeadlineExceededError(
          absl::StrCat("init container ", plan.name, " on ", node_.node_name, " did not finish in ",
                       absl::FormatDuration(each_within), ":\n", Tail(LogPath(plan.name), 30)));
    }
    if (!exit->success()) {
      return absl::InternalError(absl::StrCat("init container ", plan.name, " on ", node_.node_name,
                                              " failed (", exit->ToString(), "):\n",
                                              Tail(LogPath(plan.name), 30)));
    }
  }
  return absl::OkStatus();
}

absl::Status PodRunner::StartContainers(const nlohmann::json& pod_template) {
  ASSIGN_OR_RETURN(std::vector<ContainerPlan> plans,
                   PlanContainers(pod_template, /*init=*/false, node_, podman_prefix_));
  for (ContainerPlan& plan : plans) {
    ASSIGN_OR_RETURN(std::unique_ptr<Process> process, Launch(plan));
    running_.push_back({std::move(plan), std::move(process)});
  }
  return absl::OkStatus();
}

bool PodRunner::ProbePasses(const HttpProbe& probe) const {
  absl::StatusOr<CommandResult> result =
      RunCommand({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2",
                  absl::StrCat("http://", probe.host, ":", probe.port, probe.path)},
                 absl::Seconds(5), {.netns = fs::path(node_.netns_path).filename().string()});
  int code = 0;
  return result.ok() && absl::SimpleAtoi(result->stdout_data, &code) && code >= 200 && code < 400;
}

absl::Status PodRunner::WaitReady(absl::Duration within) {
  const Running* exited = nullptr;
  absl::Status waited = WaitFor(
      [&] {
        for (Running& container : running_) {
          if (!container.process->Running()) {
            exited = &container;
            return true;
          }
        }
        for (const Running& container : running_) {
          if (container.plan.readiness && !ProbePasses(*container.plan.readiness)) return false;
        }
        return true;
      },
      within, absl::StrCat("the containers on ", node_.node_name, " to be ready"));
  if (exited != nullptr) {
    absl::StatusOr<ExitStatus> exit = exited->process->Wait(absl::ZeroDuration());
    return absl::InternalError(absl::StrCat("container ", exited->plan.name, " on ",
                                            node_.node_name, " exited (",
                                            exit.ok() ? exit->ToString() : exit.status().ToString(),
                                            "):\n", Tail(LogPath(exited->plan.name), 30)));
  }
  return waited;
}

absl::StatusOr<CommandResult> PodRunner::Exec(const std::string& container,
                                              const std::vector<std::string>& argv,
                                              absl::Duration timeout) const {
  std::vector<std::string> args = {"exec", absl::StrCat(podman_prefix_, "-", container)};
  args.insert(args.end(), argv.begin(), argv.end());
  return RunCommand(PodmanArgv(args), timeout);
}

std::string PodRunner::Logs(int max_lines) const {
  std::string out;
  for (const std::string& container : logged_) {
    absl::StrAppend(&out, "===== ", node_.node_name, " container ", container, ": last ", max_lines,
                    " lines of ", LogPath(container), " =====\n",
                    Tail(LogPath(container), max_lines), "\n");
  }
  return out;
}

absl::Status PodRunner::Teardown() {
  absl::Status first_error;
  if (!podman_names_.empty()) {
    std::vector<std::string> args = {"rm", "--force", "--ignore", "--time",
                                     std::to_string(kStopGraceSeconds)};
    args.insert(args.end(), podman_names_.begin(), podman_names_.end());
    absl::StatusOr<CommandResult> removed = RunCommand(PodmanArgv(args), kPodmanTimeout);
    first_error.Update(removed.ok() ? removed->ToStatus() : removed.status());
    podman_names_.clear();
  }
  for (Running& container : running_) {
    first_error.Update(container.process->Stop(absl::Seconds(kStopGraceSeconds)).status());
  }
  running_.clear();
  return first_error;
}

}  // namespace weave::testing::kubelet
