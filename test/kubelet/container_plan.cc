#include "test/kubelet/container_plan.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"

namespace weave::testing::kubelet {
namespace {

using nlohmann::json;

// Fields a real kubelet or the scheduler acts on that change nothing for a test on one machine.
const std::set<std::string> kIgnoredPodFields = {
    "dnsPolicy",     "restartPolicy",     "priorityClassName", "priority",
    "tolerations",   "nodeSelector",      "affinity",          "terminationGracePeriodSeconds",
    "schedulerName", "enableServiceLinks"};
const std::set<std::string> kHandledPodFields = {
    "containers",     "initContainers",     "volumes",        "hostNetwork",
    "hostPID",        "serviceAccountName", "serviceAccount", "automountServiceAccountToken",
    "securityContext"};
const std::set<std::string> kIgnoredContainerFields = {"imagePullPolicy",
                                                       "resources",
                                                       "ports",
                                                       "livenessProbe",
                                                       "startupProbe",
                                                       "terminationMessagePath",
                                                       "terminationMessagePolicy",
                                                       "stdin",
                                                       "stdinOnce",
                                                       "tty"};
const std::set<std::string> kHandledContainerFields = {
    "name",         "image",           "command",        "args",      "env",
    "volumeMounts", "securityContext", "readinessProbe", "workingDir"};

absl::Status Unsupported(absl::string_view where, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(where, ": the fake kubelet does not implement ", what));
}

absl::Status CheckFields(const json& object, const std::set<std::string>& handled,
                         const std::set<std::string>& ignored, absl::string_view where) {
  if (!object.is_object()) return absl::InvalidArgumentError(absl::StrCat(where, " is not a map"));
  for (const auto& [key, value] : object.items()) {
    if (!handled.contains(key) && !ignored.contains(key)) {
      return Unsupported(where, absl::StrCat("field '", key, "'"));
    }
  }
  return absl::OkStatus();
}

std::string StringField(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

bool BoolField(const json& object, const char* key, bool fallback) {
  auto it = object.find(key);
  return it != object.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

// Pod-level settings every container shares.
struct PodSettings {
  std::map<std::string, HostPathSource> volumes;  // by volume name
  bool host_pid = false;
  bool mount_service_account = true;
  std::string service_account;
};

absl::StatusOr<HostPathSource> HostPathOf(const json& host_path, const NodeContext& node,
                                          absl::string_view where) {
  const std::string path = StringField(host_path, "path");
  if (path.empty() || path.front() != '/') {
    return absl::InvalidArgumentError(absl::StrCat(where, ": hostPath.path must be absolute"));
  }
  static const std::set<std::string> kTypes = {
      "", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket"};
  const std::string type = StringField(host_path, "type");
  if (!kTypes.contains(type)) return Unsupported(where, absl::StrCat("hostPath type ", type));
  if (node.shared_host_paths.contains(path)) return HostPathSource{path, type};
  return HostPathSource{
      (std::filesystem::path(node.host_root) / std::filesystem::path(path).relative_path())
          .string(),
      type};
}

absl::StatusOr<PodSettings> ReadPod(const json& spec, const NodeContext& node) {
  RETURN_IF_ERROR(CheckFields(spec, kHandledPodFields, kIgnoredPodFields, "pod spec"));
  if (!BoolField(spec, "hostNetwork", false)) {
    return Unsupported("pod spec", "pods without hostNetwork: true");
  }
  PodSettings pod;
  pod.host_pid = BoolField(spec, "hostPID", false);
  pod.mount_service_account = BoolField(spec, "automountServiceAccountToken", true);
  pod.service_account = StringField(spec, "serviceAccountName");
  if (pod.service_account.empty()) pod.service_account = StringField(spec, "serviceAccount");
  if (pod.service_account.empty()) pod.service_account = "default";
  if (auto sc = spec.find("securityContext"); sc != spec.end()) {
    // SELinux labels do nothing on a machine without SELinux; anything else would change how
    // the containers run.
    RETURN_IF_ERROR(CheckFields(*sc, {}, {"seLinuxOptions"}, "pod securityContext"));
  }
  for (const json& volume : spec.value("volumes", json::array())) {
    const std::string name = StringField(volume, "name");
    const std::string where = absl::StrCat("volume ", name);
    RETURN_IF_ERROR(CheckFields(volume, {"name", "hostPath"}, {}, where));
    if (!volume.contains("hostPath")) return Unsupported(where, "volumes other than hostPath");
    ASSIGN_OR_RETURN(pod.volumes[name], HostPathOf(volume["hostPath"], node, where));
  }
  return pod;
}

// The value of a fieldRef, as kubelet resolves it for a hostNetwork pod.
absl::StatusOr<std::string> FieldValue(const json& field_ref, const NodeContext& node,
                                       const PodSettings& pod, absl::string_view where) {
  const std::string path = StringField(field_ref, "fieldPath");
  if (path == "spec.nodeName") return node.node_name;
  if (path == "metadata.name") return node.pod_name;
  if (path == "metadata.namespace") return node.pod_namespace;
  if (path == "spec.serviceAccountName") return pod.service_account;
  if (path == "status.hostIP" || path == "status.podIP") return node.host_ip;
  return Unsupported(where, absl::StrCat("fieldRef ", path));
}

absl::StatusOr<std::optional<std::string>> SecretValue(const json& ref, const NodeContext& node,
                                                       absl::string_view where) {
  const std::string name = StringField(ref, "name");
  const std::string key = StringField(ref, "key");
  const bool optional = BoolField(ref, "optional", false);
  auto secret = node.secrets.find(name);
  if (secret != node.secrets.end()) {
    auto value = secret->second.find(key);
    if (value != secret->second.end()) return value->second;
  }
  if (optional) return std::nullopt;
  return absl::InvalidArgumentError(absl::StrCat(where, ": secret ", node.pod_namespace, "/", name,
                                                 " has no key ", key,
                                                 " (kubelet would not start the container)"));
}

// The container's environment in order, with kubelet's service variables last.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ContainerEnvironment(
    const json& container, const NodeContext& node, const PodSettings& pod,
    absl::string_view where) {
  std::vector<std::pair<std::string, std::string>> env;
  std::map<std::string, std::string> defined;
  for (const json& var : container.value("env", json::array())) {
    const std::string name = StringField(var, "name");
    const std::string at = absl::StrCat(where, " env ", name);
    RETURN_IF_ERROR(CheckFields(var, {"name", "value", "valueFrom"}, {}, at));
    std::optional<std::string> value;
    if (auto from = var.find("valueFrom"); from != var.end()) {
      RETURN_IF_ERROR(CheckFields(*from, {"fieldRef", "secretKeyRef"}, {}, at));
      if (from->contains("fieldRef")) {
        ASSIGN_OR_RETURN(value, FieldValue((*from)["fieldRef"], node, pod, at));
      } else if (from->contains("secretKeyRef")) {
        ASSIGN_OR_RETURN(value, SecretValue((*from)["secretKeyRef"], node, at));
      }
    } else {
      value = ExpandVariables(StringField(var, "value"), defined);
    }
    if (!value) continue;  // an optional secret key that is not there
    defined[name] = *value;
    env.emplace_back(name, *value);
  }
  env.emplace_back("KUBERNETES_SERVICE_HOST", node.api_host);
  env.emplace_back("KUBERNETES_SERVICE_PORT", std::to_string(node.api_port));
  return env;
}

absl::Status AddSecurityContext(const json& container, std::vector<std::string>& args,
                                absl::string_view where) {
  auto sc = container.find("securityContext");
  if (sc == container.end()) return absl::OkStatus();
  const std::string at = absl::StrCat(where, " securityContext");
  RETURN_IF_ERROR(CheckFields(
      *sc, {"privileged", "capabilities", "readOnlyRootFilesystem", "runAsUser", "runAsGroup"},
      {"seLinuxOptions", "allowPrivilegeEscalation"}, at));
  if (BoolField(*sc, "privileged", false)) args.push_back("--privileged");
  if (BoolField(*sc, "readOnlyRootFilesystem", false)) args.push_back("--read-only");
  if (auto caps = sc->find("capabilities"); caps != sc->end()) {
    RETURN_IF_ERROR(CheckFields(*caps, {"add", "drop"}, {}, at));
    for (const json& cap : caps->value("add", json::array())) {
      args.push_back(absl::StrCat("--cap-add=", cap.get<std::string>()));
    }
    for (const json& cap : caps->value("drop", json::array())) {
      args.push_back(absl::StrCat("--cap-drop=", cap.get<std::string>()));
    }
  }
  if (sc->contains("runAsUser")) {
    std::string user = std::to_string((*sc)["runAsUser"].get<int64_t>());
    if (sc->contains("runAsGroup")) {
      absl::StrAppend(&user, ":", (*sc)["runAsGroup"].get<int64_t>());
    }
    args.push_back(absl::StrCat("--user=", user));
  }
  return absl::OkStatus();
}

absl::Status AddMounts(const json& container, const PodSettings& pod, ContainerPlan& plan,
                       absl::string_view where) {
  for (const json& mount : container.value("volumeMounts", json::array())) {
    const std::string name = StringField(mount, "name");
    const std::string at = absl::StrCat(where, " volumeMount ", name);
    RETURN_IF_ERROR(
        CheckFields(mount, {"name", "mountPath", "readOnly", "mountPropagation"}, {}, at));
    auto volume = pod.volumes.find(name);
    if (volume == pod.volumes.end()) {
      return absl::InvalidArgumentError(absl::StrCat(at, ": no volume of that name"));
    }
    std::vector<std::string> options;
    if (BoolField(mount, "readOnly", false)) options.push_back("ro");
    const std::string propagation = StringField(mount, "mountPropagation");
    if (propagation == "HostToContainer") {
      options.push_back("rslave");
    } else if (propagation == "Bidirectional") {
      options.push_back("rshared");
    } else if (!propagation.empty() && propagation != "None") {
      return Unsupported(at, absl::StrCat("mountPropagation ", propagation));
    }
    std::string spec = absl::StrCat(volume->second.path, ":", StringField(mount, "mountPath"));
    if (!options.empty()) absl::StrAppend(&spec, ":", absl::StrJoin(options, ","));
    plan.podman_args.push_back("--volume");
    plan.podman_args.push_back(spec);
    plan.host_paths.push_back(volume->second);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<HttpProbe>> ReadinessProbe(const json& container,
                                                        const NodeContext& node,
                                                        absl::string_view where) {
  auto probe = container.find("readinessProbe");
  if (probe == container.end()) return std::nullopt;
  const std::string at = absl::StrCat(where, " readinessProbe");
  RETURN_IF_ERROR(CheckFields(*probe, {"httpGet"},
                              {"initialDelaySeconds", "periodSeconds", "timeoutSeconds",
                               "successThreshold", "failureThreshold"},
                              at));
  if (!probe->contains("httpGet")) return Unsupported(at, "probes other than httpGet");
  const json& get = (*probe)["httpGet"];
  RETURN_IF_ERROR(CheckFields(get, {"host", "path", "port", "scheme"}, {}, at));
  if (get.contains("scheme") && get["scheme"] != "HTTP") return Unsupported(at, "HTTPS probes");
  if (!get.contains("port") || !get["port"].is_number_integer()) {
    return Unsupported(at, "named or missing probe ports");
  }
  HttpProbe out;
  out.host = StringField(get, "host");
  if (out.host.empty()) out.host = node.host_ip;
  out.port = get["port"].get<int>();
  out.path = StringField(get, "path");
  if (out.path.empty()) out.path = "/";
  return out;
}

absl::StatusOr<std::vector<std::string>> StringList(const json& container, const char* key,
                                                    absl::string_view where) {
  std::vector<std::string> out;
  for (const json& item : container.value(key, json::array())) {
    if (!item.is_string()) {
      return absl::InvalidArgumentError(absl::StrCat(where, " ", key, " holds a non-string"));
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

absl::StatusOr<ContainerPlan> PlanContainer(const json& container, const NodeContext& node,
                                            const PodSettings& pod,
                                            const std::string& podman_prefix) {
  ContainerPlan plan;
  plan.name = StringField(container, "name");
  const std::string where = absl::StrCat("container ", plan.name);
  RETURN_IF_ERROR(CheckFields(container, kHandledContainerFields, kIgnoredContainerFields, where));
  const std::string image = StringField(container, "image");
  if (plan.name.empty() || image.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": a name and an image are required"));
  }
  plan.podman_name = absl::StrCat(podman_prefix, "-", plan.name);
  std::vector<std::string>& args = plan.podman_args;
  // Images are built on this machine: never pulled.
  args = {"run",        "--rm",           "--pull=never",
          "--name",     plan.podman_name, absl::StrCat("--network=ns:", node.netns_path),
          "--hostname", node.node_name};
  if (pod.host_pid) args.push_back("--pid=host");
  RETURN_IF_ERROR(AddSecurityContext(container, args, where));
  if (const std::string dir = StringField(container, "workingDir"); !dir.empty()) {
    args.push_back(absl::StrCat("--workdir=", dir));
  }

  ASSIGN_OR_RETURN(auto env, ContainerEnvironment(container, node, pod, where));
  std::map<std::string, std::string> vars(env.begin(), env.end());
  for (const auto& [name, value] : env) {
    args.push_back("--env");
    args.push_back(absl::StrCat(name, "=", value));
  }
  RETURN_IF_ERROR(AddMounts(container, pod, plan, where));
  if (pod.mount_service_account) {
    args.push_back("--volume");
    args.push_back(absl::StrCat(node.service_account_dir, ":", kServiceAccountMount, ":ro"));
  }
  ASSIGN_OR_RETURN(plan.readiness, ReadinessProbe(container, node, where));

  ASSIGN_OR_RETURN(std::vector<std::string> command, StringList(container, "command", where));
  ASSIGN_OR_RETURN(std::vector<std::string> container_args, StringList(container, "args", where));
  for (std::string& word : command) word = ExpandVariables(word, vars);
  for (std::string& word : container_args) word = ExpandVariables(word, vars);
  if (!command.empty()) {
    // A JSON array: podman then runs exactly these words, and (as with a Kubernetes command)
    // not the image's CMD.
    args.push_back(absl::StrCat("--entrypoint=", json(command).dump()));
  }
  args.push_back(image);
  args.insert(args.end(), container_args.begin(), container_args.end());
  return plan;
}

}  // namespace

std::string ExpandVariables(const std::string& input,
                            const std::map<std::string, std::string>& vars) {
  std::string out;
  for (size_t i = 0; i < input.size(); ++i) {
    if (input[i] != '$' || i + 1 == input.size()) {
      out += input[i];
      continue;
    }
    if (input[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    const size_t close = input.find(')', i);
    if (input[i + 1] != '(' || close == std::string::npos) {
      out += input[i];
      continue;
    }
    const std::string name = input.substr(i + 2, close - i - 2);
    auto var = vars.find(name);
    out += var != vars.end() ? var->second : input.substr(i, close - i + 1);
    i = close;
  }
  return out;
}

absl::StatusOr<std::vector<ContainerPlan>> PlanContainers(const json& pod_template, bool init,
                                                          const NodeContext& node,
                                                          const std::string& podman_prefix) {
  if (!pod_template.contains("spec")) {
    return absl::InvalidArgumentError("the pod template has no spec");
  }
  const json& spec = pod_template["spec"];
  ASSIGN_OR_RETURN(PodSettings pod, ReadPod(spec, node));
  std::vector<ContainerPlan> plans;
  for (const json& container : spec.value(init ? "initContainers" : "containers", json::array())) {
    ASSIGN_OR_RETURN(ContainerPlan plan, PlanContainer(container, node, pod, podman_prefix));
    plans.push_back(std::move(plan));
  }
  return plans;
}

}  // namespace weave::testing::kubelet
