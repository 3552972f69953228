// weaver and the weave CLI, as real processes in network namespaces.
#include <sys/stat.h>

#include <csignal>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "test/harness/netns_cluster.h"
#include "test/harness/status_assertions.h"
#include "test/harness/subprocess.h"
#include "test/harness/wait_for.h"
#include "test/weaver_fixture.h"

namespace weave::testing {
namespace {

absl::StatusOr<CommandResult> Weave(const NetnsNode& node, std::vector<std::string> args) {
  return WeaveCli(node, args);
}

Environment NodeEnv(const NetnsNode& node) { return WeaverEnv(node); }

std::string PeerName(const NetnsNode& node) {
  std::vector<std::string> argv = WeaverArgs(node);
  argv.push_back("--print-peer-name");
  ASSIGN_OR_REQUIRE(CommandResult result, node.Exec(argv));
  REQUIRE(result.exit.success());
  return std::string(absl::StripAsciiWhitespace(result.stdout_data));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

TEST_CASE("weave status shows the router's real state", "[netns]") {
  ASSIGN_OR_REQUIRE(auto cluster, NetnsCluster::Create(1));
  NetnsNode& node = cluster->node(1);
  std::string name = PeerName(node);
  // Targets where nothing listens: refused at once, so they show as failed.
  StartWeaver(node, {{"KUBE_PEERS", "192.168.250.11:7001 192.168.250.11:7002"},
                     {"IPALLOC_INIT", "consensus=1"},
                     {"WEAVE_TRUSTED_SUBNETS", "192.168.250.0/24"},
                     {"IPALLOC_RANGE", "10.40.0.0/16"}});

  const std::string expected =
        absl::StrCat("\n"
                     "        Version: 0.1.0 (version check update disabled)\n"
                     "\n"
                     "        Service: router\n"
                     "       Protocol: weave 1..2\n"
                     "           Name: ",
                     name,
                     "(node1)\n"
                     "     Encryption: disabled\n"
                     "  PeerDiscovery: enabled\n"
                     "        Targets: 2\n"
                     "    Connections: 2 (2 failed)\n"
                     "          Peers: 1\n"
                     " TrustedSubnets: 192.168.250.0/24\n"
                     "\n"
                     "        Service: ipam\n"
                     "         Status: ready\n"
                     "          Range: 10.40.0.0/16\n"
                     "  DefaultSubnet: 10.40.0.0/16\n"
                     "\n");
  // Between two failures a target is briefly "retrying": wait for the settled text.
  std::string last;
  absl::Status settled = WaitFor(
      [&] {
        absl::StatusOr<CommandResult> status = Weave(node, {"--local", "status"});
        last = status.ok() ? status->stdout_data : status.status().ToString();
        return status.ok() && status->exit.success() && last == expected;
      },
      absl::Seconds(10), "weave status to show both targets failed");
  CHECK(last == expected);
  CHECK_OK(settled);

  ASSIGN_OR_REQUIRE(CommandResult targets, Weave(node, {"status", "targets"}));
  CHECK(targets.stdout_data == "192.168.250.11:7001\n192.168.250.11:7002\n");
  ASSIGN_OR_REQUIRE(CommandResult peers, Weave(node, {"status", "peers"}));
  CHECK(peers.stdout_data == absl::StrCat(name, "(node1)\n"));
  ASSIGN_OR_REQUIRE(CommandResult bad, Weave(node, {"status", "bogus"}));
  CHECK(bad.exit.code == 1);
  CHECK_THAT(bad.stderr_data, Catch::Contains("Invalid 'weave status' sub-command: bogus"));
  ASSIGN_OR_REQUIRE(CommandResult report, Weave(node, {"report"}));
  CHECK_THAT(report.stdout_data, Catch::Contains(absl::StrCat("\"name\": \"", name, "\"")));

  // The API socket is for root only.
  struct stat st {};
  REQUIRE(stat(node.socket_path().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  // HTTP status (the readiness probe) and metrics, inside the node's namespace.
  ASSIGN_OR_REQUIRE(CommandResult http,
                    node.Exec({"curl", "-s", "-w", "\n%{http_code}", "http://127.0.0.1:6784/status"}));
  CHECK_THAT(http.stdout_data, Catch::EndsWith("\n200"));
  CHECK_THAT(http.stdout_data, Catch::Contains("Service: router"));
  ASSIGN_OR_REQUIRE(CommandResult metrics,
                    node.Exec({"curl", "-s", "http://192.168.250.11:6782/metrics"}));
  CHECK_THAT(metrics.stdout_data, Catch::Contains("weave_max_ips 65536\n"));
  CHECK_THAT(metrics.stdout_data, Catch::Contains("weave_ready 1\n"));
  // The status address is loopback only: nothing answers on the node's own address.
  ASSIGN_OR_REQUIRE(CommandResult outside,
                    node.Exec({"curl", "-s", "-o", "/dev/null", "--max-time", "2",
                               "http://192.168.250.11:6784/status"}));
  CHECK_FALSE(outside.exit.success());
}

TEST_CASE("peer names are stable per host and differ between hosts", "[netns]") {
  ASSIGN_OR_REQUIRE(auto cluster, NetnsCluster::Create(2));
  std::string first = PeerName(cluster->node(1));
  CHECK(first == PeerName(cluster->node(1)));
  CHECK(first != PeerName(cluster->node(2)));
  std::vector<std::string> argv = WeaverArgs(cluster->node(1));
  argv.insert(argv.end(), {"--name", "::1", "--print-peer-name"});
  ASSIGN_OR_REQUIRE(CommandResult named, cluster->node(1).Exec(argv));
  CHECK(named.stdout_data == "00:00:00:00:00:01\n");
}

TEST_CASE("only one weaver serves a socket and a stale socket is replaced", "[netns]") {
  ASSIGN_OR_REQUIRE(auto cluster, NetnsCluster::Create(1));
  NetnsNode& node = cluster->node(1);
  Process* weaver = StartWeaver(node);

  // A second weaver on the same socket refuses to start (it would also clash on the ports,
  // so give it others: the socket must be what stops it).
  std::vector<std::string> second = WeaverArgs(node);
  second.insert(second.end(), {"--http-addr", "127.0.0.1:16784", "--metrics-addr",
                               "127.0.0.1:16782"});
  ASSIGN_OR_REQUIRE(CommandResult refused,
                    node.Exec(second, absl::Seconds(10), {.env = NodeEnv(node)}));
  CHECK(refused.exit.code == 1);
  CHECK_THAT(refused.stderr_data,
             Catch::Contains(absl::StrCat("another weaver is already serving ",
                                          node.socket_path())));
  ASSIGN_OR_REQUIRE(CommandResult still, Weave(node, {"status"}));
  CHECK(still.exit.success());

  // kill -9 leaves the socket file behind; the next weaver replaces it.
  REQUIRE_OK(weaver->Signal(SIGKILL));
  REQUIRE_OK(weaver->Wait(absl::Seconds(10)));
  CHECK(std::filesystem::exists(node.socket_path()));
  StartWeaver(node);
}

TEST_CASE("SIGTERM closes the listeners and exits cleanly", "[netns]") {
  ASSIGN_OR_REQUIRE(auto cluster, NetnsCluster::Create(1));
  NetnsNode& node = cluster->node(1);
  Process* weaver = StartWeaver(node);
  REQUIRE_OK(weaver->Signal(SIGTERM));
  ASSIGN_OR_REQUIRE(ExitStatus exit, weaver->Wait(absl::Seconds(10)));
  CHECK(exit.success());
  CHECK_FALSE(std::filesystem::exists(node.socket_path()));
  CHECK_THAT(ReadFile(weaver->log_path()),
             Catch::Contains("closing listeners, leaving network state in place"));

  // With no router, the CLI says so in one line naming the socket, and fails.
  ASSIGN_OR_REQUIRE(CommandResult status, Weave(node, {"status"}));
  CHECK(status.exit.code == 1);
  CHECK(status.stdout_data.empty());
  CHECK(std::count(status.stderr_data.begin(), status.stderr_data.end(), '\n') == 1);
  CHECK_THAT(status.stderr_data,
             Catch::StartsWith(absl::StrCat("weave: the weave router is not running (nothing "
                                            "answers on ",
                                            node.socket_path())));
  // The HTTP listener is gone too.
  ASSIGN_OR_REQUIRE(CommandResult http,
                    node.Exec({"curl", "-s", "--max-time", "2", "http://127.0.0.1:6784/status"}));
  CHECK_FALSE(http.exit.success());
}

TEST_CASE("a password enables encryption and never appears in output or logs", "[netns]") {
  ASSIGN_OR_REQUIRE(auto cluster, NetnsCluster::Create(1));
  NetnsNode& node = cluster->node(1);
  const std::string secret = "s3cr3tp4ssw0rd";
  Process* weaver = StartWeaver(node, {{"WEAVE_PASSWORD", secret}});
  ASSIGN_OR_REQUIRE(CommandResult status, Weave(node, {"status"}));
  CHECK_THAT(status.stdout_data, Catch::Contains("     Encryption: enabled\n"));
  ASSIGN_OR_REQUIRE(CommandResult report, Weave(node, {"report"}));
  CHECK_FALSE(absl::StrContains(report.stdout_data, secret));
  ASSIGN_OR_REQUIRE(CommandResult http,
                    node.Exec({"curl", "-s", "http://127.0.0.1:6784/report"}));
  CHECK_THAT(http.stdout_data, Catch::Contains("\"encryption\": true"));
  CHECK_FALSE(absl::StrContains(http.stdout_data, secret));
  REQUIRE_OK(weaver->Stop(absl::Seconds(10)));
  CHECK_FALSE(absl::StrContains(ReadFile(weaver->log_path()), secret));
}

}  // namespace
}  // namespace weave::testing

namespace weave::testing {
namespace {

TEST_CASE("a range overlapping a host route stops weaver with one line", "[netns]") {
  ASSIGN_OR_REQUIRE(auto cluster, NetnsCluster::Create(1));
  NetnsNode& node = cluster->node(1);
  REQUIRE_OK(node.Exec({"ip", "route", "add", "10.0.0.0/8", "dev", "eth0"})->ToStatus());
  ASSIGN_OR_REQUIRE(CommandResult refused,
                    node.Exec(WeaverArgs(node), absl::Seconds(15), {.env = NodeEnv(node)}));
  CHECK(refused.exit.code == 1);
  CHECK_THAT(refused.stderr_data,
             Catch::Contains("FATA: ") &&
                 Catch::Contains("IPALLOC_RANGE 10.32.0.0/12 overlaps the host route "
                                 "10.0.0.0/8 dev eth0; choose a free range with IPALLOC_RANGE"));
  // Nothing was set up.
  ASSIGN_OR_REQUIRE(CommandResult bridge, node.Exec({"ip", "link", "show", "weave"}));
  CHECK_FALSE(bridge.exit.success());
  // A free range works.
  StartWeaver(node, {{"IPALLOC_RANGE", "172.30.0.0/16"}});
}

TEST_CASE("weaver --setup-cni installs the plugin and the conflist", "[netns]") {
  ASSIGN_OR_REQUIRE(auto cluster, NetnsCluster::Create(1));
  NetnsNode& node = cluster->node(1);
  std::vector<std::string> args = WeaverArgs(node);
  args.insert(args.end(), {"--setup-cni", "--cni-plugin", WEAVE_NET_PATH});
  Environment env = NodeEnv(node);
  env.push_back({"HOST_ROOT", node.host_root()});
  ASSIGN_OR_REQUIRE(Process * weaver, node.Start("weaver", args, env));
  (void)weaver;
  REQUIRE_OK(WaitFor(
      [&] {
        auto result = Weave(node, {"status"});
        return result.ok() && result->exit.success();
      },
      absl::Seconds(15), "weaver to answer"));
  std::string conflist = ReadFile(node.host_root() + "/etc/cni/net.d/10-weave.conflist");
  CHECK_THAT(conflist, Catch::Contains("\"type\": \"weave-net\"") &&
                           Catch::Contains("\"type\": \"portmap\""));
  CHECK(std::filesystem::exists(node.host_root() + "/opt/cni/bin/weave-net"));
  CHECK(std::filesystem::is_symlink(node.host_root() + "/opt/cni/bin/weave-ipam"));
}

}  // namespace
}  // namespace weave::testing
