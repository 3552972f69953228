#include "cni-plugin/cni.h"

#include <catch2/catch.hpp>

#include "cni-plugin/testing/test_util.h"
#include "test/harness/status_assertions.h"

namespace weave::cni {
namespace {

using ::Catch::Matchers::Contains;
using testing::CniCode;

constexpr char kMinimal[] = R"({"cniVersion":"1.0.0","name":"weave","type":"weave-net"})";

EnvMap AddEnv() {
  return {{"CNI_COMMAND", "ADD"},
          {"CNI_CONTAINERID", "3f6940ab5ab4"},
          {"CNI_NETNS", "/var/run/netns/cni-1"},
          {"CNI_IFNAME", "eth0"},
          {"CNI_PATH", "/opt/cni/bin"}};
}

TEST_CASE("ParseCommand knows the six commands and rejects others with code 4", "[cni]") {
  for (absl::string_view name : {"ADD", "DEL", "CHECK", "VERSION", "GC", "STATUS"}) {
    ASSIGN_OR_REQUIRE(const Command command, ParseCommand(name));
    CHECK(CommandName(command) == name);
  }
  const absl::Status unknown = ParseCommand("add").status();
  CHECK(CniCode(unknown) == kErrInvalidEnvironment);
  CHECK_THAT(std::string(unknown.message()), Contains("unknown CNI_COMMAND \"add\""));
  const absl::Status unset = ParseCommand("").status();
  CHECK(CniCode(unset) == kErrInvalidEnvironment);
  CHECK_THAT(std::string(unset.message()), Contains("CNI_COMMAND is not set"));
}

TEST_CASE("CHECK needs 0.4.0 and GC and STATUS need 1.1.0", "[cni]") {
  CHECK(CniCode(CheckCommandAllowed(Command::kCheck, CniVersion::k0_3_1)) ==
        kErrIncompatibleVersion);
  CHECK_OK(CheckCommandAllowed(Command::kCheck, CniVersion::k0_4_0));
  for (Command command : {Command::kGc, Command::kStatus}) {
    CHECK(CniCode(CheckCommandAllowed(command, CniVersion::k1_0_0)) == kErrIncompatibleVersion);
    CHECK_OK(CheckCommandAllowed(command, CniVersion::k1_1_0));
  }
  CHECK_OK(CheckCommandAllowed(Command::kAdd, CniVersion::k0_3_0));
  CHECK_THAT(std::string(CheckCommandAllowed(Command::kGc, CniVersion::k0_4_0).message()),
             Contains("cniVersion 0.4.0 does not allow GC"));
}

TEST_CASE("The mode follows the basename of argv[0]", "[cni]") {
  CHECK(ModeFromProgramName("weave-ipam") == Mode::kIpam);
  CHECK(ModeFromProgramName("/opt/cni/bin/weave-ipam") == Mode::kIpam);
  CHECK(ModeFromProgramName("/opt/cni/bin/weave-net") == Mode::kNet);
  CHECK(ModeFromProgramName("/opt/weave-ipam/weave-net") == Mode::kNet);
  CHECK(ModeFromProgramName("") == Mode::kNet);
}

TEST_CASE("ParseEnv requires what each command needs and names what is missing", "[cni]") {
  SECTION("ADD with everything") {
    ASSIGN_OR_REQUIRE(const CniEnv env, ParseEnv(Command::kAdd, Mode::kNet, AddEnv()));
    CHECK(env.container_id == "3f6940ab5ab4");
    CHECK(env.netns == "/var/run/netns/cni-1");
    CHECK(env.ifname == "eth0");
    CHECK(env.path == "/opt/cni/bin");
  }
  SECTION("ADD without CNI_NETNS") {
    EnvMap env = AddEnv();
    env.erase("CNI_NETNS");
    const absl::Status status = ParseEnv(Command::kAdd, Mode::kNet, env).status();
    CHECK(CniCode(status) == kErrInvalidEnvironment);
    CHECK(status.message() == "required environment variable CNI_NETNS is not set for ADD");
  }
  SECTION("several missing are named together") {
    const absl::Status status = ParseEnv(Command::kCheck, Mode::kNet, {}).status();
    CHECK(status.message() ==
          "required environment variables CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME are not set for "
          "CHECK");
  }
  SECTION("DEL does without CNI_NETNS") {
    EnvMap env = AddEnv();
    env.erase("CNI_NETNS");
    CHECK_OK(ParseEnv(Command::kDel, Mode::kNet, env));
  }
  SECTION("the IPAM plugin needs no CNI_NETNS, and DEL no CNI_IFNAME") {
    EnvMap env = AddEnv();
    env.erase("CNI_NETNS");
    CHECK_OK(ParseEnv(Command::kAdd, Mode::kIpam, env));
    env.erase("CNI_IFNAME");
    CHECK_OK(ParseEnv(Command::kDel, Mode::kIpam, env));
    CHECK(CniCode(ParseEnv(Command::kDel, Mode::kNet, env).status()) == kErrInvalidEnvironment);
  }
  SECTION("GC, STATUS and VERSION need nothing") {
    for (Command command : {Command::kGc, Command::kStatus, Command::kVersion}) {
      CHECK_OK(ParseEnv(command, Mode::kNet, {}));
    }
  }
}

TEST_CASE("ParseEnv validates the container ID and interface name as the spec says", "[cni]") {
  auto with = [](const std::string& name, const std::string& value) {
    EnvMap env = AddEnv();
    env[name] = value;
    return ParseEnv(Command::kAdd, Mode::kNet, env).status();
  };
  CHECK_OK(with("CNI_CONTAINERID", "a_b.c-9"));
  for (const char* bad : {"-abc", "_abc", "a b", "a/b", "abc;rm"}) {
    const absl::Status status = with("CNI_CONTAINERID", bad);
    CHECK(CniCode(status) == kErrInvalidEnvironment);
    CHECK_THAT(std::string(status.message()), Contains("CNI_CONTAINERID"));
  }
  CHECK_OK(with("CNI_IFNAME", "net1"));
  CHECK_OK(with("CNI_IFNAME", std::string(15, 'e')));
  for (const std::string& bad :
       {std::string(16, 'e'), std::string("."), std::string(".."), std::string("eth/0"),
        std::string("eth:0"), std::string("eth 0")}) {
    const absl::Status status = with("CNI_IFNAME", bad);
    CHECK(CniCode(status) == kErrInvalidEnvironment);
    CHECK_THAT(std::string(status.message()), Contains("CNI_IFNAME"));
  }
}

TEST_CASE("ParseCniArgs takes the pod's namespace and name and ignores other keys", "[cni]") {
  ASSIGN_OR_REQUIRE(
      const CniArgs args,
      ParseCniArgs("IgnoreUnknown=1;K8S_POD_NAMESPACE=kube-system;K8S_POD_NAME=coredns-5d78c;"
                   "K8S_POD_INFRA_CONTAINER_ID=3f69;K8S_POD_UID=a=b"));
  CHECK(args == CniArgs{"kube-system", "coredns-5d78c"});
  ASSIGN_OR_REQUIRE(const CniArgs empty, ParseCniArgs(""));
  CHECK(empty == CniArgs{});
  ASSIGN_OR_REQUIRE(const CniArgs trailing, ParseCniArgs("K8S_POD_NAME=web;;"));
  CHECK(trailing.pod_name == "web");
  for (const char* bad : {"K8S_POD_NAME", "=value", "A=1;junk"}) {
    const absl::Status status = ParseCniArgs(bad).status();
    CHECK(CniCode(status) == kErrInvalidEnvironment);
    CHECK_THAT(std::string(status.message()), Contains("CNI_ARGS"));
  }
}

TEST_CASE("ParseNetConf reads a full configuration", "[cni]") {
  ASSIGN_OR_REQUIRE(const NetConf conf, ParseNetConf(R"({
    "cniVersion": "0.3.1", "name": "weave", "type": "weave-net", "hairpinMode": false,
    "mtu": 1400, "socket": "/tmp/w.sock", "dns": {"nameservers": ["10.96.0.10"]},
    "runtimeConfig": {"portMappings": []}, "args": {"labels": {"a": "b"}},
    "bridge": "weave", "isGateway": false, "ipMasq": false, "unknownKey": [1, 2],
    "ipam": {"type": "host-local", "subnet": "10.1.0.0/16"}
  })",
                                                     Mode::kNet));
  CHECK(conf.version == CniVersion::k0_3_1);
  CHECK(conf.name == "weave");
  CHECK(conf.type == "weave-net");
  CHECK(conf.hairpin_mode == std::optional<bool>(false));
  CHECK(conf.mtu == 1400);
  CHECK(conf.socket == "/tmp/w.sock");
  CHECK(conf.dns == nlohmann::json{{"nameservers", {"10.96.0.10"}}});
  CHECK(conf.ipam.type == "host-local");
  CHECK(conf.ipam.delegated());
  CHECK_FALSE(conf.prev_result.has_value());
  CHECK_FALSE(conf.valid_attachments.has_value());
}

