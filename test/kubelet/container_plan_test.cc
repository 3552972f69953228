#include "test/kubelet/container_plan.h"

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "test/harness/status_assertions.h"

namespace weave::testing::kubelet {
namespace {

using nlohmann::json;

NodeContext Node() {
  NodeContext node;
  node.node_name = "node1";
  node.host_ip = "192.168.250.11";
  node.netns_path = "/var/run/netns/wvt1-n1";
  node.host_root = "/tmp/wvt1/node1/host";
  node.shared_host_paths = {"/lib/modules"};
  node.pod_name = "weave-net-node1";
  node.pod_namespace = "kube-system";
  node.service_account_dir = "/tmp/wvt1/node1/sa";
  node.api_host = "192.168.250.1";
  node.api_port = 6443;
  node.secrets["weave-passwd"]["weave-passwd"] = "s3cret";
  return node;
}

// A pod template like the DaemonSet's, with `container` as its only container.
json Template(json container, json volumes = json::array()) {
  return {{"spec",
           {{"hostNetwork", true},
            {"serviceAccountName", "weave-net"},
            {"tolerations", json::array({{{"operator", "Exists"}}})},
            {"containers", json::array({container})},
            {"volumes", volumes}}}};
}

std::vector<std::string> Args(const json& pod_template) {
  absl::StatusOr<std::vector<ContainerPlan>> plans =
      PlanContainers(pod_template, false, Node(), "wvt1-node1");
  REQUIRE_OK(plans);
  REQUIRE(plans->size() == 1);
  return plans->front().podman_args;
}

bool Has(const std::vector<std::string>& args, const std::string& arg) {
  return std::find(args.begin(), args.end(), arg) != args.end();
}

TEST_CASE("a container joins the node's namespace with its hostname and the image's entrypoint",
          "[kubelet]") {
  std::vector<std::string> args = Args(Template({{"name", "weave-npc"}, {"image", "r/npc:1"}}));
  CHECK(args[0] == "run");
  CHECK(Has(args, "--network=ns:/var/run/netns/wvt1-n1"));
  CHECK(Has(args, "wvt1-node1-weave-npc"));
  CHECK(Has(args, "--pull=never"));
  CHECK_FALSE(Has(args, "--privileged"));
  CHECK(args.back() == "r/npc:1");  // no command, no args
  CHECK(Has(args, "KUBERNETES_SERVICE_HOST=192.168.250.1"));
  CHECK(Has(args, "KUBERNETES_SERVICE_PORT=6443"));
  CHECK(Has(args, "/tmp/wvt1/node1/sa:/var/run/secrets/kubernetes.io/serviceaccount:ro"));
}

TEST_CASE("command replaces the entrypoint and args follow the image, with variables expanded",
          "[kubelet]") {
  std::vector<std::string> args = Args(Template({{"name", "weave"},
                                                 {"image", "r/kube:1"},
                                                 {"command", {"/home/weave/launch.sh"}},
                                                 {"args", {"--log-level=$(LEVEL)", "$$(LEVEL)"}},
                                                 {"env", {{{"name", "LEVEL"}, {"value", "debug"}}}},
                                                 {"securityContext", {{"privileged", true}}}}));
  CHECK(Has(args, "--privileged"));
  CHECK(Has(args, R"(--entrypoint=["/home/weave/launch.sh"])"));
  REQUIRE(args.size() >= 3);
  CHECK(args[args.size() - 3] == "r/kube:1");
  CHECK(args[args.size() - 2] == "--log-level=debug");
  CHECK(args.back() == "$(LEVEL)");
}

TEST_CASE("env values come from fieldRef and secretKeyRef as kubelet resolves them", "[kubelet]") {
  json env = json::array({
      {{"name", "HOSTNAME"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "spec.nodeName"}}}}}},
      {{"name", "POD"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}},
      {{"name", "WEAVE_PASSWORD"},
       {"valueFrom", {{"secretKeyRef", {{"name", "weave-passwd"}, {"key", "weave-passwd"}}}}}},
      {{"name", "ABSENT"},
       {"valueFrom", {{"secretKeyRef", {{"name", "other"}, {"key", "k"}, {"optional", true}}}}}},
      {{"name", "GREETING"}, {"value", "on $(HOSTNAME) $(UNDEFINED)"}},
  });
  std::vector<std::string> args = Args(Template({{"name", "c"}, {"image", "i"}, {"env", env}}));
  CHECK(Has(args, "HOSTNAME=node1"));
  CHECK(Has(args, "POD=weave-net-node1"));
  CHECK(Has(args, "WEAVE_PASSWORD=s3cret"));
  CHECK(Has(args, "GREETING=on node1 $(UNDEFINED)"));
  for (const std::string& arg : args) CHECK_FALSE(absl::StartsWith(arg, "ABSENT="));

  json missing = {{"name", "P"},
                  {"valueFrom", {{"secretKeyRef", {{"name", "nope"}, {"key", "k"}}}}}};
  absl::StatusOr<std::vector<ContainerPlan>> plans = PlanContainers(
      Template({{"name", "c"}, {"image", "i"}, {"env", {missing}}}), false, Node(), "p");
  REQUIRE_FALSE(plans.ok());
  CHECK(absl::StrContains(plans.status().message(), "secret kube-system/nope has no key k"));
}

