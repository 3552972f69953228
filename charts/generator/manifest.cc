#include "charts/generator/manifest.h"

#include <initializer_list>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "charts/generator/router_env.h"
#include "charts/generator/yaml.h"

namespace weave::charts {
namespace {

using Json = nlohmann::ordered_json;

constexpr char kName[] = "weave-net";  // every object's name, and the pods' label
constexpr char kNamespace[] = "kube-system";
constexpr char kCpuRequest[] = "10m";  // 1% of a core per container (the spec's "CPU and Memory")

// Written out so that a list of two strings never reads as a key and its value.
Json Strings(std::initializer_list<const char*> items) {
  Json array = Json::array();
  for (const char* item : items) array.push_back(item);
  return array;
}

Json Metadata(bool namespaced) {
  Json metadata = {{"name", kName}};
  if (namespaced) metadata["namespace"] = kNamespace;
  metadata["labels"] = {{"name", kName}};
  return metadata;
}

Json Object(const char* api_version, const char* kind, bool namespaced) {
  return {{"apiVersion", api_version}, {"kind", kind}, {"metadata", Metadata(namespaced)}};
}

Json Rule(const char* api_group, Json resources, Json verbs) {
  return {{"apiGroups", Strings({api_group})},
          {"resources", std::move(resources)},
          {"verbs", std::move(verbs)}};
}

Json ServiceAccountSubject() {
  return Json::array({{{"kind", "ServiceAccount"}, {"name", kName}, {"namespace", kNamespace}}});
}

// Exactly what weaver and weave-npc ask of the API (router/main.cc, router/kube/kube_sync.cc,
// npc/main.cc): they list and watch nodes, pods, namespaces and NetworkPolicies, and weaver
// updates its node's NetworkUnavailable condition with a GET then a PUT of nodes/<name>/status.
Json ClusterRole() {
  Json role = Object("rbac.authorization.k8s.io/v1", "ClusterRole", false);
  role["rules"] = Json::array({
      Rule("", Strings({"pods", "namespaces", "nodes"}), Strings({"get", "list", "watch"})),
      Rule("networking.k8s.io", Strings({"networkpolicies"}), Strings({"get", "list", "watch"})),
      Rule("", Strings({"nodes/status"}), Strings({"get", "update"})),
  });
  return role;
}

Json Binding(const char* kind, const char* role_kind, bool namespaced) {
  Json binding = Object("rbac.authorization.k8s.io/v1", kind, namespaced);
  binding["roleRef"] = {
      {"apiGroup", "rbac.authorization.k8s.io"}, {"kind", role_kind}, {"name", kName}};
  binding["subjects"] = ServiceAccountSubject();
  return binding;
}

// The peer list for reclaiming a deleted node's addresses lives in ConfigMap
// kube-system/weave-net: weaver reads and updates it (GET then PUT) and creates it when absent.
Json ConfigMapRole() {
  Json role = Object("rbac.authorization.k8s.io/v1", "Role", true);
  Json named = {{"apiGroups", Strings({""})},
                {"resources", Strings({"configmaps"})},
                {"resourceNames", Strings({kName})},
                {"verbs", Strings({"get", "update"})}};
  role["rules"] = Json::array({named, Rule("", Strings({"configmaps"}), Strings({"create"}))});
  return role;
}

Json Env(const std::string& name, const std::string& value) {
  return {{"name", name}, {"value", value}};
}

Json NodeNameEnv() {
  return {{"name", "HOSTNAME"},
          {"valueFrom", {{"fieldRef", {{"apiVersion", "v1"}, {"fieldPath", "spec.nodeName"}}}}}};
}

Json PasswordEnv(const std::string& secret) {
  return {{"name", "WEAVE_PASSWORD"},
          {"valueFrom", {{"secretKeyRef", {{"name", secret}, {"key", secret}}}}}};
}

// The weave container's environment before env.NAME=VALUE (see manifest.h).
Json DefaultRouterEnv(const ManifestParams& params) {
  Json env = Json::array({
      NodeNameEnv(),
      Env("INIT_CONTAINER", "true"),
      Env("HOST_ROOT", "/host"),
      Env("CONN_LIMIT", "30"),
      Env("EXPECT_NPC", params.disable_npc ? "0" : "1"),
      Env("HAIRPIN_MODE", "true"),
      Env("IPALLOC_RANGE", "10.32.0.0/12"),
      Env("NO_MASQ_LOCAL", "1"),
      Env("WEAVE_METRICS_ADDR", "0.0.0.0:6782"),
      Env("WEAVE_MTU", "1376"),
  });
  if (!params.known_peers.empty()) {
    env.push_back(Env("KUBE_PEERS", absl::StrJoin(params.known_peers, ",")));
  }
  if (!params.trusted_subnets.empty()) {
    env.push_back(Env("WEAVE_TRUSTED_SUBNETS", absl::StrJoin(params.trusted_subnets, ",")));
  }
  if (!params.password_secret.empty()) env.push_back(PasswordEnv(params.password_secret));
  return env;
}

Json RouterEnv(const ManifestParams& params) {
  Json env = Json::array();
  for (const EnvVar& var : params.env) env.push_back(Env(var.name, var.value));
  for (const Json& var : DefaultRouterEnv(params)) {
    bool overridden = false;
    for (const EnvVar& given : params.env) overridden = overridden || given.name == var["name"];
    if (!overridden) env.push_back(var);
  }
  return env;
}

const Json& EnvEntry(const Json& env, const char* name) {
  for (const Json& var : env) {
    if (var["name"] == name) return var;
  }
  static const Json kNone;
  return kNone;  // not reached: both are in DefaultRouterEnv
}

std::vector<EnvVar> LiteralValues(const Json& env) {
  std::vector<EnvVar> values;
  for (const Json& var : env) {
    if (var.contains("value")) {
      values.push_back({var["name"].get<std::string>(), var["value"].get<std::string>()});
    }
  }
  return values;
}

Json Mount(const char* name, const char* path, bool read_only = false) {
  Json mount = {{"name", name}, {"mountPath", path}};
  if (read_only) mount["readOnly"] = true;
  return mount;
}

// The router opens the pod's network namespace at the CNI_NETNS path the plugin hands it
// (/var/run/netns/cni-... under containerd and CRI-O); namespaces made after the container
// started appear in it only with HostToContainer propagation.
Json NetnsMount() {
  Json mount = Mount("netns", "/var/run/netns");
  mount["mountPropagation"] = "HostToContainer";
  return mount;
}

Json HostPathVolume(const char* name, const char* path, const char* type = nullptr) {
  Json host_path = {{"path", path}};
  if (type != nullptr) host_path["type"] = type;
  return {{"name", name}, {"hostPath", host_path}};
}

Json Container(const char* name, const std::string& image) {
  return {{"name", name}, {"image", image}, {"imagePullPolicy", "IfNotPresent"}};
}

void AddRequestsAndPrivilege(Json* container) {
  (*container)["resources"] = {{"requests", {{"cpu", kCpuRequest}}}};
  (*container)["securityContext"] = {{"privileged", true}};
}

// The init container installs the CNI plugin and 10-weave.conflist on the host and checks the
// kernel (the image's /home/weave/init.sh).
Json InitContainer(const std::string& image, const Json& router_env) {
  Json init = Container("weave-init", image);
  init["command"] = Strings({"/home/weave/init.sh"});
  init["env"] =
      Json::array({EnvEntry(router_env, "HAIRPIN_MODE"), EnvEntry(router_env, "EXPECT_NPC")});
  AddRequestsAndPrivilege(&init);
  init["volumeMounts"] = Json::array({
      Mount("cni-bin", "/host/opt/cni/bin"),
      Mount("cni-conf", "/host/etc/cni/net.d"),
      Mount("lib-modules", "/lib/modules", true),
  });
  return init;
}

// The router. Arguments appended to `command` reach weaver (launch.sh ends in
// `exec /home/weave/weaver "$@"`).
Json RouterContainer(const std::string& image, Json env) {
  Json weave = Container("weave", image);
  weave["command"] = Strings({"/home/weave/launch.sh"});
  weave["env"] = std::move(env);
  weave["readinessProbe"] = {
      {"httpGet", {{"host", "127.0.0.1"}, {"path", "/status"}, {"port", 6784}}}};
  AddRequestsAndPrivilege(&weave);
  weave["volumeMounts"] = Json::array({
      Mount("weavedb", "/weavedb"),
      Mount("run-weave", "/run/weave"),
      Mount("machine-id", "/host/etc/machine-id", true),
      Mount("dmi-id", "/host/sys/class/dmi/id", true),
      Mount("lib-modules", "/lib/modules", true),
      NetnsMount(),
  });
  return weave;
}

Json NpcContainer(const std::string& image, bool use_legacy_netpol) {
  Json npc = Container("weave-npc", image);
  if (use_legacy_netpol) npc["args"] = Strings({"--use-legacy-netpol=true"});
  npc["env"] = Json::array({NodeNameEnv()});
  AddRequestsAndPrivilege(&npc);
  npc["volumeMounts"] = Json::array({Mount("run-weave", "/run/weave")});
  return npc;
}

Json DaemonSet(const ManifestParams& params, const Json& router_env) {
  const std::string kube_image = absl::StrCat(params.registry, "/weave-kube:", params.image_tag);
  const std::string npc_image = absl::StrCat(params.registry, "/weave-npc:", params.image_tag);
  Json containers = Json::array({RouterContainer(kube_image, router_env)});
  if (!params.disable_npc) containers.push_back(NpcContainer(npc_image, params.use_legacy_netpol));

  Json se_linux = Json::object();
  for (const auto& [field, value] : params.se_linux_options) se_linux[field] = value;

  Json pod_spec = {
      {"containers", containers},
      {"dnsPolicy", "ClusterFirstWithHostNet"},
      {"hostNetwork", true},
      {"initContainers", Json::array({InitContainer(kube_image, router_env)})},
      {"priorityClassName", "system-node-critical"},
      {"securityContext", {{"seLinuxOptions", se_linux}}},
      {"serviceAccountName", kName},
      // Every node, control plane and tainted nodes included: a node without its pod has no
      // pod network.
      {"tolerations", Json::array({{{"effect", "NoSchedule"}, {"operator", "Exists"}},
                                   {{"effect", "NoExecute"}, {"operator", "Exists"}}})},
      {"volumes", Json::array({
                      HostPathVolume("weavedb", "/var/lib/weave", "DirectoryOrCreate"),
                      HostPathVolume("run-weave", "/run/weave", "DirectoryOrCreate"),
                      HostPathVolume("cni-bin", "/opt/cni/bin", "DirectoryOrCreate"),
                      HostPathVolume("cni-conf", "/etc/cni/net.d", "DirectoryOrCreate"),
                      HostPathVolume("machine-id", "/etc/machine-id"),
                      HostPathVolume("dmi-id", "/sys/class/dmi/id"),
                      HostPathVolume("lib-modules", "/lib/modules"),
                      HostPathVolume("netns", "/var/run/netns", "DirectoryOrCreate"),
                  })},
  };
  Json daemon_set = Object("apps/v1", "DaemonSet", true);
  daemon_set["spec"] = {
      {"selector", {{"matchLabels", {{"name", kName}}}}},
      {"minReadySeconds", 5},
      {"updateStrategy", {{"type", "RollingUpdate"}}},
      {"template", {{"metadata", {{"labels", {{"name", kName}}}}}, {"spec", pod_spec}}},
  };
  return daemon_set;
}

}  // namespace

absl::StatusOr<Json> BuildManifest(const ManifestParams& params) {
  Json router_env = RouterEnv(params);
  if (absl::Status ok = CheckRouterEnvironment(LiteralValues(router_env)); !ok.ok()) return ok;
  Json items = Json::array({
      Object("v1", "ServiceAccount", true),
      ClusterRole(),
      Binding("ClusterRoleBinding", "ClusterRole", false),
      ConfigMapRole(),
      Binding("RoleBinding", "Role", true),
      DaemonSet(params, router_env),
  });
  return Json{{"apiVersion", "v1"}, {"kind", "List"}, {"items", items}};
}

absl::StatusOr<std::string> RenderManifest(const ManifestParams& params) {
  absl::StatusOr<Json> manifest = BuildManifest(params);
  if (!manifest.ok()) return manifest.status();
  return EmitYaml(*manifest);
}

absl::StatusOr<std::string> GenerateManifest(absl::string_view query) {
  absl::StatusOr<ManifestParams> params = ParseQuery(query);
  if (!params.ok()) return params.status();
  return RenderManifest(*params);
}

}  // namespace weave::charts
