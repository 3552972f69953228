// Reading the small files configuration comes from (tokens, certificates, kubeconfigs).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace weave::kube {

// The whole file; errors read "reading <what> <path>: <errno text>". Files over 16 MiB are
// refused (a kubeconfig or a certificate is a few kilobytes).
absl::StatusOr<std::string> ReadSmallFile(const std::string& path, absl::string_view what);

}  // namespace weave::kube
