#include "charts/generator/kube_version.h"

#include <optional>
#include <regex>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace weave::charts {
namespace {

bool ToVersion(const std::string& major, const std::string& minor, KubeVersion* version) {
  return absl::SimpleAtoi(major, &version->major) && absl::SimpleAtoi(minor, &version->minor);
}

// The version on one "Client Version:" / "Server Version:" line, after the label.
bool ParseVersionText(const std::string& text, KubeVersion* version) {
  static const std::regex kGitVersion("GitVersion:\"v?([0-9]+)\\.([0-9]+)");
  static const std::regex kMajorMinor("Major:\"([0-9]+)\\+?\".*Minor:\"([0-9]+)\\+?\"");
  static const std::regex kPlain("^\\s*v?([0-9]+)\\.([0-9]+)");
  std::smatch match;
  for (const std::regex* form : {&kGitVersion, &kMajorMinor, &kPlain}) {
    if (std::regex_search(text, match, *form) && ToVersion(match[1], match[2], version)) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string KubeVersion::ToString() const { return absl::StrCat(major, ".", minor); }

absl::StatusOr<KubeVersion> ParseKubectlVersion(absl::string_view output) {
  std::optional<KubeVersion> client, server;
  for (absl::string_view line : absl::StrSplit(output, absl::ByAnyChar("\r\n"))) {
    line = absl::StripLeadingAsciiWhitespace(line);
    KubeVersion version;
    if (absl::ConsumePrefix(&line, "Server Version:")) {
      if (ParseVersionText(std::string(line), &version)) server = version;
    } else if (absl::ConsumePrefix(&line, "Client Version:")) {
      if (ParseVersionText(std::string(line), &version)) client = version;
    }
  }
  if (server) return *server;
  if (client) return *client;
  return absl::InvalidArgumentError(
      "k8s-version: no \"Server Version:\" or \"Client Version:\" line in the decoded "
      "`kubectl version` output");
}

absl::StatusOr<KubeVersion> DecodeKubeVersionParameter(absl::string_view base64) {
  std::string text = absl::StrReplaceAll(absl::StripAsciiWhitespace(base64), {{" ", "+"}});
  std::string decoded;
  if (!absl::Base64Unescape(text, &decoded) && !absl::WebSafeBase64Unescape(text, &decoded)) {
    return absl::InvalidArgumentError(
        "k8s-version: not base64 (expected $(kubectl version | base64 | tr -d '\\n'))");
  }
  return ParseKubectlVersion(decoded);
}

}  // namespace weave::charts
