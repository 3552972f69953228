// The pure half of the tests' fake kubelet: a pod template's containers as podman command lines,
// the way kubelet (with a container runtime) would run them on one node. Only hostNetwork pods,
// which is what the DaemonSet is: each container joins the node's network namespace.
//
// Kubelet's semantics kept here:
//   - command replaces the image's ENTRYPOINT, args its CMD; $(VAR) in command, args and env
//     values expands to the container's variables ($$ escapes, unknown references stay);
//   - env: value, fieldRef (metadata.name, metadata.namespace, spec.nodeName,
//     spec.serviceAccountName, status.hostIP, status.podIP), secretKeyRef (optional honoured),
//     then KUBERNETES_SERVICE_HOST/PORT as kubelet adds them;
//   - hostPath volumes (type "", DirectoryOrCreate, Directory, FileOrCreate, File, Socket),
//     readOnly and mountPropagation of each volumeMount;
//   - the service account's token, ca.crt and namespace at kServiceAccountMount unless
//     automountServiceAccountToken is false;
//   - securityContext privileged, capabilities, readOnlyRootFilesystem, runAsUser/runAsGroup;
//   - hostNetwork: the node's namespace and its name as the hostname.
// Fields that only matter to a scheduler or a real kubelet (resources, tolerations, dnsPolicy,
// priorityClassName, ports, ...) are accepted and ignored; any other field is an error naming it,
// so that a manifest never relies on something the fake silently skips.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace weave::testing::kubelet {

inline constexpr char kServiceAccountMount[] = "/var/run/secrets/kubernetes.io/serviceaccount";

// What kubelet knows about its node, the pod and the cluster when it starts the pod.
struct NodeContext {
  std::string node_name;   // spec.nodeName, and the hostname of a hostNetwork pod
  std::string host_ip;     // status.hostIP, and status.podIP of a hostNetwork pod
  std::string netns_path;  // the node's network namespace ("/var/run/netns/<name>")
  // A hostPath volume's path P is <host_root>/P on this fake node: nodes share the machine, so
  // each gets a folder of its own...
  std::string host_root;
  // ...except these paths, used as they are: what all nodes share anyway (the kernel's modules).
  std::set<std::string> shared_host_paths;
  std::string pod_name;
  std::string pod_namespace;
  std::string service_account_dir;  // holds token, ca.crt, namespace
  std::string api_host;             // KUBERNETES_SERVICE_HOST
  int api_port = 443;               // KUBERNETES_SERVICE_PORT
  // What secretKeyRef reads (kubelet fetches it from the API): secret name -> key -> value.
  std::map<std::string, std::map<std::string, std::string>> secrets;
};

// A hostPath volume's source on the fake node, and what kubelet checks or creates there.
struct HostPathSource {
  std::string path;  // on this machine
  std::string type;  // the volume's type: "", DirectoryOrCreate, FileOrCreate, ...
};

// readinessProbe.httpGet: kubelet GETs http://host:port/path from the node (the pod's address
// when host is not given); 200-399 is ready.
struct HttpProbe {
  std::string host;
  int port = 0;
  std::string path;
};

// One container as podman runs it.
struct ContainerPlan {
  std::string name;                        // the container's name in the pod ("weave")
  std::string podman_name;                 // its name for podman ("<prefix>-weave")
  std::vector<std::string> podman_args;    // after the podman command: "run", ..., image, args
  std::vector<HostPathSource> host_paths;  // to check or create before it starts
  std::optional<HttpProbe> readiness;
};

// The pod template's init containers (`init`) or containers, in the template's order. Each
// podman name is `podman_prefix` + "-" + the container's name. Errors: InvalidArgument naming
// a field the fake does not implement or a reference it cannot resolve (a missing secret key
// that is not optional, an unknown fieldRef or volume).
absl::StatusOr<std::vector<ContainerPlan>> PlanContainers(const nlohmann::json& pod_template,
                                                          bool init, const NodeContext& node,
                                                          const std::string& podman_prefix);

// Kubernetes' $(VAR) expansion of `input` with `vars`: "$$" is a literal "$", a reference to an
// unknown variable is left as written.
std::string ExpandVariables(const std::string& input,
                            const std::map<std::string, std::string>& vars);

}  // namespace weave::testing::kubelet
