// The real weave-net binary, run as a container runtime runs it (CNI environment, configuration
// on stdin), against a fake Router gRPC service on a unix socket.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "cni-plugin/plugin.h"
#include "cni-plugin/testing/fake_router_server.h"
#include "cni-plugin/testing/test_util.h"
#include "cni-plugin/version.h"
#include "test/harness/file_util.h"
#include "test/harness/status_assertions.h"
#include "test/harness/subprocess.h"

namespace weave::cni {
namespace {

using ::Catch::Matchers::Contains;
using nlohmann::json;
using testing::FakeRouterServer;
using testing::FakeRouterService;
using testing::Json;
using testing::ScratchDir;
using weave::testing::CommandOptions;
using weave::testing::CommandResult;
using weave::testing::Environment;
using weave::testing::RunCommand;

constexpr char kWeaveNet[] = WEAVE_NET_BINARY;
constexpr char kWeaveIpam[] = WEAVE_IPAM_BINARY;
constexpr char kHostLocal[] = "/usr/lib/cni/host-local";

std::string Config(absl::string_view version, absl::string_view extra = "") {
  return absl::StrCat(R"({"cniVersion":")", version, R"(","name":"weave","type":"weave-net")",
                      extra, "}");
}

// A node: the fake router on a socket in a scratch directory, and the plugin run against it.
class Node {
 public:
  Node() {
    absl::StatusOr<std::unique_ptr<FakeRouterServer>> server =
        FakeRouterServer::Start(dir_.File("weave.sock"));
    REQUIRE(server.ok());
    server_ = *std::move(server);
  }

  // Runs `binary` for `command` with the usual ADD environment, `extra` overriding it.
  CommandResult Run(const std::string& command, const std::string& config,
                    const Environment& extra = {}, const std::string& binary = kWeaveNet) {
    CommandOptions options;
    options.env = {
        {"CNI_COMMAND", command},
        {"CNI_CONTAINERID", "3f6940ab5ab4"},
        {"CNI_NETNS", "/var/run/netns/cni-3f69"},
        {"CNI_IFNAME", "eth0"},
        {"CNI_PATH", dir_.path()},
        {"CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAMESPACE=kube-system;K8S_POD_NAME=coredns-0"},
        {"WEAVE_SOCKET", socket()}};
    options.env.insert(options.env.end(), extra.begin(), extra.end());
    options.stdin_data = config;
    absl::StatusOr<CommandResult> result = RunCommand({binary}, absl::Seconds(60), options);
    REQUIRE(result.ok());
    INFO(result->command << " stderr: " << result->stderr_data);
    REQUIRE(result->exit.signal == 0);  // whatever the input, never a crash
    return *std::move(result);
  }

  FakeRouterClient& router() { return server_->router(); }
  FakeRouterService& service() { return server_->service(); }
  const ScratchDir& dir() const { return dir_; }
  std::string socket() const { return dir_.File("weave.sock"); }

