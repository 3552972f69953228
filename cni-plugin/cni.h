// The CNI invocation as values: the command, the CNI_* environment, CNI_ARGS and the network
// configuration on stdin. Every function here is pure; errors carry the spec's codes
// (errors.h): a bad variable is 4, JSON that does not parse is 6, a bad field is 7, an
// unsupported field 2 and an unsupported cniVersion 1.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cni-plugin/result.h"
#include "cni-plugin/version.h"
#include "nlohmann/json.hpp"

namespace weave::cni {

enum class Command { kAdd, kDel, kCheck, kVersion, kGc, kStatus };

// "ADD", "DEL", "CHECK", "VERSION", "GC", "STATUS". Unset or unknown is code 4.
absl::StatusOr<Command> ParseCommand(absl::string_view text);
absl::string_view CommandName(Command command);

// CHECK needs 0.4.0 and GC/STATUS need 1.1.0 in the configuration; otherwise code 1.
absl::Status CheckCommandAllowed(Command command, CniVersion version);

// weave-net attaches containers; invoked as weave-ipam (argv[0]'s basename) it only manages
// addresses, as an IPAM plugin for another main plugin.
enum class Mode { kNet, kIpam };
Mode ModeFromProgramName(absl::string_view argv0);
absl::string_view ProgramName(Mode mode);  // "weave-net" or "weave-ipam"

// The process environment (only the variables the plugin reads need be present).
using EnvMap = std::map<std::string, std::string, std::less<>>;

// The CNI_* variables, validated for one command.
struct CniEnv {
  std::string container_id;  // CNI_CONTAINERID
  std::string netns;         // CNI_NETNS; may be empty for DEL, GC and STATUS
  std::string ifname;        // CNI_IFNAME
  std::string args;          // CNI_ARGS, raw
  std::string path;          // CNI_PATH, raw (colon-separated)
};

// Requires what `command` needs in `mode` and validates it as the spec describes (container ID:
// alphanumeric first, then alphanumerics, '_', '.', '-'; interface name: 1-15 characters, not
// "." or "..", no '/', ':' or whitespace). ADD and CHECK need CNI_CONTAINERID, CNI_NETNS (net
// mode only) and CNI_IFNAME; DEL needs CNI_CONTAINERID and CNI_IFNAME (net mode; the IPAM plugin
// releases every address of the container without it). CNI_PATH is required only where an IPAM
// plugin is run (see NetConf). Missing variables are one code 4 error naming all of them.
absl::StatusOr<CniEnv> ParseEnv(Command command, Mode mode, const EnvMap& env);

// What the plugin uses from CNI_ARGS ("K=V;K2=V2"); other keys are ignored.
struct CniArgs {
  std::string pod_namespace;  // K8S_POD_NAMESPACE
  std::string pod_name;       // K8S_POD_NAME

  friend bool operator==(const CniArgs&, const CniArgs&) = default;
};
// Empty segments are skipped; a segment without '=' or with an empty key is code 4.
absl::StatusOr<CniArgs> ParseCniArgs(absl::string_view text);

// A (container, interface) pair the runtime still uses, from "cni.dev/valid-attachments".
struct Attachment {
  std::string container_id;
  std::string ifname;

  friend bool operator==(const Attachment&, const Attachment&) = default;
};

struct IpamConfig {
  std::string type;           // empty = the router's IPAM; otherwise a plugin run from CNI_PATH
  std::string subnet;         // weave-ipam only: allocate in this subnet instead of the default
  std::string gateway;        // weave-ipam only: overrides the router's gateway in the result
  std::vector<Route> routes;  // weave-ipam only: replaces the default route in the result

  bool delegated() const { return !type.empty(); }
};

// The network configuration (a conflist entry with the list's name and cniVersion filled in).
struct NetConf {
  CniVersion version = kLatestVersion;
  std::string name;
  std::string type;
  std::optional<bool> hairpin_mode;  // unset = the router's HAIRPIN_MODE
  uint32_t mtu = 0;                  // 0 = the router's WEAVE_MTU
  IpamConfig ipam;
  nlohmann::json dns = nlohmann::json::object();
  std::optional<Result> prev_result;
  // From "cni.dev/valid-attachments" (or "cni.dev/attachments", which libcni also sends).
  std::optional<std::vector<Attachment>> valid_attachments;
  std::string socket;  // "socket": the router's unix socket; empty = WEAVE_SOCKET or default
};

// Parses stdin. "cniVersion", "name" and "type" are required. In net mode, "ipam" without a
// "type" means the router's IPAM and may not carry weave-ipam's keys (subnet, gateway, routes:
// code 2, with a hint to use "type": "weave-ipam"); with a type, only the type is read (the rest
// belongs to that plugin), and "weave-net" itself is refused (code 7). "isGateway" and "ipMasq"
// true, and a "bridge" other than "weave", are unsupported (code 2) as in the original plugin.
// Unknown keys are ignored.
absl::StatusOr<NetConf> ParseNetConf(absl::string_view text, Mode mode);

// The cniVersion to print an error or VERSION answer in: the configuration's if it parses and is
// supported, else the latest.
CniVersion ResponseVersion(absl::string_view stdin_text);

inline constexpr char kDefaultSocket[] = "/run/weave/weave.sock";

// The router socket: the configuration's "socket", else WEAVE_SOCKET, else kDefaultSocket. A
// "unix:" or "unix://" prefix is removed: the result is a path.
std::string RouterSocket(const NetConf& conf, const EnvMap& env);

}  // namespace weave::cni
