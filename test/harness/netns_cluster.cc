#include "test/harness/netns_cluster.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "test/harness/deadline.h"
#include "test/harness/file_util.h"
#include "test/harness/host_root.h"
#include "test/harness/netns.h"
#include "test/harness/test_run.h"
#include "test/harness/test_status.h"

namespace weave::testing {
namespace {

constexpr char kUnderlayBridge[] = "br0";
constexpr char kNodeInterface[] = "eth0";
constexpr absl::Duration kSetupCommandTimeout = absl::Seconds(10);
constexpr absl::Duration kStopGrace = absl::Seconds(2);

// Names are per process, so two live clusters in one process would collide.
std::atomic<bool> cluster_alive{false};

std::string NodeAddress(int index) { return absl::StrCat("192.168.250.", 10 + index); }

absl::Status Run(const std::vector<std::string>& argv) {
  return RunChecked(argv, kSetupCommandTimeout);
}

absl::Status CreateDirectories(const std::string& path) {
  std::error_code error;
  std::filesystem::create_directories(path, error);
  if (error) return absl::InternalError(absl::StrCat("creating ", path, ": ", error.message()));
  return absl::OkStatus();
}

}  // namespace

NetnsNode::NetnsNode(int index, std::string name, std::string dir)
    : index_(index), name_(std::move(name)), address_(NodeAddress(index)), dir_(std::move(dir)) {}

absl::StatusOr<CommandResult> NetnsNode::Exec(const std::vector<std::string>& argv,
                                              absl::Duration timeout,
                                              CommandOptions options) const {
  options.netns = name_;
  return RunCommand(argv, timeout, options);
}

absl::StatusOr<Process*> NetnsNode::Start(const std::string& label,
                                          const std::vector<std::string>& argv, Environment env) {
  if (label.empty() || label.front() == '.' || label.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("process label '", label, "' is not a plain file name"));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Process> process,
                   Process::Start(argv, {.env = std::move(env),
                                         .log_path = absl::StrCat(dir_, "/", label, ".log"),
                                         .netns = name_}));
  processes_.push_back({label, std::move(process)});
  return processes_.back().process.get();
}

absl::StatusOr<std::unique_ptr<NetnsCluster>> NetnsCluster::Create(int num_nodes) {
  if (num_nodes < 1 || num_nodes > kMaxNodes) {
    return absl::InvalidArgumentError(
        absl::StrCat("a cluster has 1 to ", kMaxNodes, " nodes, not ", num_nodes));
  }
  if (geteuid() != 0) {
    return absl::FailedPreconditionError("network namespace tests must run as root");
  }
  if (cluster_alive.exchange(true)) {
    return absl::FailedPreconditionError(
        "another NetnsCluster of this process is alive; tear it down first");
  }
  // From here on the cluster's teardown removes whatever Build managed to create.
  std::unique_ptr<NetnsCluster> cluster(new NetnsCluster(getpid()));
  if (absl::Status built = cluster->Build(num_nodes); !built.ok()) {
    (void)cluster->Teardown();
    return built;
  }
  return cluster;
}

NetnsCluster::NetnsCluster(pid_t pid)
    : prefix_(RunPrefix(pid)), underlay_(prefix_ + "-u"), work_dir_(RunWorkDir(pid)) {}

NetnsCluster::~NetnsCluster() {
  if (absl::Status status = Teardown(); !status.ok()) {
    std::cerr << "NetnsCluster " << prefix_ << " teardown: " << status << std::endl;
  }
}

absl::Status NetnsCluster::Build(int num_nodes) {
  std::error_code error;
  if (!std::filesystem::create_directory(work_dir_, error)) {
    // Not ours, so teardown must leave it; a previous run of this pid left it or it is in use.
    return error ? absl::InternalError(absl::StrCat("creating ", work_dir_, ": ", error.message()))
                 : absl::AlreadyExistsError(absl::StrCat(work_dir_, " already exists"));
  }
  work_dir_created_ = true;
  RETURN_IF_ERROR(BuildUnderlay());
  for (int index = 1; index <= num_nodes; ++index) RETURN_IF_ERROR(BuildNode(index));
  return absl::OkStatus();
}

absl::Status NetnsCluster::BuildUnderlay() {
  RETURN_IF_ERROR(AddOwnedNamespace(underlay_));
  RETURN_IF_ERROR(Run({"ip", "-n", underlay_, "link", "add", kUnderlayBridge, "type", "bridge"}));
  return Run({"ip", "-n", underlay_, "link", "set", kUnderlayBridge, "up"});
}

