#include "cni-plugin/plugin.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>

#include "absl/strings/str_cat.h"
#include "cni-plugin/fake_router_client.h"
#include "cni-plugin/testing/test_util.h"

namespace weave::cni {
namespace {

using ::Catch::Matchers::Contains;
using nlohmann::json;
using testing::Json;

class FakeIpamDelegate final : public IpamDelegate {
 public:
  struct Call {
    std::string type;
    Command command;
    std::string stdin_data;
  };

  absl::StatusOr<std::string> Run(absl::string_view type, Command command,
                                  absl::string_view stdin_data) override {
    calls.push_back({std::string(type), command, std::string(stdin_data)});
    auto it = answers.find(command);
    return it == answers.end() ? absl::StatusOr<std::string>("") : it->second;
  }

  std::vector<Command> commands() const {
    std::vector<Command> out;
    for (const Call& call : calls) out.push_back(call.command);
    return out;
  }

  std::map<Command, absl::StatusOr<std::string>> answers;
  std::vector<Call> calls;
};

// One node: a fake router and a fake delegated IPAM plugin, and the invocations run against them.
class Node {
 public:
  Outcome Run(const std::string& command, const std::string& config, Mode mode = Mode::kNet,
              EnvMap extra = {}) {
    EnvMap env = {{"CNI_COMMAND", command},
                  {"CNI_CONTAINERID", "3f6940ab5ab4"},
                  {"CNI_NETNS", "/var/run/netns/cni-1"},
                  {"CNI_IFNAME", "eth0"},
                  {"CNI_PATH", "/opt/cni/bin"},
                  {"CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0"}};
    for (auto& [name, value] : extra) env[name] = value;
    const Dependencies deps{
        .router = [this](const std::string& socket,
                         absl::Duration timeout) -> std::shared_ptr<RouterClient> {
          socket_ = socket;
          timeout_ = timeout;
          return std::shared_ptr<RouterClient>(&router, [](RouterClient*) {});  // not owned
        },
        .ipam = &ipam};
    return RunPlugin({.mode = mode, .env = env, .stdin_data = config}, deps);
  }

  FakeRouterClient router;
  FakeIpamDelegate ipam;
  const std::string& socket() const { return socket_; }
  absl::Duration timeout() const { return timeout_; }

