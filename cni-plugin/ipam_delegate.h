// Delegated IPAM: running another IPAM plugin (e.g. host-local) the way the runtime ran us.
// ExecIpamDelegate runs the executable; tests substitute a fake.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cni-plugin/cni.h"

namespace weave::cni {

class IpamDelegate {
 public:
  virtual ~IpamDelegate() = default;

  // Runs IPAM plugin `type` for `command` with `stdin_data` (the network configuration exactly as
  // we received it) and our environment with CNI_COMMAND set to `command`. Returns its stdout on
  // success. When the plugin fails with a CNI error, the status carries that error's code and
  // message (prefixed "ipam plugin <type>: ") and its details.
  virtual absl::StatusOr<std::string> Run(absl::string_view type, Command command,
                                          absl::string_view stdin_data) = 0;
};

// The directory entry CNI_PATH resolves `type` to: the first <dir>/<type> in `cni_path` that is an
// executable regular file. A type containing '/' or naming "."/".." is code 7; nothing found is
// code 7 naming the directories; an empty CNI_PATH is code 4.
absl::StatusOr<std::string> FindPlugin(absl::string_view type, absl::string_view cni_path);

class ExecIpamDelegate final : public IpamDelegate {
 public:
  // `environment`: "NAME=value" entries of our own environment, passed on to the plugin.
  // A plugin still running after `timeout` is killed, and the call is DEADLINE_EXCEEDED.
  ExecIpamDelegate(std::vector<std::string> environment, absl::Duration timeout);

  absl::StatusOr<std::string> Run(absl::string_view type, Command command,
                                  absl::string_view stdin_data) override;

 private:
  std::vector<std::string> environment_;
  std::string cni_path_;
  absl::Duration timeout_;
};

}  // namespace weave::cni
