// The Kubernetes version in the generator's `k8s-version` parameter: base64 of whatever
// `kubectl version` printed, as in the spec's install command
//   kubectl apply -f ".../k8s/net?k8s-version=$(kubectl version | base64 | tr -d '\n')"
//
// kubectl has printed two forms over the years, and both must keep working:
//   before 1.28: Client Version: version.Info{Major:"1", Minor:"16", GitVersion:"v1.16.3", ...}
//                Server Version: version.Info{Major:"1", Minor:"16+", GitVersion:"v1.16.6-eks-1",
//                ...}
//   since 1.28:  Client Version: v1.29.1
//                Kustomize Version: v5.0.4-0.20230601165947-6ce0bf390ce3
//                Server Version: v1.29.0
// The server's version is the one that matters (it runs the DaemonSet); without a server line
// (kubectl could not reach it) the client's is used.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace weave::charts {

struct KubeVersion {
  int major = 0;
  int minor = 0;
  friend bool operator==(const KubeVersion&, const KubeVersion&) = default;
  friend auto operator<=>(const KubeVersion&, const KubeVersion&) = default;
  std::string ToString() const;  // "1.16"
};

// The oldest Kubernetes the manifest is written for (apps/v1 DaemonSets with
// priorityClassName system-node-critical, rbac.authorization.k8s.io/v1).
inline constexpr KubeVersion kMinKubeVersion{1, 16};

// From the text `kubectl version` printed. InvalidArgument when no version line is found.
absl::StatusOr<KubeVersion> ParseKubectlVersion(absl::string_view output);

// From the parameter's value: base64 (standard or URL-safe, padding optional; a '+' that
// arrived as a space because the URL did not encode it counts as '+'), then as above.
absl::StatusOr<KubeVersion> DecodeKubeVersionParameter(absl::string_view base64);

}  // namespace weave::charts