 private:
  std::string socket_;
  absl::Duration timeout_;
};

std::string Config(absl::string_view version, absl::string_view extra = "") {
  return absl::StrCat(R"({"cniVersion":")", version, R"(","name":"weave","type":"weave-net")",
                      extra, "}");
}

// The configuration a runtime sends for CHECK or DEL after `add_output`.
std::string WithPrevResult(absl::string_view version, const std::string& add_output,
                           absl::string_view extra = "") {
  return Config(version, absl::StrCat(R"(,"prevResult":)", add_output, extra));
}

void RequireError(const Outcome& outcome, int code, const std::string& message) {
  INFO(outcome.output);
  CHECK(outcome.exit_code == 1);
  const json error = Json(outcome.output);
  REQUIRE(error.is_object());
  CHECK(error["code"] == code);
  CHECK_THAT(error["msg"].get<std::string>(), Contains(message));
  CHECK(error.contains("cniVersion"));
  CHECK(error.contains("details"));
}

TEST_CASE("ADD attaches through the router and prints the result for every version", "[plugin]") {
  for (absl::string_view version : kSupportedVersions) {
    INFO(version);
    Node node;
    const Outcome outcome = node.Run("ADD", Config(version, R"(,"mtu":1400,"hairpinMode":true)"));
    REQUIRE(outcome.exit_code == 0);
    CHECK(outcome.log.empty());
    const json result = Json(outcome.output);
    CHECK(result["cniVersion"] == std::string(version));
    REQUIRE(result["interfaces"].size() == 2);
    CHECK(result["interfaces"][0]["name"] == "vethwepl3f6940a");
    json container = {{"name", "eth0"},
                      {"mac", result["interfaces"][1]["mac"]},
                      {"sandbox", "/var/run/netns/cni-1"}};
    if (version == "1.1.0") container["mtu"] = 1400;
    CHECK(result["interfaces"][1] == container);
    REQUIRE(result["ips"].size() == 1);
    CHECK(result["ips"][0]["address"] == "10.32.0.2/12");
    CHECK(result["ips"][0]["gateway"] == "10.32.0.1");
    CHECK(result["ips"][0]["interface"] == 1);
    CHECK(result["ips"][0].contains("version") == (version < "1.0.0"));
    CHECK(result["routes"] == json::array({{{"dst", "0.0.0.0/0"}, {"gw", "10.32.0.1"}}}));
    CHECK(result["dns"] == json::object());

    const v1::AttachContainerRequest request = node.router.last_attach();
    CHECK(request.container_id() == "3f6940ab5ab4");
    CHECK(request.netns() == "/var/run/netns/cni-1");
    CHECK(request.ifname() == "eth0");
    CHECK(request.pod_namespace() == "default");
    CHECK(request.pod_name() == "web-0");
    CHECK(request.mtu() == 1400);
    CHECK(request.hairpin());
    CHECK(node.socket() == "/run/weave/weave.sock");
    CHECK(node.timeout() == kRouterTimeout);
  }
}

TEST_CASE("The socket comes from the configuration, then WEAVE_SOCKET", "[plugin]") {
  Node node;
  node.Run("ADD", Config("1.0.0"), Mode::kNet, {{"WEAVE_SOCKET", "/tmp/env.sock"}});
  CHECK(node.socket() == "/tmp/env.sock");
  node.Run("ADD", Config("1.0.0", R"(,"socket":"/tmp/conf.sock")"), Mode::kNet,
           {{"WEAVE_SOCKET", "/tmp/env.sock"}});
  CHECK(node.socket() == "/tmp/conf.sock");
}

TEST_CASE("ADD in a chain appends to prevResult", "[plugin]") {
  Node node;
  const Outcome outcome = node.Run(
      "ADD", WithPrevResult("1.0.0", R"({"cniVersion":"1.0.0","interfaces":[{"name":"lo0"}],
                                         "ips":[{"address":"192.168.9.9/24","interface":0}],
                                         "dns":{"domain":"prev"}})"));
  REQUIRE(outcome.exit_code == 0);
  const json result = Json(outcome.output);
  REQUIRE(result["interfaces"].size() == 3);
  CHECK(result["interfaces"][0]["name"] == "lo0");
  REQUIRE(result["ips"].size() == 2);
  CHECK(result["ips"][0]["interface"] == 0);
  CHECK(result["ips"][1]["interface"] == 2);
  CHECK(result["dns"]["domain"] == "prev");
}

TEST_CASE("A repeated ADD gets the same address and DEL detaches, twice", "[plugin]") {
  Node node;
  const Outcome first = node.Run("ADD", Config("0.4.0"));
  const Outcome second = node.Run("ADD", Config("0.4.0"));
  CHECK(Json(first.output)["ips"] == Json(second.output)["ips"]);

  const Outcome del =
      node.Run("DEL", WithPrevResult("0.4.0", first.output), Mode::kNet, {{"CNI_NETNS", ""}});
  CHECK(del.exit_code == 0);
  CHECK(del.output.empty());
  CHECK(node.router.last_detach().container_id() == "3f6940ab5ab4");
  CHECK(node.router.last_detach().ifname() == "eth0");
  CHECK(node.router.last_detach().netns().empty());
  CHECK(node.router.attached().empty());
  CHECK(node.Run("DEL", Config("0.4.0")).exit_code == 0);
}

TEST_CASE("DEL of something the router no longer knows succeeds but a router away fails",
          "[plugin]") {
  Node node;
  node.router.SetError("DetachContainer", absl::NotFoundError("no such container"));
  CHECK(node.Run("DEL", Config("1.0.0")).exit_code == 0);
  node.router.SetError("DetachContainer",
                       absl::UnavailableError("weave router is not running (nothing answers on "
                                              "/run/weave/weave.sock); try again later"));
  RequireError(node.Run("DEL", Config("1.0.0")), kErrTryAgainLater, "/run/weave/weave.sock");
}

TEST_CASE("CHECK asks the router about the prevResult's addresses", "[plugin]") {
  Node node;
  const Outcome add = node.Run("ADD", Config("1.0.0"));
  const Outcome check = node.Run("CHECK", WithPrevResult("1.0.0", add.output));
  INFO(check.output);
  CHECK(check.exit_code == 0);
  CHECK(check.output.empty());
  const v1::CheckContainerRequest request = node.router.last_check();
  CHECK(request.netns() == "/var/run/netns/cni-1");
  REQUIRE(request.expected_ips_size() == 1);
  CHECK(request.expected_ips(0).address() == "10.32.0.2/12");

  SECTION("a container the router does not know is code 3") {
    RequireError(node.Run("CHECK", WithPrevResult("1.0.0", add.output), Mode::kNet,
                          {{"CNI_CONTAINERID", "other"}}),
                 kErrUnknownContainer, "has no interface eth0");
  }
  SECTION("without prevResult") {
    RequireError(node.Run("CHECK", Config("1.0.0")), kErrInvalidConfig, "CHECK needs prevResult");
  }
  SECTION("before 0.4.0 there is no CHECK") {
    RequireError(node.Run("CHECK", WithPrevResult("0.3.1", add.output)), kErrIncompatibleVersion,
                 "does not allow CHECK");
  }
}

TEST_CASE("GC releases what the runtime no longer lists, and only with a list", "[plugin]") {
  Node node;
  node.Run("ADD", Config("1.1.0"));
  node.Run("ADD", Config("1.1.0"), Mode::kNet, {{"CNI_CONTAINERID", "keep"}});
  const Outcome gc =
      node.Run("GC", Config("1.1.0", R"(,"cni.dev/valid-attachments":[{"containerID":"keep",
                                                                       "ifname":"eth0"}])"),
               Mode::kNet, {{"CNI_CONTAINERID", ""}, {"CNI_NETNS", ""}, {"CNI_IFNAME", ""}});
  CHECK(gc.exit_code == 0);
  CHECK(gc.output.empty());
  CHECK(node.router.attached() ==
        std::vector<std::pair<std::string, std::string>>{{"keep", "eth0"}});