absl::Status NetnsCluster::BuildNode(int index) {
  auto node = std::unique_ptr<NetnsNode>(new NetnsNode(index, absl::StrCat(prefix_, "-n", index),
                                                       absl::StrCat(work_dir_, "/node", index)));
  const std::string& ns = node->name();
  const std::string port = absl::StrCat("n", index);  // eth0's peer, on the underlay bridge.
  RETURN_IF_ERROR(AddOwnedNamespace(ns));
  // Created from inside the underlay, so no interface ever appears in the test's own namespace.
  RETURN_IF_ERROR(Run({"ip", "-n", underlay_, "link", "add", port, "type", "veth", "peer", "name",
                       kNodeInterface, "netns", ns}));
  RETURN_IF_ERROR(
      Run({"ip", "-n", underlay_, "link", "set", port, "master", kUnderlayBridge, "up"}));
  RETURN_IF_ERROR(Run({"ip", "-n", ns, "link", "set", "lo", "up"}));
  RETURN_IF_ERROR(
      Run({"ip", "-n", ns, "addr", "add", node->address() + "/24", "dev", kNodeInterface}));
  RETURN_IF_ERROR(Run({"ip", "-n", ns, "link", "set", kNodeInterface, "up"}));
  RETURN_IF_ERROR(RunChecked({"sysctl", "-q", "-w", "net.ipv4.ip_forward=1"}, kSetupCommandTimeout,
                             {.netns = ns}));

  RETURN_IF_ERROR(WriteFakeHostRoot(node->host_root()));
  RETURN_IF_ERROR(CreateDirectories(std::filesystem::path(node->db_prefix()).parent_path()));
  nodes_.push_back(std::move(node));
  return absl::OkStatus();
}

absl::StatusOr<std::string> NetnsCluster::AddPodNamespace(const std::string& suffix) {
  std::string name = absl::StrCat(prefix_, "-", suffix);
  RETURN_IF_ERROR(AddOwnedNamespace(name));
  RETURN_IF_ERROR(Run({"ip", "-n", name, "link", "set", "lo", "up"}));
  return absl::StrCat("/run/netns/", name);
}

absl::Status NetnsCluster::AddOwnedNamespace(const std::string& name) {
  RETURN_IF_ERROR(AddNamespace(name));
  owned_namespaces_.push_back(name);
  return absl::OkStatus();
}

void NetnsCluster::DumpLogs(std::ostream& out, int max_lines) const {
  for (const auto& node : nodes_) {
    std::set<std::string> dumped;  // A restarted label shares its log with earlier runs.
    for (const auto& [label, process] : node->processes_) {
      if (!dumped.insert(process->log_path()).second) continue;
      out << "===== node " << node->index() << " (" << node->name() << ") " << label << ": last "
          << max_lines << " lines of " << process->log_path() << " =====\n";
      for (const std::string& line : LastLines(process->log_path(), max_lines)) {
        out << line << "\n";
      }
    }
  }
  out.flush();
}

absl::Status NetnsCluster::StopProcesses() {
  std::vector<Process*> processes;
  for (const auto& node : nodes_) {
    for (const auto& labeled : node->processes_) processes.push_back(labeled.process.get());
  }
  // Everyone gets SIGTERM first, so that the grace periods run side by side.
  for (Process* process : processes) (void)process->Signal(SIGTERM);
  const Deadline grace(kStopGrace);
  absl::Status first_error;
  for (Process* process : processes) first_error.Update(process->Stop(grace.Remaining()).status());
  return first_error;
}

absl::Status NetnsCluster::Teardown() {
  if (torn_down_) return absl::OkStatus();
  torn_down_ = true;
  if (CurrentTestFailed() || std::uncaught_exceptions() > 0) DumpLogs(std::cerr);

  absl::Status first_error = StopProcesses();
  // Nodes first: deleting a node's namespace takes its veth pair, whose peer is in the underlay.
  for (auto ns = owned_namespaces_.rbegin(); ns != owned_namespaces_.rend(); ++ns) {
    first_error.Update(DeleteNamespace(*ns));
  }
  if (work_dir_created_) {
    std::error_code error;
    std::filesystem::remove_all(work_dir_, error);
    if (error) {
      first_error.Update(
          absl::InternalError(absl::StrCat("removing ", work_dir_, ": ", error.message())));
    }
  }
  cluster_alive = false;
  return first_error;
}

}  // namespace weave::testing
