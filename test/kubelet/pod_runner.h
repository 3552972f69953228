// The running half of the tests' fake kubelet: one pod of a DaemonSet on one fake node, its
// containers run by podman (the project's wrapper, charts/images/podman) from images built on
// this machine, as container_plan.h describes them.
//
//   PodRunner pod(WEAVE_PODMAN_PATH, node_context, node.dir(), "wvt123-node1");
//   REQUIRE_OK(pod.RunInitContainers(pod_template, absl::Minutes(2)));
//   REQUIRE_OK(pod.StartContainers(pod_template));
//   REQUIRE_OK(pod.WaitReady(absl::Minutes(2)));
//   pod.Exec("weave", {"/home/weave/weave", "--local", "status"});
//
// Each container runs in the foreground (`podman run --rm`) as a Process whose output goes to
// <log_dir>/<container>.log. Kubelet's restarts are left out on purpose: a container that exits
// is a failure the test sees (WaitReady reports it with the end of its log). Teardown (and the
// destructor) removes every container with `podman rm -f`, so nothing outlives a failed test;
// after a crash, netns-sweep kills what runs in the node's namespace and --rm removes the
// container. Threading: driven by one thread, which must outlive the containers (subprocess.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "test/harness/subprocess.h"
#include "test/kubelet/container_plan.h"

namespace weave::testing::kubelet {

class PodRunner {
 public:
  PodRunner(std::string podman, NodeContext node, std::string log_dir, std::string podman_prefix);
  PodRunner(const PodRunner&) = delete;
  PodRunner& operator=(const PodRunner&) = delete;
  ~PodRunner();

  const NodeContext& node() const { return node_; }

  // Kubelet's order: each init container runs to completion, and must exit 0, before the next
  // starts. An error names the container and quotes the end of its output.
  absl::Status RunInitContainers(const nlohmann::json& pod_template, absl::Duration each_within);

  // Starts every container of the template side by side, without waiting for them.
  absl::Status StartContainers(const nlohmann::json& pod_template);

  // Waits until every container with a readiness probe passes it, as kubelet probes (an HTTP GET
  // from the node's network namespace, 200-399). Fails at once, with its log, when a container
  // has exited.
  absl::Status WaitReady(absl::Duration within);

  // `podman exec` of argv in the running container `container` (its name in the pod).
  absl::StatusOr<CommandResult> Exec(const std::string& container,
                                     const std::vector<std::string>& argv,
                                     absl::Duration timeout = absl::Seconds(30)) const;

  // The last `max_lines` lines of each container's log, each under a header.
  std::string Logs(int max_lines = 60) const;

  // Removes every container (podman rm -f) and reaps the podman processes. Idempotent; goes on
  // past failures and returns the first.
  absl::Status Teardown();

 private:
  struct Running {
    ContainerPlan plan;
    std::unique_ptr<Process> process;
  };

  // What kubelet checks or creates for the plan's hostPath volumes before starting it.
  absl::Status PrepareHostPaths(const ContainerPlan& plan) const;
  // Prepares the host paths and starts `podman run` of the plan, remembered for Teardown.
  absl::StatusOr<std::unique_ptr<Process>> Launch(const ContainerPlan& plan);
  std::string LogPath(const std::string& container) const;
  std::vector<std::string> PodmanArgv(const std::vector<std::string>& args) const;
  bool ProbePasses(const HttpProbe& probe) const;

  const std::string podman_;
  const NodeContext node_;
  const std::string log_dir_;
  const std::string podman_prefix_;
  std::vector<std::string> podman_names_;  // every container started, for Teardown
  std::vector<Running> running_;
  std::vector<std::string> logged_;  // containers with a log, in start order
};

}  // namespace weave::testing::kubelet