  RequireError(node.Run("GC", Config("1.1.0")), kErrInvalidConfig,
               "GC needs cni.dev/valid-attachments");
  RequireError(node.Run("GC", Config("1.0.0", R"(,"cni.dev/valid-attachments":[])")),
               kErrIncompatibleVersion, "does not allow GC");
  CHECK(node.router.attached().size() == 1);
}

TEST_CASE("STATUS answers the router's readiness, with code 50 when not ready", "[plugin]") {
  Node node;
  const Outcome ready = node.Run("STATUS", Config("1.1.0"));
  CHECK(ready.exit_code == 0);
  CHECK(ready.output.empty());
  CHECK(node.timeout() == kStatusTimeout);

  node.router.SetReady(false, {"ipam", "npc"});
  RequireError(node.Run("STATUS", Config("1.1.0")), kErrPluginNotAvailable,
               "weave router is not ready (waiting for ipam, npc)");

  node.router.SetError("GetStatus", absl::UnavailableError("nothing answers on /x.sock"));
  RequireError(node.Run("STATUS", Config("1.1.0")), kErrPluginNotAvailable, "/x.sock");

  RequireError(node.Run("STATUS", Config("1.0.0")), kErrIncompatibleVersion,
               "does not allow STATUS");
}

TEST_CASE("VERSION needs no configuration and echoes a supported cniVersion", "[plugin]") {
  Node node;
  const Outcome bare = node.Run("VERSION", "");
  CHECK(bare.exit_code == 0);
  CHECK(bare.output ==
        R"({"cniVersion":"1.1.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]})"
        "\n");
  CHECK(Json(node.Run("VERSION", R"({"cniVersion":"0.4.0"})").output)["cniVersion"] == "0.4.0");
  CHECK(node.router.calls().empty());
}