 private:
  ScratchDir dir_;
  std::unique_ptr<FakeRouterServer> server_;
};

json Succeeded(const CommandResult& result) {
  INFO(result.stdout_data << result.stderr_data);
  REQUIRE(result.exit.code == 0);
  return Json(result.stdout_data);
}

json Failed(const CommandResult& result, int code) {
  INFO(result.stdout_data);
  CHECK(result.exit.code != 0);
  const json error = Json(result.stdout_data);
  REQUIRE(error.is_object());
  CHECK(error["code"] == code);
  CHECK(error.contains("cniVersion"));
  CHECK(error["msg"].is_string());
  CHECK(error["details"].is_string());
  return error;
}

TEST_CASE("VERSION lists the supported versions", "[process]") {
  Node node;
  const CommandResult result = node.Run("VERSION", "");
  CHECK(result.exit.code == 0);
  CHECK(result.stdout_data ==
        "{\"cniVersion\":\"1.1.0\",\"supportedVersions\":[\"0.3.0\",\"0.3.1\",\"0.4.0\","
        "\"1.0.0\",\"1.1.0\"]}\n");
}

TEST_CASE("ADD, CHECK and DEL at every version", "[process]") {
  for (absl::string_view version : kSupportedVersions) {
    INFO(version);
    Node node;
    const CommandResult add = node.Run("ADD", Config(version, R"(,"hairpinMode":false)"));
    const json result = Succeeded(add);
    CHECK(result["cniVersion"] == std::string(version));
    REQUIRE(result["interfaces"].size() == 2);
    CHECK(result["interfaces"][0]["name"] == "vethwepl3f6940a");
    CHECK(result["interfaces"][0]["mac"].is_string());
    CHECK(result["interfaces"][1]["name"] == "eth0");
    CHECK(result["interfaces"][1]["sandbox"] == "/var/run/netns/cni-3f69");
    REQUIRE(result["ips"].size() == 1);
    CHECK(result["ips"][0]["address"] == "10.32.0.2/12");
    CHECK(result["ips"][0]["gateway"] == "10.32.0.1");
    CHECK(result["ips"][0]["interface"] == 1);
    CHECK(result["ips"][0].contains("version") == (version < "1.0.0"));
    CHECK(result["routes"][0] == json{{"dst", "0.0.0.0/0"}, {"gw", "10.32.0.1"}});
    CHECK(result["dns"] == json::object());

    const v1::AttachContainerRequest attach = node.router().last_attach();
    CHECK(attach.container_id() == "3f6940ab5ab4");
    CHECK(attach.netns() == "/var/run/netns/cni-3f69");
    CHECK(attach.ifname() == "eth0");
    CHECK(attach.pod_namespace() == "kube-system");
    CHECK(attach.pod_name() == "coredns-0");
    CHECK(attach.has_hairpin());
    CHECK_FALSE(attach.hairpin());

    const std::string with_prev =
        Config(version, absl::StrCat(R"(,"prevResult":)", add.stdout_data));
    const CommandResult check = node.Run("CHECK", with_prev);
    if (version < "0.4.0") {
      Failed(check, kErrIncompatibleVersion);
    } else {
      CHECK(check.exit.code == 0);
      CHECK(check.stdout_data.empty());
      CHECK(node.router().last_check().expected_ips(0).address() == "10.32.0.2/12");
    }

    const CommandResult del = node.Run("DEL", with_prev);
    CHECK(del.exit.code == 0);
    CHECK(del.stdout_data.empty());
    CHECK(node.router().attached().empty());
    CHECK(node.Run("DEL", with_prev).exit.code == 0);  // again: already gone is fine
  }
}

TEST_CASE("GC and STATUS (CNI 1.1.0)", "[process]") {
  Node node;
  Succeeded(node.Run("ADD", Config("1.1.0")));
  Succeeded(node.Run("ADD", Config("1.1.0"), {{"CNI_CONTAINERID", "keep"}}));
  const CommandResult gc = node.Run(
      "GC",
      Config("1.1.0", R"(,"cni.dev/valid-attachments":[{"containerID":"keep","ifname":"eth0"}])"));
  CHECK(gc.exit.code == 0);
  CHECK(gc.stdout_data.empty());
  CHECK(node.router().attached() ==
        std::vector<std::pair<std::string, std::string>>{{"keep", "eth0"}});
  Failed(node.Run("GC", Config("1.0.0", R"(,"cni.dev/valid-attachments":[])")),
         kErrIncompatibleVersion);

  const CommandResult ready = node.Run("STATUS", Config("1.1.0"));
  CHECK(ready.exit.code == 0);
  CHECK(ready.stdout_data.empty());
  node.router().SetReady(false, {"ipam"});
  const json error = Failed(node.Run("STATUS", Config("1.1.0")), kErrPluginNotAvailable);
  CHECK(error["msg"] == "weave router is not ready (waiting for ipam)");
}

TEST_CASE("weave-ipam: the same binary under another name is an IPAM plugin", "[process]") {
  Node node;
  const std::string config = R"({"cniVersion":"1.0.0","name":"mynet","type":"bridge",
                                 "ipam":{"type":"weave-ipam"}})";
  const CommandResult add = node.Run("ADD", config, {}, kWeaveIpam);
  const json result = Succeeded(add);
  CHECK(result == json{{"cniVersion", "1.0.0"},
                       {"ips", {{{"address", "10.32.0.2/12"}, {"gateway", "10.32.0.1"}}}},
                       {"routes", {{{"dst", "0.0.0.0/0"}, {"gw", "10.32.0.1"}}}},
                       {"dns", json::object()}});
  CHECK(node.router().last_allocate().container_id() == "3f6940ab5ab4");

  const std::string with_prev =
      absl::StrCat(config.substr(0, config.rfind('}')), R"(,"prevResult":)", add.stdout_data, "}");
  CHECK(node.Run("CHECK", with_prev, {}, kWeaveIpam).exit.code == 0);
  CHECK(node.Run("DEL", with_prev, {}, kWeaveIpam).exit.code == 0);
  CHECK(node.router().allocations().empty());
  CHECK(node.router().attached().empty());  // IPAM only: nothing was attached
}

