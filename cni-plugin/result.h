// CNI results as values: parsed from a prevResult or a delegated IPAM plugin's output, built from
// the router's answers, and rendered in the shape each cniVersion expects.
//
// Rendering always includes "cniVersion" (the original plugin left it out, which broke containerd
// 1.6.0-1.6.4). Before 1.0.0 each ips entry carries "version"; from 1.0.0 it does not. "routes"
// and "dns" are always present (possibly empty) so that consumers need no special cases.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cni-plugin/version.h"
#include "nlohmann/json.hpp"

namespace weave::cni {

struct Interface {
  std::string name;
  std::string mac;
  std::string sandbox;  // netns path for container-side interfaces; empty on the host
  uint32_t mtu = 0;     // 0 = not reported; rendered from 1.1.0 on

  friend bool operator==(const Interface&, const Interface&) = default;
};

struct IpConfig {
  std::string address;  // CIDR, e.g. "10.32.0.5/12"
  std::string gateway;  // may be empty
  // Index into Result::interfaces; nullopt in IPAM results, which know no interfaces.
  std::optional<int> interface;

  friend bool operator==(const IpConfig&, const IpConfig&) = default;
};

struct Route {
  std::string dst;  // CIDR
  std::string gw;   // may be empty: the interface's default gateway

  friend bool operator==(const Route&, const Route&) = default;
};

struct Result {
  std::vector<Interface> interfaces;  // empty for IPAM results
  std::vector<IpConfig> ips;
  std::vector<Route> routes;
  nlohmann::json dns = nlohmann::json::object();  // passed through as given

  friend bool operator==(const Result&, const Result&) = default;
};

// Parses a result of any version from 0.3.0 on (a prevResult, or an IPAM plugin's stdout).
// Unknown keys are ignored; fields of the wrong type, an ips entry without an address, or an
// interface index out of range are errors with CNI code 7 naming `path` (e.g. "prevResult").
absl::StatusOr<Result> ParseResult(const nlohmann::json& document, absl::string_view path);
// The same from text; text that is not a JSON object is an error with CNI code 6.
absl::StatusOr<Result> ParseResultText(absl::string_view text, absl::string_view path);

// Chaining: `ours` appended after `previous`, with the interface indexes of our ips shifted past
// the previous interfaces. DNS comes from `previous` unless it is empty.
Result AppendResult(Result previous, const Result& ours);

// The result document for `version`, one line, without a trailing newline.
std::string RenderResult(const Result& result, CniVersion version);

// VERSION's answer: {"cniVersion": <version>, "supportedVersions": [...]}.
std::string RenderVersionInfo(CniVersion version);

}  // namespace weave::cni