TEST_CASE("hostPath volumes live in the node's folder except the shared ones", "[kubelet]") {
  json volumes = json::array({
      {{"name", "weavedb"}, {"hostPath", {{"path", "/var/lib/weave"}}}},
      {{"name", "lock"}, {"hostPath", {{"path", "/run/xtables.lock"}, {"type", "FileOrCreate"}}}},
      {{"name", "modules"}, {"hostPath", {{"path", "/lib/modules"}}}},
  });
  json mounts = json::array({
      {{"name", "weavedb"}, {"mountPath", "/weavedb"}},
      {{"name", "lock"}, {"mountPath", "/run/xtables.lock"}, {"readOnly", true}},
      {{"name", "modules"}, {"mountPath", "/lib/modules"}, {"mountPropagation", "HostToContainer"}},
  });
  absl::StatusOr<std::vector<ContainerPlan>> plans =
      PlanContainers(Template({{"name", "c"}, {"image", "i"}, {"volumeMounts", mounts}}, volumes),
                     false, Node(), "p");
  REQUIRE_OK(plans);
  const ContainerPlan& plan = plans->front();
  CHECK(Has(plan.podman_args, "/tmp/wvt1/node1/host/var/lib/weave:/weavedb"));
  CHECK(Has(plan.podman_args, "/tmp/wvt1/node1/host/run/xtables.lock:/run/xtables.lock:ro"));
  CHECK(Has(plan.podman_args, "/lib/modules:/lib/modules:rslave"));
  REQUIRE(plan.host_paths.size() == 3);
  CHECK(plan.host_paths[1].type == "FileOrCreate");
}

TEST_CASE("the readiness probe is read from httpGet", "[kubelet]") {
  json probe = {{"httpGet", {{"host", "127.0.0.1"}, {"path", "/status"}, {"port", 6784}}},
                {"initialDelaySeconds", 5}};
  absl::StatusOr<std::vector<ContainerPlan>> plans = PlanContainers(
      Template({{"name", "c"}, {"image", "i"}, {"readinessProbe", probe}}), false, Node(), "p");
  REQUIRE_OK(plans);
  REQUIRE(plans->front().readiness.has_value());
  CHECK(plans->front().readiness->host == "127.0.0.1");
  CHECK(plans->front().readiness->port == 6784);
  CHECK(plans->front().readiness->path == "/status");
}

TEST_CASE("a field the fake kubelet does not implement is an error naming it", "[kubelet]") {
  auto error = [](const json& pod_template) {
    absl::StatusOr<std::vector<ContainerPlan>> plans =
        PlanContainers(pod_template, false, Node(), "p");
    return plans.ok() ? std::string() : std::string(plans.status().message());
  };
  CHECK(absl::StrContains(error(Template({{"name", "c"}, {"image", "i"}, {"envFrom", {}}})),
                          "field 'envFrom'"));
  json pod = Template({{"name", "c"}, {"image", "i"}});
  pod["spec"]["hostNetwork"] = false;
  CHECK(absl::StrContains(error(pod), "hostNetwork"));
  CHECK(absl::StrContains(
      error(Template({{"name", "c"}, {"image", "i"}},
                     json::array({{{"name", "s"}, {"secret", {{"secretName", "x"}}}}}))),
      "field 'secret'"));
  CHECK(absl::StrContains(
      error(Template(
          {{"name", "c"},
           {"image", "i"},
           {"env",
            {{{"name", "X"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.uid"}}}}}}}}})),
      "fieldRef metadata.uid"));
}

TEST_CASE("init containers are planned apart, in order", "[kubelet]") {
  json pod = Template({{"name", "main"}, {"image", "i"}});
  pod["spec"]["initContainers"] = {{{"name", "first"}, {"image", "i"}},
                                   {{"name", "second"}, {"image", "i"}}};
  absl::StatusOr<std::vector<ContainerPlan>> plans = PlanContainers(pod, true, Node(), "p");
  REQUIRE_OK(plans);
  REQUIRE(plans->size() == 2);
  CHECK((*plans)[0].podman_name == "p-first");
  CHECK((*plans)[1].podman_name == "p-second");
}

TEST_CASE("variable expansion follows Kubernetes", "[kubelet]") {
  std::map<std::string, std::string> vars = {{"A", "1"}};
  CHECK(ExpandVariables("$(A)-$(B)", vars) == "1-$(B)");
  CHECK(ExpandVariables("$$(A) $$ $", vars) == "$(A) $ $");
  CHECK(ExpandVariables("$(A", vars) == "$(A");
}

}  // namespace
}  // namespace weave::testing::kubelet
