#pragma once

// A small cluster of "nodes" built from network namespaces, for kernel tests that run the real
// weaver, weave-npc and weave-net binaries. For a test process with pid P:
//
//   namespace wvtP-u     the underlay: bridge br0 (up) with one veth port n<i> per node
//   namespace wvtP-n<i>  node i: lo up, eth0 = 192.168.250.(10+i)/24 (peer of n<i>),
//                        net.ipv4.ip_forward=1 (pod traffic is routed through nodes)
//   /tmp/wvtP/node<i>/   node i's files: fake host root, daemon socket, IPAM db, process logs
//
// Nothing else is touched: no address outside 192.168.250.0/24 and no route outside these
// namespaces. Everything is removed when the cluster is destroyed; leftovers of a test killed by
// a signal are removed by the netns-sweep binary (test_run.h). Needs root.
//
// Threading: a cluster and its nodes are driven by the test's main thread.
//
//   ASSIGN_OR_REQUIRE(auto cluster, NetnsCluster::Create(2));   // status_assertions.h
//   NetnsNode& node1 = cluster->node(1);
//   ASSIGN_OR_REQUIRE(Process* weaver,
//                     node1.Start("weaver", {weaver_path, "--host-root", node1.host_root()}));
//   REQUIRE_OK(WaitFor([&] { return std::filesystem::exists(node1.socket_path()); },
//                      absl::Seconds(10), "weaver to create its socket"));

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "test/harness/subprocess.h"
#include "test/harness/wait_for.h"

namespace weave::testing {

// One node of a NetnsCluster: a network namespace plus a work directory. Made and owned by the
// cluster; references stay valid for the cluster's lifetime.
class NetnsNode {
 public:
  NetnsNode(const NetnsNode&) = delete;
  NetnsNode& operator=(const NetnsNode&) = delete;

  int index() const { return index_; }                     // 1-based: node(1) is "…-n1".
  const std::string& name() const { return name_; }        // The namespace, "wvt1234-n1".
  const std::string& address() const { return address_; }  // eth0's, "192.168.250.11".
  const std::string& dir() const { return dir_; }          // "/tmp/wvt1234/node1".

  // For weaver's --host-root: holds etc/machine-id and sys/class/dmi/id/product_uuid, distinct
  // per node.
  std::string host_root() const { return dir_ + "/host"; }
  // Where this node's weaver is expected to listen (not created).
  std::string socket_path() const { return dir_ + "/weave.sock"; }
  // For the IPAM store; its directory exists.
  std::string db_prefix() const { return dir_ + "/weavedb/weave-net"; }

  // Runs argv to completion inside this node's namespace (see RunCommand; options.netns is
  // replaced by this node's).
  absl::StatusOr<CommandResult> Exec(const std::vector<std::string>& argv,
                                     absl::Duration timeout = absl::Seconds(30),
                                     CommandOptions options = {}) const;

  // Starts argv in the background inside this node's namespace, logging to dir()/<label>.log.
  // The node owns the process: the returned pointer stays valid for the cluster's lifetime and
  // teardown stops it. `label` must be a plain file name; starting a label again (a restart)
  // appends to the same log. Errors as Process::Start.
  absl::StatusOr<Process*> Start(const std::string& label, const std::vector<std::string>& argv,
                                 Environment env = {});

 private:
  friend class NetnsCluster;

  struct LabeledProcess {
    std::string label;
    std::unique_ptr<Process> process;
  };

  NetnsNode(int index, std::string name, std::string dir);

  const int index_;
  const std::string name_;
  const std::string address_;
  const std::string dir_;
  std::vector<LabeledProcess> processes_;
};

// The whole cluster (see the top of this file). Destroying it tears everything down; the
// "is the test failing" check behind the log dump comes from weave_catch_main (test_status.h).
class NetnsCluster {
 public:
  static constexpr int kMaxNodes = 99;  // Node i is 192.168.250.(10+i).

  // Builds the underlay and `num_nodes` nodes (1..kMaxNodes). Errors: InvalidArgument for a bad
  // count; FailedPrecondition when not root, or while another cluster of this process is alive
  // (the names would clash); otherwise the error of the step that failed, after removing
  // everything this call had created (and nothing it had not).
  static absl::StatusOr<std::unique_ptr<NetnsCluster>> Create(int num_nodes);

  NetnsCluster(const NetnsCluster&) = delete;
  NetnsCluster& operator=(const NetnsCluster&) = delete;

  // Teardown(), reporting its failure on stderr.
  ~NetnsCluster();

  const std::string& prefix() const { return prefix_; }      // "wvt1234".
  const std::string& underlay() const { return underlay_; }  // The underlay namespace.
  const std::string& work_dir() const { return work_dir_; }  // "/tmp/wvt1234".
  int size() const { return static_cast<int>(nodes_.size()); }

  // 1-based, like the names and addresses. Throws std::out_of_range otherwise, which Catch2
  // reports as a failed test.
  NetnsNode& node(int index) { return *nodes_.at(index - 1); }

  // A further namespace owned by the cluster, "<prefix>-<suffix>" with lo up, for a pod: the
  // CNI plugin attaches it like a runtime's sandbox. Deleted at teardown (before the nodes)
  // and swept after a crash like the others. Returns its path, /run/netns/<name>.
  absl::StatusOr<std::string> AddPodNamespace(const std::string& suffix);

  // Writes the last `max_lines` lines of every process log, each under a header naming the node
  // and the label.
  void DumpLogs(std::ostream& out, int max_lines = 100) const;

  // If the running test has failed or an exception is unwinding, first dumps the logs to stderr.
  // Then stops every process (SIGTERM, a short grace, SIGKILL), kills whatever else runs in the
  // namespaces, deletes the node namespaces (which removes the veths), then the underlay, and
  // removes the work directory. Goes on past failures and returns the first. Idempotent: later
  // calls do nothing and return OK. Does not throw. The Process objects survive it, stopped and
  // reaped, so pointers from Start stay valid (for Wait, exit status) until the cluster is gone.
  absl::Status Teardown();

 private:
  explicit NetnsCluster(pid_t pid);

  absl::Status Build(int num_nodes);
  absl::Status BuildUnderlay();
  absl::Status BuildNode(int index);
  // `ip netns add`, remembering the namespace so that teardown deletes it.
  absl::Status AddOwnedNamespace(const std::string& name);
  absl::Status StopProcesses();

  const std::string prefix_;
  const std::string underlay_;
  const std::string work_dir_;
  bool work_dir_created_ = false;
  std::vector<std::string> owned_namespaces_;  // In creation order.
  std::vector<std::unique_ptr<NetnsNode>> nodes_;
  bool torn_down_ = false;
};

}  // namespace weave::testing
