// What the manifest generator takes: the spec's query parameters ("Changing Configuration
// Options") and one extension, `registry`, because this project publishes no images to a
// public registry.
//
//   k8s-version            base64 of `kubectl version`; 400 below Kubernetes 1.16
//   version                image tag (default: this build's version)
//   registry               image registry (default: localhost)
//   password-secret        Secret in kube-system whose key of the same name holds the password
//   known-peers            comma-separated hosts -> KUBE_PEERS
//   trusted-subnets        comma-separated CIDRs -> WEAVE_TRUSTED_SUBNETS
//   disable-npc            true|false: no weave-npc container, EXPECT_NPC=0
//   use-legacy-netpol      true|false: weave-npc --use-legacy-netpol=true
//   env.NAME=VALUE         environment variable of the weave container (upserted)
//   seLinuxOptions.NAME=V  the pod's securityContext.seLinuxOptions (user, role, type, level)
//
// Parsing checks each value's form; the values that reach weaver are checked again, as a
// whole, by weaver's own rules when the manifest is built (manifest.h). Every error is one
// line naming the parameter, meant for an HTTP 400 body or a command-line message.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "charts/generator/kube_version.h"

namespace weave::charts {

inline constexpr char kDefaultRegistry[] = "localhost";
// The project's version (CMakeLists.txt `project(... VERSION ...)`): the default image tag.
extern const char kDefaultImageTag[];

struct EnvVar {
  std::string name;
  std::string value;
  friend bool operator==(const EnvVar&, const EnvVar&) = default;
};

struct ManifestParams {
  std::optional<KubeVersion> kube_version;  // absent: no k8s-version given
  std::string registry = kDefaultRegistry;
  std::string image_tag = kDefaultImageTag;
  std::string password_secret;           // empty: no encryption
  std::vector<std::string> known_peers;  // empty: peers are the cluster's nodes
  std::vector<std::string> trusted_subnets;
  bool disable_npc = false;
  bool use_legacy_netpol = false;
  std::vector<EnvVar> env;                                            // in the order given
  std::vector<std::pair<std::string, std::string>> se_linux_options;  // in the order given
};

// Parses a URL query string ("k8s-version=...&env.WEAVE_MTU=1337"; a leading '?' is allowed,
// '+' and %XX are decoded). Unknown parameters, repeated parameters, malformed values, values
// with control or non-ASCII characters, conflicting parameters and Kubernetes older than 1.16
// are InvalidArgument.
absl::StatusOr<ManifestParams> ParseQuery(absl::string_view query);

}  // namespace weave::charts
