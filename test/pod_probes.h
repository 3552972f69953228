// Probing pods in the overlay tests: an echo server per pod (TCP 7000, UDP 7001, and the
// client's address on TCP 7002), ping and TCP/UDP probes from any namespace, and waiting for
// connections to settle on an overlay. Header-only, like pod_cluster.h.
#pragma once

#include <catch2/catch.hpp>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "test/harness/file_util.h"
#include "test/pod_cluster.h"

namespace weave::testing {

// Echoes on TCP 7000 and UDP 7001; tells each TCP client on 7002 the address it came from.
inline constexpr char kEchoServer[] = R"(
import socket, threading
def listening(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(64)
    return s
def serve(c):
    try:
        c.sendall(c.recv(200))
    finally:
        c.close()
def echo(s):
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()
def whoami(s):
    while True:
        c, a = s.accept()
        c.sendall(a[0].encode())
        c.close()
# Every socket listens before "serving" is printed: tests start probing at that line.
echo_socket = listening(7000)
whoami_socket = listening(7002)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("0.0.0.0", 7001))
threading.Thread(target=echo, args=(echo_socket,), daemon=True).start()
threading.Thread(target=whoami, args=(whoami_socket,), daemon=True).start()
print("serving", flush=True)
while True:
    d, a = u.recvfrom(200)
    u.sendto(d, a)
)";

// For each address given: "<address> tcp ok|fail udp ok|fail".
inline constexpr char kProbe[] = R"py(
import socket, sys
for ip in sys.argv[1:]:
    token = ("hello " + ip).encode()
    tcp = "fail"
    for _ in range(2):
        try:
            s = socket.create_connection((ip, 7000), timeout=3)
            s.sendall(token)
            if s.recv(200) == token:
                tcp = "ok"
            s.close()
            break
        except OSError as e:
            tcp = "fail(" + type(e).__name__ + ")"

    udp = "fail"
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(1)
    for _ in range(3):
        try:
            u.sendto(token, (ip, 7001))
            if u.recvfrom(200)[0] == token:
                udp = "ok"
                break
        except OSError:
            pass
    print(ip, "tcp", tcp, "udp", udp, flush=True)
)py";

// Each node's `weave status connections` lists `peers` connections, all established on `overlay`.
inline void WaitForOverlay(PodCluster& c, const std::vector<int>& nodes, size_t peers,
                    const std::string& overlay, absl::Duration within = absl::Seconds(20)) {
  std::string last;
  absl::Status ok = WaitFor(
      [&] {
        for (int i : nodes) {
          last = c.Cli(i, {"status", "connections"});
          size_t good = 0;
          for (absl::string_view line : absl::StrSplit(last, '\n', absl::SkipEmpty())) {
            if (absl::StrContains(line, " established ") &&
                absl::StrContains(line, absl::StrCat(" ", overlay, " "))) {
              ++good;
            }
          }
          if (good != peers) return false;
        }
        return true;
      },
      within, absl::StrCat("every connection to be established over ", overlay));
  INFO(last);
  REQUIRE_OK(ok);
}

// The harness runs commands in a namespace given by name; pods are known by their path.
inline std::string NetnsName(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// Starts every node's router and waits until IPAM is ready everywhere and every node's
// connections to all the others are established over `overlay`.
inline void StartAndSettle(PodCluster& c, const std::string& overlay) {
  c.StartAll();
  std::vector<int> all;
  for (int i = 1; i <= c.size(); ++i) all.push_back(i);
  c.WaitIpamReady(all);
  WaitForOverlay(c, all, c.size() - 1, overlay);
}

class Pods {
 public:
  explicit Pods(PodCluster& cluster) : c_(cluster) {}

  Pod& Add(int node, const std::string& id) {
    pods_.push_back(c_.NewPod(node, id));
    Pod& pod = pods_.back();
    c_.Add(pod);
    ProcessOptions options;
    options.netns = NetnsName(pod.netns);
    options.log_path = absl::StrCat(c_.node(node).dir(), "/echo-", id, ".log");
    ASSIGN_OR_REQUIRE(std::unique_ptr<Process> server,
                      Process::Start({"python3", "-c", kEchoServer}, options));
    servers_.push_back(std::move(server));
    REQUIRE_OK(WaitFor(
        // A line of its own: the log's header line quotes the script, "serving" included.
        [&] { return absl::StrContains(ReadFileOrEmpty(options.log_path), "\nserving\n"); },
        absl::Seconds(10), "the pod's echo server to start"));
    return pod;
  }

  std::deque<Pod>& all() { return pods_; }

 private:
  PodCluster& c_;
  std::deque<Pod> pods_;  // a deque: Add's references stay valid
  std::vector<std::unique_ptr<Process>> servers_;
};

// `iperf3 -s -1` in `pod` (on node `node`), once it listens; its log is the process's.
inline std::unique_ptr<Process> StartIperfServer(PodCluster& c, const Pod& pod) {
  ProcessOptions options;
  options.netns = NetnsName(pod.netns);
  options.log_path = absl::StrCat(c.node(pod.node).dir(), "/iperf3-", pod.id, ".log");
  absl::StatusOr<std::unique_ptr<Process>> server =
      Process::Start({"iperf3", "-s", "-1", "--forceflush"}, options);
  REQUIRE_OK(server.status());
  REQUIRE_OK(WaitFor(
      [&] { return absl::StrContains(ReadFileOrEmpty(options.log_path), "Server listening"); },
      absl::Seconds(10), "iperf3 to listen"));
  return std::move(*server);
}

inline bool Ping(const std::string& netns_path, const std::string& address) {
  CommandOptions options;
  options.netns = NetnsName(netns_path);
  for (int attempt = 0; attempt < 2; ++attempt) {  // the first may wait for ARP
    absl::StatusOr<CommandResult> result =
        RunCommand({"ping", "-c1", "-W2", address}, absl::Seconds(5), options);
    if (result.ok() && result->exit.success()) return true;
  }
  return false;
}

// TCP and UDP probes from `netns` to `addresses`; returns the failures as text.
inline std::vector<std::string> Probe(const std::string& netns_path, const std::string& from,
                               const std::vector<std::string>& addresses) {
  CommandOptions options;
  options.netns = NetnsName(netns_path);
  std::vector<std::string> argv = {"python3", "-c", kProbe};
  argv.insert(argv.end(), addresses.begin(), addresses.end());
  absl::StatusOr<CommandResult> result = RunCommand(argv, absl::Seconds(120), options);
  if (!result.ok() || !result->exit.success()) {
    return {absl::StrCat(from, ": probe did not run: ",
                         result.ok() ? result->stderr_data : result.status().ToString())};
  }
  std::vector<std::string> failures;
  size_t lines = 0;
  for (absl::string_view line : absl::StrSplit(result->stdout_data, '\n', absl::SkipEmpty())) {
    ++lines;
    if (absl::StrContains(line, "fail")) failures.push_back(absl::StrCat(from, " -> ", line));
  }
  if (lines != addresses.size()) failures.push_back(absl::StrCat(from, ": missing probe lines"));
  return failures;
}

}  // namespace weave::testing