TEST_CASE("Errors are CNI error documents in the configuration's version", "[plugin]") {
  Node node;
  SECTION("no CNI_COMMAND") {
    const Outcome outcome = node.Run("", Config("0.3.1"));
    RequireError(outcome, kErrInvalidEnvironment, "CNI_COMMAND is not set");
    CHECK(Json(outcome.output)["cniVersion"] == "0.3.1");
  }
  SECTION("missing CNI_NETNS names it, and the log line says who failed") {
    const Outcome outcome = node.Run("ADD", Config("1.0.0"), Mode::kNet, {{"CNI_NETNS", ""}});
    RequireError(outcome, kErrInvalidEnvironment, "CNI_NETNS");
    CHECK(outcome.log ==
          "weave-net: ADD 3f6940ab5ab4/eth0: required environment variable CNI_NETNS is not set "
          "for ADD");
    CHECK(node.router.calls().empty());
  }
  SECTION("bad JSON") {
    const Outcome outcome = node.Run("ADD", "{not json");
    RequireError(outcome, kErrDecoding, "not valid JSON");
    CHECK(Json(outcome.output)["cniVersion"] == "1.1.0");
  }
  SECTION("an unsupported version") {
    const Outcome outcome = node.Run("ADD", Config("2.0.0"));
    RequireError(outcome, kErrIncompatibleVersion, "unsupported cniVersion \"2.0.0\"");
    CHECK(Json(outcome.output)["details"] ==
          "config is \"2.0.0\", plugin supports [0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0]");
  }
  SECTION("the router's own errors") {
    node.router.SetError("AttachContainer", absl::ResourceExhaustedError("router: no space"));
    RequireError(node.Run("ADD", Config("1.0.0")), kErrTryAgainLater, "router: no space");
    node.router.SetError("AttachContainer", absl::UnimplementedError("router: not yet"));
    RequireError(node.Run("ADD", Config("1.0.0")), kErrInternal, "router: not yet");
  }
}

TEST_CASE("weave-ipam allocates, checks and releases through the router", "[plugin]") {
  Node node;
  const std::string config = R"({"cniVersion":"0.4.0","name":"mynet","type":"bridge",
                                 "ipam":{"type":"weave-ipam","subnet":"10.40.0.0/16"}})";
  const Outcome add = node.Run("ADD", config, Mode::kIpam, {{"CNI_NETNS", ""}});
  REQUIRE(add.exit_code == 0);
  const json result = Json(add.output);
  CHECK_FALSE(result.contains("interfaces"));
  CHECK(result["ips"] ==
        json::array({{{"version", "4"}, {"address", "10.32.0.2/12"}, {"gateway", "10.32.0.1"}}}));
  CHECK(result["routes"] == json::array({{{"dst", "0.0.0.0/0"}, {"gw", "10.32.0.1"}}}));
  CHECK(node.router.last_allocate().subnet() == "10.40.0.0/16");
  CHECK(node.router.last_allocate().ifname() == "eth0");

  const std::string with_prev =
      absl::StrCat(config.substr(0, config.rfind('}')), R"(,"prevResult":)", add.output, "}");
  CHECK(node.Run("CHECK", with_prev, Mode::kIpam).exit_code == 0);
  const std::string wrong_prev = absl::StrCat(
      config.substr(0, config.rfind('}')),
      R"(,"prevResult":{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.32.0.77/12"}]}})");
  RequireError(node.Run("CHECK", wrong_prev, Mode::kIpam), kErrInternal,
               "holds 10.32.0.2/12, not the prevResult's 10.32.0.77/12");

  // GC of another network must not release weave-net's pods: the router cannot tell them apart.
  node.Run("ADD", Config("1.1.0"), Mode::kNet, {{"CNI_CONTAINERID", "weave-net-pod"}});
  const std::string gc_config = R"({"cniVersion":"1.1.0","name":"mynet","type":"bridge",
                                    "ipam":{"type":"weave-ipam"},"cni.dev/valid-attachments":[]})";
  CHECK(node.Run("GC", gc_config, Mode::kIpam).exit_code == 0);
  CHECK(node.router.attached().size() == 1);
  const std::vector<std::string> calls = node.router.calls();
  CHECK(std::find(calls.begin(), calls.end(), "GarbageCollect") == calls.end());
  CHECK(node.Run("DEL", config, Mode::kIpam).exit_code == 0);
  CHECK(node.router.last_release().container_id() == "3f6940ab5ab4");
  CHECK(node.router.allocations().size() == 1);  // only the weave-net pod's
}

