// `weave setup-cni`: installs the CNI plugin binary (weave-net, and weave-ipam beside it) into
// the CNI bin directory and writes 10-weave.conflist (weave-net, then portmap with snat) into
// the CNI config directory, only when that file is absent so that an operator's edits stay.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace weave::cli {

struct SetupCniOptions {
  std::string plugin_binary;  // the weave-net binary to install
  std::string bin_dir;        // e.g. /host/opt/cni/bin
  std::string conf_dir;       // e.g. /host/etc/cni/net.d
  bool hairpin = true;        // HAIRPIN_MODE: the conflist's hairpinMode
};

inline constexpr char kConflistName[] = "10-weave.conflist";

// The conflist text (JSON, newline-terminated).
std::string Conflist(bool hairpin);

// Copies the plugin atomically (write beside, then rename: a kubelet never runs a half
// written binary), makes weave-ipam a symlink to it, and writes the conflist if absent.
// Idempotent. Errors name the path.
absl::Status SetupCni(const SetupCniOptions& options);

}  // namespace weave::cli