TEST_CASE("ParseNetConf defaults: the router's IPAM, MTU and hairpin mode", "[cni]") {
  ASSIGN_OR_REQUIRE(const NetConf conf, ParseNetConf(kMinimal, Mode::kNet));
  CHECK(conf.version == CniVersion::k1_0_0);
  CHECK_FALSE(conf.hairpin_mode.has_value());
  CHECK(conf.mtu == 0);
  CHECK_FALSE(conf.ipam.delegated());
  CHECK(conf.dns == nlohmann::json::object());
  ASSIGN_OR_REQUIRE(const NetConf empty_ipam,
                    ParseNetConf(R"({"cniVersion":"1.0.0","name":"n","type":"weave-net",
                                     "ipam":{}})",
                                 Mode::kNet));
  CHECK_FALSE(empty_ipam.ipam.delegated());
  ASSIGN_OR_REQUIRE(const NetConf null_ipam,
                    ParseNetConf(R"({"cniVersion":"1.0.0","name":"n","type":"weave-net",
                                     "ipam":null,"mtu":null})",
                                 Mode::kNet));
  CHECK_FALSE(null_ipam.ipam.delegated());
}

TEST_CASE("ParseNetConf rejects bad input with the spec's codes", "[cni]") {
  struct Case {
    const char* input;
    int code;
    const char* message;
  };
  const Case cases[] = {
      {"", kErrDecoding, "no network configuration on stdin"},
      {"  \n", kErrDecoding, "no network configuration on stdin"},
      {"{\"cniVersion\":", kErrDecoding, "not valid JSON"},
      {"[1,2]", kErrDecoding, "not a JSON object"},
      {"\"weave\"", kErrDecoding, "not a JSON object"},
      {R"({"name":"weave","type":"weave-net"})", kErrInvalidConfig,
       "field \"cniVersion\" is missing"},
      {R"({"cniVersion":1.0,"name":"weave","type":"weave-net"})", kErrInvalidConfig,
       "field \"cniVersion\" must be a string"},
      {R"({"cniVersion":"9.9.9","name":"weave","type":"weave-net"})", kErrIncompatibleVersion,
       "unsupported cniVersion \"9.9.9\""},
      {R"({"cniVersion":"0.2.0","name":"weave","type":"weave-net"})", kErrIncompatibleVersion,
       "weave-net supports 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0"},
      {R"({"cniVersion":"1.0.0","type":"weave-net"})", kErrInvalidConfig,
       "field \"name\" is missing"},
      {R"({"cniVersion":"1.0.0","name":"weave"})", kErrInvalidConfig, "field \"type\" is missing"},
      {R"({"cniVersion":"1.0.0","name":"weave","type":"weave-net","mtu":"1376"})",
       kErrInvalidConfig, "field \"mtu\" must be an integer from 0 to 65535"},
      {R"({"cniVersion":"1.0.0","name":"weave","type":"weave-net","mtu":-1})", kErrInvalidConfig,
       "field \"mtu\""},
      {R"({"cniVersion":"1.0.0","name":"weave","type":"weave-net","mtu":70000})", kErrInvalidConfig,
       "field \"mtu\""},
      {R"({"cniVersion":"1.0.0","name":"weave","type":"weave-net","hairpinMode":"yes"})",
       kErrInvalidConfig, "field \"hairpinMode\" must be true or false"},
      {R"({"cniVersion":"1.0.0","name":"weave","type":"weave-net","ipam":"weave"})",
       kErrInvalidConfig, "field \"ipam\" must be an object"},
      {R"({"cniVersion":"1.0.0","name":"weave","type":"weave-net","ipam":{"type":7}})",
       kErrInvalidConfig, "field \"ipam.type\" must be a string"},
      {R"({"cniVersion":"1.0.0","name":"weave","type":"weave-net","dns":[]})", kErrInvalidConfig,
       "field \"dns\" must be an object"},
      {R"({"cniVersion":"1.0.0","name":"weave","type":"weave-net","prevResult":{"ips":[{}]}})",
       kErrInvalidConfig, "field \"prevResult.ips[0].address\" is missing"},
      {R"({"cniVersion":"1.0.0","name":"weave","type":"weave-net","ipam":{"subnet":"10.1.0.0/16"}})",
       kErrUnsupportedField, "ipam.subnet needs an IPAM plugin"},
      {R"({"cniVersion":"1.0.0","name":"weave","type":"weave-net","ipam":{"type":"weave-net"}})",
       kErrInvalidConfig, "ipam.type \"weave-net\" names the main plugin"},
      {R"({"cniVersion":"1.0.0","name":"weave","type":"weave-net","isGateway":true})",
       kErrUnsupportedField, "isGateway is not supported"},
      {R"({"cniVersion":"1.0.0","name":"weave","type":"weave-net","ipMasq":true})",
       kErrUnsupportedField, "ipMasq is not supported"},
      {R"({"cniVersion":"1.0.0","name":"weave","type":"weave-net","bridge":"cni0"})",
       kErrUnsupportedField, "bridge \"cni0\" is not supported"},
      {R"({"cniVersion":"1.1.0","name":"weave","type":"weave-net",
           "cni.dev/valid-attachments":[{"ifname":"eth0"}]})",
       kErrInvalidConfig, "field \"cni.dev/valid-attachments[0].containerID\" is missing"},
  };
  for (const Case& c : cases) {
    INFO(c.input);
    const absl::Status status = ParseNetConf(c.input, Mode::kNet).status();
    CHECK(CniCode(status) == c.code);
    CHECK_THAT(std::string(status.message()), Contains(c.message));
  }
}