TEST_CASE("No router: code 11 naming the socket, try again later", "[process]") {
  Node node;
  const std::string missing = node.dir().File("nothing-here.sock");
  const CommandResult result = node.Run("ADD", Config("0.3.1"), {{"WEAVE_SOCKET", missing}});
  const json error = Failed(result, kErrTryAgainLater);
  CHECK(error["cniVersion"] == "0.3.1");
  CHECK(error["msg"] == absl::StrCat("weave router is not running (nothing answers on ", missing,
                                     "); try again later"));
  CHECK_THAT(result.stderr_data, Contains("weave-net: ADD 3f6940ab5ab4/eth0: weave router is "
                                          "not running"));
  // The configuration's "socket" wins over WEAVE_SOCKET.
  Succeeded(node.Run("ADD", Config("0.3.1", absl::StrCat(R"(,"socket":")", node.socket(), "\"")),
                     {{"WEAVE_SOCKET", missing}}));
}

// The binary's gRPC runs on its own event engine (alarm_event_engine.h): deadlines still fire.
// STATUS has the shortest deadline, and reports every failure as "not available" (code 50).
TEST_CASE("A router that does not answer in time: an error once the deadline passes", "[process]") {
  Node node;
  node.service().set_delay(kStatusTimeout + absl::Seconds(1));
  const json error = Failed(node.Run("STATUS", Config("1.1.0")), kErrPluginNotAvailable);
  CHECK(error["msg"] == absl::StrCat("weave router on ", node.socket(),
                                     " did not answer GetStatus within 5s; try again later"));
}

TEST_CASE("Bad input: the spec's codes, never a crash", "[process]") {
  REQUIRE(std::getenv("CNI_NETNS") == nullptr);  // "missing" below means missing
  Node node;
  SECTION("malformed JSON") {
    Failed(node.Run("ADD", R"({"cniVersion":"1.0.0","name":)"), kErrDecoding);
  }
  SECTION("unknown cniVersion") {
    const json error = Failed(node.Run("ADD", Config("0.9.9")), kErrIncompatibleVersion);
    CHECK(error["cniVersion"] == "1.1.0");
  }
  SECTION("missing CNI_NETNS") {
    CommandOptions options;
    options.env = {{"CNI_COMMAND", "ADD"},
                   {"CNI_CONTAINERID", "abc"},
                   {"CNI_IFNAME", "eth0"},
                   {"WEAVE_SOCKET", node.socket()}};
    options.stdin_data = Config("1.0.0");
    ASSIGN_OR_REQUIRE(const CommandResult result,
                      RunCommand({kWeaveNet}, absl::Seconds(60), options));
    const json error = Failed(result, kErrInvalidEnvironment);
    CHECK(error["msg"] == "required environment variable CNI_NETNS is not set for ADD");
    CHECK(node.router().calls().empty());
  }
  SECTION("an unknown command") {
    Failed(node.Run("UPGRADE", Config("1.0.0")), kErrInvalidEnvironment);
  }
  SECTION("garbage of all kinds") {
    const std::string garbage[] = {
        "",
        std::string("\xff\xfe\x00\x01", 4),
        std::string(100000, '['),
        R"({"cniVersion":"1.0.0","name":"w","type":"weave-net","mtu":1e400})",
        R"({"cniVersion":"1.0.0","name":"w","type":"weave-net","prevResult":{"ips":[{"address":"x","interface":99999999999}]}})",
        R"({"cniVersion":"1.0.0","name":"\ud800","type":"weave-net"})",
        std::string(5 << 20, ' '),
    };
    for (const std::string& input : garbage) {
      const CommandResult result = node.Run("ADD", input);
      CHECK(result.exit.code == 1);
      CHECK(Json(result.stdout_data).is_object());
    }
  }
}

