#include "charts/generator/manifest.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"

namespace weave::charts {
namespace {

using Json = nlohmann::ordered_json;

Json Build(const std::string& query) {
  absl::StatusOr<ManifestParams> params = ParseQuery(query);
  INFO(query << ": " << params.status().message());
  REQUIRE(params.ok());
  absl::StatusOr<Json> manifest = BuildManifest(*params);
  INFO(manifest.status().message());
  REQUIRE(manifest.ok());
  return *manifest;
}

std::string ErrorOf(const std::string& query) {
  absl::StatusOr<std::string> manifest = GenerateManifest(query);
  REQUIRE_FALSE(manifest.ok());
  const std::string message(manifest.status().message());
  CHECK(message.find('\n') == std::string::npos);
  return message;
}

const Json& Item(const Json& list, const std::string& kind) {
  for (const Json& item : list["items"]) {
    if (item["kind"] == kind) return item;
  }
  FAIL("no " << kind);
  throw;  // not reached
}

const Json& PodSpec(const Json& list) {
  return Item(list, "DaemonSet")["spec"]["template"]["spec"];
}

const Json* Container(const Json& list, const std::string& name) {
  const Json& pod = PodSpec(list);
  for (const char* field : {"containers", "initContainers"}) {
    for (const Json& container : pod[field]) {
      if (container["name"] == name) return &container;
    }
  }
  return nullptr;
}

// name -> the env entry, and the names in order.
std::vector<std::string> EnvNames(const Json& container) {
  std::vector<std::string> names;
  for (const Json& var : container["env"]) names.push_back(var["name"]);
  return names;
}

Json EnvEntry(const Json& container, const std::string& name) {
  for (const Json& var : container["env"]) {
    if (var["name"] == name) return var;
  }
  return nullptr;
}

std::string EnvValue(const Json& container, const std::string& name) {
  Json var = EnvEntry(container, name);
  return var.is_null() ? "<unset>" : var["value"].get<std::string>();
}

TEST_CASE("the default manifest holds the six objects, all named weave-net", "[charts]") {
  Json list = Build("");
  CHECK(list["apiVersion"] == "v1");
  CHECK(list["kind"] == "List");
  std::vector<std::string> kinds;
  for (const Json& item : list["items"]) {
    kinds.push_back(item["kind"]);
    CHECK(item["metadata"]["name"] == "weave-net");
    CHECK(item["metadata"]["labels"]["name"] == "weave-net");
  }
  CHECK(kinds == std::vector<std::string>{"ServiceAccount", "ClusterRole", "ClusterRoleBinding",
                                          "Role", "RoleBinding", "DaemonSet"});
  const Json& pod = PodSpec(list);
  CHECK(pod["hostNetwork"] == true);
  CHECK(pod["dnsPolicy"] == "ClusterFirstWithHostNet");
  CHECK(pod["priorityClassName"] == "system-node-critical");
  CHECK(pod["serviceAccountName"] == "weave-net");
  CHECK(pod["securityContext"]["seLinuxOptions"] == Json::object());
  CHECK(Item(list, "DaemonSet")["spec"]["updateStrategy"]["type"] == "RollingUpdate");
  CHECK(Item(list, "DaemonSet")["spec"]["template"]["metadata"]["labels"]["name"] == "weave-net");
  for (const Json& toleration : pod["tolerations"]) CHECK(toleration["operator"] == "Exists");
  CHECK(pod["tolerations"].size() == 2);
}

TEST_CASE("every container requests 10m CPU and sets no limit", "[charts]") {
  Json list = Build("");
  for (const char* name : {"weave-init", "weave", "weave-npc"}) {
    INFO(name);
    const Json* container = Container(list, name);
    REQUIRE(container != nullptr);
    CHECK((*container)["resources"] == Json{{"requests", {{"cpu", "10m"}}}});
    CHECK((*container)["securityContext"]["privileged"] == true);
    CHECK((*container)["imagePullPolicy"] == "IfNotPresent");
  }
}

TEST_CASE("the weave container has the spec's defaults and the init container its two",
          "[charts]") {
  Json list = Build("");
  const Json& weave = *Container(list, "weave");
  CHECK(EnvNames(weave) == std::vector<std::string>{"HOSTNAME", "INIT_CONTAINER", "HOST_ROOT",
                                                    "CONN_LIMIT", "EXPECT_NPC", "HAIRPIN_MODE",
                                                    "IPALLOC_RANGE", "NO_MASQ_LOCAL",
                                                    "WEAVE_METRICS_ADDR", "WEAVE_MTU"});
  CHECK(EnvValue(weave, "CONN_LIMIT") == "30");
  CHECK(EnvValue(weave, "IPALLOC_RANGE") == "10.32.0.0/12");
  CHECK(EnvValue(weave, "WEAVE_MTU") == "1376");
  CHECK(EnvValue(weave, "WEAVE_METRICS_ADDR") == "0.0.0.0:6782");
  CHECK(EnvEntry(weave, "HOSTNAME")["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName");
  CHECK(weave["command"] == Json::array({"/home/weave/launch.sh"}));
  CHECK(weave["readinessProbe"]["httpGet"] ==
        Json{{"host", "127.0.0.1"}, {"path", "/status"}, {"port", 6784}});
  CHECK(weave["image"] == std::string("localhost/weave-kube:") + WEAVE_VERSION);
  const Json& init = *Container(list, "weave-init");
  CHECK(init["command"] == Json::array({"/home/weave/init.sh"}));
  CHECK(init["image"] == weave["image"]);
  CHECK(EnvNames(init) == std::vector<std::string>{"HAIRPIN_MODE", "EXPECT_NPC"});
  CHECK(EnvValue(init, "HAIRPIN_MODE") == "true");
  const Json& npc = *Container(list, "weave-npc");
  CHECK(npc["image"] == std::string("localhost/weave-npc:") + WEAVE_VERSION);
  CHECK_FALSE(npc.contains("args"));
  CHECK(EnvNames(npc) == std::vector<std::string>{"HOSTNAME"});
}

TEST_CASE("the ClusterRole grants what weaver and weave-npc call, nothing more", "[charts]") {
  Json list = Build("");
  CHECK(Item(list, "ClusterRole")["rules"] == Json::parse(R"([
          {"apiGroups": [""], "resources": ["pods", "namespaces", "nodes"],
           "verbs": ["get", "list", "watch"]},
          {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"],
           "verbs": ["get", "list", "watch"]},
          {"apiGroups": [""], "resources": ["nodes/status"], "verbs": ["get", "update"]}])"));
  CHECK(Item(list, "Role")["rules"] == Json::parse(R"([
          {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["weave-net"],
           "verbs": ["get", "update"]},
          {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create"]}])"));
  CHECK(Item(list, "Role")["metadata"]["namespace"] == "kube-system");
  for (const char* binding : {"ClusterRoleBinding", "RoleBinding"}) {
    CHECK(Item(list, binding)["subjects"] ==
          Json::parse(R"([{"kind": "ServiceAccount", "name": "weave-net",
                           "namespace": "kube-system"}])"));
  }
}

TEST_CASE("env.WEAVE_MTU=1337 gives the spec's excerpt exactly", "[charts]") {
  absl::StatusOr<std::string> yaml = GenerateManifest("env.WEAVE_MTU=1337");
  REQUIRE(yaml.ok());
  std::vector<std::string> lines = absl::StrSplit(*yaml, '\n');
  // The spec's excerpt, with "[...]" where it skips lines.
  const std::vector<std::vector<std::string>> excerpt = {
      {"          containers:", "            - name: weave"},
      {"              env:", "                - name: WEAVE_MTU",
       "                  value: '1337'"},
  };
  size_t at = 0;
  for (const std::vector<std::string>& block : excerpt) {
    bool found = false;
    for (; at + block.size() <= lines.size() && !found; ++at) {
      found = std::equal(block.begin(), block.end(), lines.begin() + static_cast<long>(at));
    }
    INFO("the block starting \"" << block.front() << "\" in\n" << *yaml);
    CHECK(found);
  }
  // And no second WEAVE_MTU: the default was replaced, not kept.
  CHECK(EnvNames(*Container(Build("env.WEAVE_MTU=1337"), "weave")).size() == 10);
}

TEST_CASE("env.NAME=VALUE upserts: given variables first in order, defaults after", "[charts]") {
  Json list = Build("env.WEAVE_NO_FASTDP=1&env.CONN_LIMIT=100&env.HAIRPIN_MODE=false");
  const Json& weave = *Container(list, "weave");
  CHECK(EnvNames(weave) == std::vector<std::string>{"WEAVE_NO_FASTDP", "CONN_LIMIT", "HAIRPIN_MODE",
                                                    "HOSTNAME", "INIT_CONTAINER", "HOST_ROOT",
                                                    "EXPECT_NPC", "IPALLOC_RANGE", "NO_MASQ_LOCAL",
                                                    "WEAVE_METRICS_ADDR", "WEAVE_MTU"});
  CHECK(EnvValue(weave, "CONN_LIMIT") == "100");
  // setup-cni runs in the init container, which writes HAIRPIN_MODE into the conflist.
  CHECK(EnvValue(*Container(list, "weave-init"), "HAIRPIN_MODE") == "false");
  CHECK(EnvValue(*Container(list, "weave-init"), "EXPECT_NPC") == "1");
}

TEST_CASE("disable-npc=true drops weave-npc and tells the router and init not to expect it",
          "[charts]") {
  Json list = Build("disable-npc=true");
  CHECK(Container(list, "weave-npc") == nullptr);
  CHECK(PodSpec(list)["containers"].size() == 1);
  CHECK(EnvValue(*Container(list, "weave"), "EXPECT_NPC") == "0");
  CHECK(EnvValue(*Container(list, "weave-init"), "EXPECT_NPC") == "0");
  absl::StatusOr<std::string> yaml = GenerateManifest("disable-npc=true");
  REQUIRE(yaml.ok());
  CHECK_FALSE(absl::StrContains(*yaml, "weave-npc"));
  CHECK(Container(Build("disable-npc=false"), "weave-npc") != nullptr);
}

TEST_CASE("password-secret becomes WEAVE_PASSWORD from the Secret's key of the same name",
          "[charts]") {
  Json weave = *Container(Build("password-secret=weave-passwd"), "weave");
  CHECK(EnvEntry(weave, "WEAVE_PASSWORD") ==
        Json::parse(R"({"name": "WEAVE_PASSWORD", "valueFrom": {"secretKeyRef":
                       {"name": "weave-passwd", "key": "weave-passwd"}}})"));
  CHECK(EnvEntry(*Container(Build(""), "weave"), "WEAVE_PASSWORD").is_null());
}

TEST_CASE("known-peers and trusted-subnets become the variables weaver reads", "[charts]") {
  Json weave = *Container(
      Build("known-peers=10.0.0.1,node-2&trusted-subnets=10.0.0.0/8,172.16.0.0/12"), "weave");
  CHECK(EnvValue(weave, "KUBE_PEERS") == "10.0.0.1,node-2");
  CHECK(EnvValue(weave, "WEAVE_TRUSTED_SUBNETS") == "10.0.0.0/8,172.16.0.0/12");
  Json plain = *Container(Build(""), "weave");
  CHECK(EnvEntry(plain, "KUBE_PEERS").is_null());
  CHECK(EnvEntry(plain, "WEAVE_TRUSTED_SUBNETS").is_null());
}

TEST_CASE("use-legacy-netpol passes the flag to weave-npc", "[charts]") {
  CHECK((*Container(Build("use-legacy-netpol=true"), "weave-npc"))["args"] ==
        Json::array({"--use-legacy-netpol=true"}));
  CHECK_FALSE(Container(Build("use-legacy-netpol=false"), "weave-npc")->contains("args"));
}

TEST_CASE("seLinuxOptions.NAME fills the pod's seLinuxOptions", "[charts]") {
  CHECK(
      PodSpec(Build("seLinuxOptions.type=spc_t&seLinuxOptions.user=system_u"))["securityContext"] ==
      Json{{"seLinuxOptions", {{"type", "spc_t"}, {"user", "system_u"}}}});
}

TEST_CASE("version and registry name both images", "[charts]") {
  Json list = Build("version=2.9.0&registry=registry.example:5000/net");
  CHECK((*Container(list, "weave"))["image"] == "registry.example:5000/net/weave-kube:2.9.0");
  CHECK((*Container(list, "weave-init"))["image"] == "registry.example:5000/net/weave-kube:2.9.0");
  CHECK((*Container(list, "weave-npc"))["image"] == "registry.example:5000/net/weave-npc:2.9.0");
}

TEST_CASE("k8s-version selects nothing: every supported version gets the same manifest",
          "[charts]") {
  // base64 of "Client Version: v1.29.1\nServer Version: v1.29.0\n"
  CHECK(GenerateManifest(
            "k8s-version=Q2xpZW50IFZlcnNpb246IHYxLjI5LjEKU2VydmVyIFZlcnNpb246IHYxLjI5LjAK")
            .value() == GenerateManifest("").value());
}

TEST_CASE("values weaver would refuse are refused with weaver's message", "[charts]") {
  CHECK(absl::StartsWith(ErrorOf("env.WEAVE_MTU=abc"), "invalid WEAVE_MTU (--mtu) \"abc\""));
  CHECK(absl::StartsWith(ErrorOf("env.CONN_LIMIT=-1"), "invalid CONN_LIMIT (--conn-limit) \"-1\""));
  CHECK(absl::StartsWith(ErrorOf("env.IPALLOC_RANGE=10.32.0.1/12"),
                         "invalid IPALLOC_RANGE (--ipalloc-range) \"10.32.0.1/12\""));
  CHECK(absl::StartsWith(ErrorOf("env.EXPECT_NPC=maybe"), "invalid EXPECT_NPC (--expect-npc)"));
  CHECK(absl::StartsWith(ErrorOf("env.WEAVE_METRICS_ADDR=6782"), "invalid WEAVE_METRICS_ADDR"));
  CHECK(absl::StartsWith(ErrorOf("env.IPALLOC_INIT=quorum"), "invalid IPALLOC_INIT"));
  CHECK(absl::StartsWith(ErrorOf("env.WEAVE_EXPOSE_IP=192.168.0.1"), "invalid WEAVE_EXPOSE_IP"));
  CHECK(absl::StartsWith(ErrorOf("trusted-subnets=10.0.0.0/8,nonsense"),
                         "invalid WEAVE_TRUSTED_SUBNETS (--trusted-subnets) \"nonsense\""));
  CHECK(absl::StartsWith(ErrorOf("known-peers=node-1:99999"), "invalid KUBE_PEERS"));
  // The spec's variables with values weaver accepts.
  CHECK(GenerateManifest("env.CHECKPOINT_DISABLE=1&env.IPALLOC_INIT=consensus=3"
                         "&env.WEAVE_EXPOSE_IP=10.32.0.1&env.WEAVE_STATUS_ADDR=0.0.0.0:6782"
                         "&env.NO_MASQ_LOCAL=0&env.HAIRPIN_MODE=false&env.WEAVE_MTU=auto"
                         "&env.KUBE_PEERS=10.0.0.1 10.0.0.2&env.IPTABLES_BACKEND=nft")
            .ok());
  // Not read by the generator's host: the password file's existence is weaver's concern.
  CHECK(GenerateManifest("env.WEAVE_PASSWORD_FILE=/nonexistent").ok());
}

TEST_CASE("the checked-in static manifest is the generator's output with no parameters",
          "[charts]") {
  std::ifstream file(WEAVE_STATIC_MANIFEST);
  REQUIRE(file.good());
  std::stringstream checked_in;
  checked_in << file.rdbuf();
  absl::StatusOr<std::string> generated = GenerateManifest("");
  REQUIRE(generated.ok());
  INFO(WEAVE_STATIC_MANIFEST
       " is out of date: regenerate it with\n"
       "  ninja -C build weave-manifest && build/charts/generator/weave-manifest > "
       "charts/weave-daemonset-k8s.yaml");
  CHECK(checked_in.str() == *generated);
}

}  // namespace
}  // namespace weave::charts