TEST_CASE("A delegated IPAM plugin's section is its own business", "[cni]") {
  ASSIGN_OR_REQUIRE(const NetConf conf, ParseNetConf(R"({
    "cniVersion": "1.0.0", "name": "weave", "type": "weave-net",
    "ipam": {"type": "whereabouts", "routes": "its own format", "gateway": 7}})",
                                                     Mode::kNet));
  CHECK(conf.ipam.type == "whereabouts");
  CHECK(conf.ipam.routes.empty());
}

TEST_CASE("weave-ipam reads subnet, gateway and routes from ipam", "[cni]") {
  ASSIGN_OR_REQUIRE(const NetConf conf, ParseNetConf(R"({
    "cniVersion": "1.0.0", "name": "mynet", "type": "bridge", "isGateway": true,
    "ipam": {"type": "weave-ipam", "subnet": "10.40.0.0/16", "gateway": "10.40.0.1",
             "routes": [{"dst": "10.0.0.0/8"}, {"dst": "0.0.0.0/0", "gw": "10.40.0.254"}]}
  })",
                                                     Mode::kIpam));
  CHECK(conf.ipam.subnet == "10.40.0.0/16");
  CHECK(conf.ipam.gateway == "10.40.0.1");
  CHECK(conf.ipam.routes == std::vector<Route>{{"10.0.0.0/8", ""}, {"0.0.0.0/0", "10.40.0.254"}});
}