TEST_CASE("A delegated IPAM plugin chooses the address and is released on DEL", "[plugin]") {
  Node node;
  node.ipam.answers[Command::kAdd] = std::string(
      R"({"cniVersion":"1.0.0","ips":[{"address":"10.1.0.2/16","gateway":"10.1.0.1"}],
          "routes":[{"dst":"0.0.0.0/0","gw":"10.1.0.1"}],"dns":{"nameservers":["10.1.0.53"]}})");
  const std::string config = Config("1.0.0", R"(,"ipam":{"type":"host-local"})");

  const Outcome add = node.Run("ADD", config);
  REQUIRE(add.exit_code == 0);
  CHECK(node.ipam.commands() == std::vector<Command>{Command::kAdd});
  CHECK(node.ipam.calls[0].type == "host-local");
  CHECK(node.ipam.calls[0].stdin_data == config);
  const v1::AttachContainerRequest request = node.router.last_attach();
  REQUIRE(request.ips_size() == 1);
  CHECK(request.ips(0).address() == "10.1.0.2/16");
  const json result = Json(add.output);
  CHECK(result["ips"][0]["address"] == "10.1.0.2/16");
  CHECK(result["dns"]["nameservers"][0] == "10.1.0.53");

  CHECK(node.Run("CHECK", WithPrevResult("1.0.0", add.output, R"(,"ipam":{"type":"host-local"})"))
            .exit_code == 0);
  CHECK(node.Run("DEL", config).exit_code == 0);
  CHECK(node.ipam.commands() ==
        std::vector<Command>{Command::kAdd, Command::kCheck, Command::kDel});
}

TEST_CASE("A failed ADD gives the delegated address back", "[plugin]") {
  Node node;
  const std::string config = Config("1.0.0", R"(,"ipam":{"type":"host-local"})");
  SECTION("the router fails") {
    node.ipam.answers[Command::kAdd] = std::string(R"({"ips":[{"address":"10.1.0.2/16"}]})");
    node.router.SetError("AttachContainer", absl::UnavailableError("router away"));
    RequireError(node.Run("ADD", config), kErrTryAgainLater, "router away");
    CHECK(node.ipam.commands() == std::vector<Command>{Command::kAdd, Command::kDel});
  }
  SECTION("the plugin prints no address") {
    node.ipam.answers[Command::kAdd] = std::string(R"({"ips":[]})");
    RequireError(node.Run("ADD", config), kErrInternal,
                 "ipam plugin host-local returned no IP addresses");
    CHECK(node.ipam.commands() == std::vector<Command>{Command::kAdd, Command::kDel});
    CHECK(node.router.calls().empty());
  }
  SECTION("the plugin prints garbage") {
    node.ipam.answers[Command::kAdd] = std::string("garbage");
    RequireError(node.Run("ADD", config), kErrDecoding,
                 "ipam plugin host-local: result is not a JSON object");
    CHECK(node.ipam.commands() == std::vector<Command>{Command::kAdd, Command::kDel});
  }
  SECTION("the plugin fails: its error, nothing to give back") {
    node.ipam.answers[Command::kAdd] =
        CniStatus(kErrTryAgainLater, "ipam plugin host-local: no addresses left");
    RequireError(node.Run("ADD", config), kErrTryAgainLater, "no addresses left");
    CHECK(node.ipam.commands() == std::vector<Command>{Command::kAdd});
  }
}

TEST_CASE("GC and STATUS reach the delegated IPAM plugin too", "[plugin]") {
  Node node;
  const std::string extra = R"(,"ipam":{"type":"host-local"},"cni.dev/valid-attachments":[])";
  CHECK(node.Run("GC", Config("1.1.0", extra)).exit_code == 0);
  CHECK(node.Run("STATUS", Config("1.1.0", extra)).exit_code == 0);
  CHECK(node.ipam.commands() == std::vector<Command>{Command::kGc, Command::kStatus});
  node.ipam.answers[Command::kStatus] =
      CniStatus(kErrPluginNotAvailable, "ipam plugin host-local: store not writable");
  RequireError(node.Run("STATUS", Config("1.1.0", extra)), kErrPluginNotAvailable,
               "store not writable");
}

}  // namespace
}  // namespace weave::cni