TEST_CASE("Delegated IPAM: a plugin from CNI_PATH picks the address", "[process]") {
  Node node;
  // A tiny IPAM plugin: logs each command it gets, answers ADD with a fixed address.
  node.dir().Write("test-ipam",
                   "#!/bin/sh\n"
                   "cat > /dev/null\n"
                   "echo \"$CNI_COMMAND $CNI_CONTAINERID\" >> \"$(dirname \"$0\")/ipam.log\"\n"
                   "if [ \"$CNI_COMMAND\" = ADD ]; then\n"
                   "  echo '{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.99.0.7/24\","
                   "\"gateway\":\"10.99.0.1\"}],\"routes\":[{\"dst\":\"0.0.0.0/0\"}]}'\n"
                   "fi\n",
                   /*executable=*/true);
  const std::string config = Config("1.0.0", R"(,"ipam":{"type":"test-ipam"})");
  const json result = Succeeded(node.Run("ADD", config, {{"PATH", "/usr/bin:/bin"}}));
  CHECK(result["ips"][0]["address"] == "10.99.0.7/24");
  const v1::AttachContainerRequest attach = node.router().last_attach();
  REQUIRE(attach.ips_size() == 1);
  CHECK(attach.ips(0).address() == "10.99.0.7/24");
  CHECK(attach.ips(0).gateway() == "10.99.0.1");

  CHECK(node.Run("DEL", config, {{"PATH", "/usr/bin:/bin"}}).exit.code == 0);
  CHECK(weave::testing::ReadFileOrEmpty(node.dir().File("ipam.log")) ==
        "ADD 3f6940ab5ab4\nDEL 3f6940ab5ab4\n");

  const json missing =
      Failed(node.Run("ADD", Config("1.0.0", R"(,"ipam":{"type":"nope"})")), kErrInvalidConfig);
  CHECK_THAT(missing["msg"].get<std::string>(), Contains("ipam plugin nope not found in CNI_PATH"));
}

TEST_CASE("Delegated IPAM with the reference host-local plugin", "[process]") {
  if (!std::filesystem::exists(kHostLocal)) {
    WARN("skipped: " << kHostLocal
                     << " is not installed (apt-get install "
                        "containernetworking-plugins)");
    return;
  }
  Node node;
  const std::string data_dir = node.dir().File("host-local");
  const std::string config =
      Config("1.0.0", absl::StrCat(R"(,"ipam":{"type":"host-local","subnet":"10.99.0.0/24",)",
                                   R"("dataDir":")", data_dir, R"("})"));
  const Environment env = {{"CNI_PATH", "/usr/lib/cni"}};
  const json result = Succeeded(node.Run("ADD", config, env));
  CHECK(result["ips"][0]["address"] == "10.99.0.2/24");
  CHECK(result["ips"][0]["gateway"] == "10.99.0.1");
  CHECK(node.router().last_attach().ips(0).address() == "10.99.0.2/24");
  CHECK(std::filesystem::exists(data_dir + "/weave/10.99.0.2"));

  const std::string with_prev =
      absl::StrCat(config.substr(0, config.rfind('}')), R"(,"prevResult":)", result.dump(), "}");
  CHECK(node.Run("CHECK", with_prev, env).exit.code == 0);
  CHECK(node.Run("DEL", with_prev, env).exit.code == 0);
  CHECK_FALSE(std::filesystem::exists(data_dir + "/weave/10.99.0.2"));
}

TEST_CASE("weave-net is fully static: no shared libraries", "[process]") {
  ASSIGN_OR_REQUIRE(const CommandResult readelf,
                    RunCommand({"readelf", "-d", kWeaveNet}, absl::Seconds(30)));
  INFO(readelf.stdout_data);
  CHECK(readelf.exit.code == 0);
  CHECK_THAT(readelf.stdout_data, !Contains("NEEDED") && !Contains("Shared library"));
  CHECK_THAT(readelf.stdout_data, Contains("There is no dynamic section in this file."));
}

// Not a timed test (hidden: run with `cni_plugin_process_test "[bench]"`): prints the end-to-end
// latency of ADD and VERSION as the runtime sees it, process start to exit, fake router included.
TEST_CASE("Benchmark: ADD and VERSION latency", "[.][bench]") {
  Node node;
  auto measure = [&node](const std::string& command, int runs) {
    std::vector<double> ms;
    for (int i = 0; i < runs; ++i) {
      const absl::Time start = absl::Now();
      const CommandResult result =
          node.Run(command, Config("1.0.0"), {{"CNI_CONTAINERID", absl::StrCat("bench", i % 10)}});
      ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
      REQUIRE(result.exit.code == 0);
    }
    std::sort(ms.begin(), ms.end());
    std::cout << command << " x" << runs << ": p50 " << ms[ms.size() / 2] << " ms, p90 "
              << ms[ms.size() * 9 / 10] << " ms, min " << ms.front() << " ms\n";
  };
  measure("VERSION", 100);
  measure("ADD", 100);
}

}  // namespace
}  // namespace weave::cni