TEST_CASE("ParseNetConf reads prevResult and the valid attachments", "[cni]") {
  ASSIGN_OR_REQUIRE(const NetConf conf, ParseNetConf(R"({
    "cniVersion": "1.1.0", "name": "weave", "type": "weave-net",
    "prevResult": {"cniVersion": "1.1.0",
                   "interfaces": [{"name": "vethwepl3f69"}, {"name": "eth0", "sandbox": "/ns"}],
                   "ips": [{"address": "10.32.0.5/12", "gateway": "10.32.0.1", "interface": 1}]},
    "cni.dev/valid-attachments": [{"containerID": "a", "ifname": "eth0"},
                                  {"containerID": "b", "ifname": "net1"}]
  })",
                                                     Mode::kNet));
  REQUIRE(conf.prev_result.has_value());
  CHECK(conf.prev_result->interfaces.size() == 2);
  CHECK(conf.prev_result->ips ==
        std::vector<IpConfig>{{"10.32.0.5/12", "10.32.0.1", std::optional<int>(1)}});
  CHECK(conf.valid_attachments ==
        std::optional<std::vector<Attachment>>({{"a", "eth0"}, {"b", "net1"}}));

  ASSIGN_OR_REQUIRE(const NetConf legacy_key, ParseNetConf(R"({
    "cniVersion": "1.1.0", "name": "weave", "type": "weave-net", "cni.dev/attachments": []})",
                                                           Mode::kNet));
  CHECK(legacy_key.valid_attachments ==
        std::optional<std::vector<Attachment>>(std::vector<Attachment>{}));
}

TEST_CASE("ResponseVersion is the configuration's when supported, else the latest", "[cni]") {
  CHECK(ResponseVersion(R"({"cniVersion":"0.3.1"})") == CniVersion::k0_3_1);
  CHECK(ResponseVersion(R"({"cniVersion":"0.2.0"})") == kLatestVersion);
  CHECK(ResponseVersion(R"({"cniVersion":3})") == kLatestVersion);
  CHECK(ResponseVersion("not json") == kLatestVersion);
  CHECK(ResponseVersion("") == kLatestVersion);
}

TEST_CASE("RouterSocket: configuration, then WEAVE_SOCKET, then the default", "[cni]") {
  NetConf conf;
  CHECK(RouterSocket(conf, {}) == "/run/weave/weave.sock");
  CHECK(RouterSocket(conf, {{"WEAVE_SOCKET", "/tmp/env.sock"}}) == "/tmp/env.sock");
  conf.socket = "/tmp/conf.sock";
  CHECK(RouterSocket(conf, {{"WEAVE_SOCKET", "/tmp/env.sock"}}) == "/tmp/conf.sock");
  conf.socket = "unix:///tmp/url.sock";
  CHECK(RouterSocket(conf, {}) == "/tmp/url.sock");
  conf.socket = "unix:/tmp/short.sock";
  CHECK(RouterSocket(conf, {}) == "/tmp/short.sock");
}

}  // namespace
}  // namespace weave::cni
