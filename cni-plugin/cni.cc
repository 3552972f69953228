#include "cni-plugin/cni.h"

#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cni-plugin/errors.h"
#include "cni-plugin/json_fields.h"
#include "common/status_macros.h"

namespace weave::cni {
namespace {

using internal::GetArray;
using internal::GetBool;
using internal::GetObject;
using internal::GetString;
using internal::GetUnsigned;
using nlohmann::json;

struct CommandEntry {
  Command command;
  absl::string_view name;
};
constexpr std::array<CommandEntry, 6> kCommands = {{{Command::kAdd, "ADD"},
                                                    {Command::kDel, "DEL"},
                                                    {Command::kCheck, "CHECK"},
                                                    {Command::kVersion, "VERSION"},
                                                    {Command::kGc, "GC"},
                                                    {Command::kStatus, "STATUS"}}};

constexpr size_t kMaxIfnameLength = 15;  // IFNAMSIZ - 1

std::string Lookup(const EnvMap& env, absl::string_view name) {
  auto it = env.find(name);
  return it == env.end() ? std::string() : it->second;
}

absl::Status ValidateContainerId(absl::string_view id) {
  bool valid = !id.empty() && absl::ascii_isalnum(id[0]);
  for (char c : id) {
    valid = valid && (absl::ascii_isalnum(c) || c == '_' || c == '.' || c == '-');
  }
  if (valid) return absl::OkStatus();
  return CniStatus(kErrInvalidEnvironment,
                   absl::StrCat("CNI_CONTAINERID \"", id,
                                "\" is invalid: want an alphanumeric character followed by "
                                "alphanumerics, '_', '.' or '-'"));
}

absl::Status ValidateIfname(absl::string_view name) {
  bool valid = !name.empty() && name.size() <= kMaxIfnameLength && name != "." && name != "..";
  for (char c : name) {
    valid = valid && c != '/' && c != ':' && !absl::ascii_isspace(c);
  }
  if (valid) return absl::OkStatus();
  return CniStatus(kErrInvalidEnvironment,
                   absl::StrCat("CNI_IFNAME \"", name,
                                "\" is not a valid interface name (1-15 characters, not . or .., "
                                "no '/', ':' or whitespace)"));
}

struct Requirements {
  bool container_id = false;
  bool netns = false;
  bool ifname = false;
};

Requirements RequirementsFor(Command command, Mode mode) {
  switch (command) {
    case Command::kAdd:
    case Command::kCheck:
      return {.container_id = true, .netns = mode == Mode::kNet, .ifname = true};
    case Command::kDel:
      return {.container_id = true, .netns = false, .ifname = mode == Mode::kNet};
    default:
      return {};
  }
}

absl::StatusOr<std::vector<Attachment>> ParseAttachments(const json& array, absl::string_view key) {
  std::vector<Attachment> attachments;
  for (size_t i = 0; i < array.size(); ++i) {
    const std::string path = absl::StrCat(key, "[", i, "]");
    if (!array[i].is_object()) {
      return CniStatus(kErrInvalidConfig, absl::StrCat("field \"", path, "\" must be an object"));
    }
    ASSIGN_OR_RETURN(std::optional<std::string> id, GetString(array[i], "containerID", path));
    ASSIGN_OR_RETURN(std::optional<std::string> ifname, GetString(array[i], "ifname", path));
    if (!id.has_value()) return internal::MissingField(path + ".containerID");
    attachments.push_back({*id, ifname.value_or("")});
  }
  return attachments;
}

absl::Status ParseValidAttachments(const json& document, NetConf& conf) {
  for (absl::string_view key : {"cni.dev/valid-attachments", "cni.dev/attachments"}) {
    ASSIGN_OR_RETURN(const json* array, GetArray(document, key, ""));
    if (array == nullptr) continue;
    ASSIGN_OR_RETURN(conf.valid_attachments, ParseAttachments(*array, key));
    return absl::OkStatus();
  }
  return absl::OkStatus();
}

// weave-ipam's own keys in "ipam".
absl::Status ParseWeaveIpam(const json& object, IpamConfig& ipam) {
  ASSIGN_OR_RETURN(std::optional<std::string> subnet, GetString(object, "subnet", "ipam"));
  ASSIGN_OR_RETURN(std::optional<std::string> gateway, GetString(object, "gateway", "ipam"));
  ASSIGN_OR_RETURN(const json* routes, GetArray(object, "routes", "ipam"));
  ipam.subnet = subnet.value_or("");
  ipam.gateway = gateway.value_or("");
  if (routes != nullptr) {
    // Reuse the result parser for {dst, gw} entries.
    ASSIGN_OR_RETURN(Result parsed, ParseResult(json{{"routes", *routes}}, "ipam"));
    ipam.routes = std::move(parsed.routes);
  }
  return absl::OkStatus();
}

absl::Status ParseIpam(const json& document, Mode mode, IpamConfig& ipam) {
  ASSIGN_OR_RETURN(const json* object, GetObject(document, "ipam", ""));
  if (object == nullptr) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::optional<std::string> type, GetString(*object, "type", "ipam"));
  ipam.type = type.value_or("");
  // The rest of a delegated plugin's section is its own business.
  if (mode == Mode::kIpam) return ParseWeaveIpam(*object, ipam);
  if (ipam.type == "weave-net") {
    // It would delegate to itself again, without end.
    return CniStatus(kErrInvalidConfig,
                     "ipam.type \"weave-net\" names the main plugin; use \"weave-ipam\" or leave "
                     "the type out for the router's IPAM");
  }
  if (!ipam.delegated()) {
    for (absl::string_view key : {"subnet", "gateway", "routes", "ranges"}) {
      if (object->contains(std::string(key))) {
        return CniStatus(kErrUnsupportedField,
                         absl::StrCat("ipam.", key,
                                      " needs an IPAM plugin: set \"ipam\": {\"type\": "
                                      "\"weave-ipam\", ...} (without a type the router allocates "
                                      "from its default subnet)"));
      }
    }
  }
  return absl::OkStatus();
}

// Fields of the original plugin's NetConf that this router cannot honour.
absl::Status RejectUnsupported(const json& document) {
  for (absl::string_view key : {"isGateway", "ipMasq"}) {
    ASSIGN_OR_RETURN(std::optional<bool> value, GetBool(document, key, ""));
    if (value.value_or(false)) {
      return CniStatus(kErrUnsupportedField,
                       absl::StrCat(key,
                                    " is not supported: the weave router provides the "
                                    "gateway and masquerading itself"));
    }
  }
  ASSIGN_OR_RETURN(std::optional<std::string> bridge, GetString(document, "bridge", ""));
  if (bridge.has_value() && *bridge != "weave") {
    return CniStatus(kErrUnsupportedField, absl::StrCat("bridge \"", *bridge,
                                                        "\" is not supported: pods attach to the "
                                                        "router's bridge \"weave\""));
  }
  return absl::OkStatus();
}

absl::StatusOr<json> ParseDocument(absl::string_view text) {
  if (absl::StripAsciiWhitespace(text).empty()) {
    return CniStatus(kErrDecoding, "no network configuration on stdin");
  }
  json document = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) {
    return CniStatus(kErrDecoding, "the network configuration on stdin is not valid JSON");
  }
  if (!document.is_object()) {
    return CniStatus(kErrDecoding, "the network configuration on stdin is not a JSON object");
  }
  return document;
}

absl::StatusOr<CniVersion> ParseVersionField(const json& document) {
  ASSIGN_OR_RETURN(std::optional<std::string> text, GetString(document, "cniVersion", ""));
  if (!text.has_value()) return internal::MissingField("cniVersion");
  std::optional<CniVersion> version = ParseCniVersion(*text);
  if (!version.has_value()) {
    return WithCniDetails(
        CniStatus(kErrIncompatibleVersion,
                  absl::StrCat("unsupported cniVersion \"", *text, "\"; weave-net supports ",
                               absl::StrJoin(kSupportedVersions, ", "))),
        absl::StrCat("config is \"", *text, "\", plugin supports [",
                     absl::StrJoin(kSupportedVersions, ", "), "]"));
  }
  return *version;
}

absl::StatusOr<std::string> RequiredString(const json& document, absl::string_view key) {
  ASSIGN_OR_RETURN(std::optional<std::string> value, GetString(document, key, ""));
  if (!value.has_value() || value->empty()) return internal::MissingField(key);
  return *value;
}

}  // namespace

absl::StatusOr<Command> ParseCommand(absl::string_view text) {
  for (const CommandEntry& entry : kCommands) {
    if (entry.name == text) return entry.command;
  }
  if (text.empty()) {
    return CniStatus(kErrInvalidEnvironment,
                     "CNI_COMMAND is not set; want ADD, DEL, CHECK, VERSION, GC or STATUS");
  }
  return CniStatus(kErrInvalidEnvironment,
                   absl::StrCat("unknown CNI_COMMAND \"", text,
                                "\"; want ADD, DEL, CHECK, VERSION, GC or STATUS"));
}

absl::string_view CommandName(Command command) {
  return kCommands[static_cast<size_t>(command)].name;
}

absl::Status CheckCommandAllowed(Command command, CniVersion version) {
  bool allowed = true;
  if (command == Command::kCheck) allowed = SupportsCheck(version);
  if (command == Command::kGc || command == Command::kStatus) {
    allowed = SupportsGcAndStatus(version);
  }
  if (allowed) return absl::OkStatus();
  return CniStatus(
      kErrIncompatibleVersion,
      absl::StrCat("cniVersion ", VersionString(version), " does not allow ", CommandName(command),
                   " (it needs ", command == Command::kCheck ? "0.4.0" : "1.1.0", " or later)"));
}

Mode ModeFromProgramName(absl::string_view argv0) {
  const size_t slash = argv0.rfind('/');
  const absl::string_view base = slash == absl::string_view::npos ? argv0 : argv0.substr(slash + 1);
  return base == "weave-ipam" ? Mode::kIpam : Mode::kNet;
}

absl::string_view ProgramName(Mode mode) {
  return mode == Mode::kIpam ? "weave-ipam" : "weave-net";
}

absl::StatusOr<CniEnv> ParseEnv(Command command, Mode mode, const EnvMap& env) {
  CniEnv result{.container_id = Lookup(env, "CNI_CONTAINERID"),
                .netns = Lookup(env, "CNI_NETNS"),
                .ifname = Lookup(env, "CNI_IFNAME"),
                .args = Lookup(env, "CNI_ARGS"),
                .path = Lookup(env, "CNI_PATH")};
  const Requirements need = RequirementsFor(command, mode);
  std::vector<absl::string_view> missing;
  if (need.container_id && result.container_id.empty()) missing.push_back("CNI_CONTAINERID");
  if (need.netns && result.netns.empty()) missing.push_back("CNI_NETNS");
  if (need.ifname && result.ifname.empty()) missing.push_back("CNI_IFNAME");
  if (!missing.empty()) {
    return CniStatus(kErrInvalidEnvironment,
                     absl::StrCat("required environment variable", missing.size() > 1 ? "s " : " ",
                                  absl::StrJoin(missing, ", "), missing.size() > 1 ? " are" : " is",
                                  " not set for ", CommandName(command)));
  }
  if (!result.container_id.empty()) RETURN_IF_ERROR(ValidateContainerId(result.container_id));
  if (!result.ifname.empty()) RETURN_IF_ERROR(ValidateIfname(result.ifname));
  return result;
}

absl::StatusOr<CniArgs> ParseCniArgs(absl::string_view text) {
  CniArgs args;
  for (absl::string_view pair : absl::StrSplit(text, ';', absl::SkipWhitespace())) {
    const size_t eq = pair.find('=');
    if (eq == absl::string_view::npos || eq == 0) {
      return CniStatus(kErrInvalidEnvironment,
                       absl::StrCat("CNI_ARGS: invalid pair \"", pair, "\" (want KEY=VALUE)"));
    }
    const absl::string_view key = pair.substr(0, eq);
    const absl::string_view value = pair.substr(eq + 1);
    if (key == "K8S_POD_NAMESPACE") args.pod_namespace = std::string(value);
    if (key == "K8S_POD_NAME") args.pod_name = std::string(value);
  }
  return args;
}

absl::StatusOr<NetConf> ParseNetConf(absl::string_view text, Mode mode) {
  ASSIGN_OR_RETURN(const json document, ParseDocument(text));
  NetConf conf;
  ASSIGN_OR_RETURN(conf.version, ParseVersionField(document));
  ASSIGN_OR_RETURN(conf.name, RequiredString(document, "name"));
  ASSIGN_OR_RETURN(conf.type, RequiredString(document, "type"));
  ASSIGN_OR_RETURN(conf.hairpin_mode, GetBool(document, "hairpinMode", ""));
  ASSIGN_OR_RETURN(std::optional<uint64_t> mtu, GetUnsigned(document, "mtu", "", 65535));
  conf.mtu = static_cast<uint32_t>(mtu.value_or(0));
  ASSIGN_OR_RETURN(std::optional<std::string> socket, GetString(document, "socket", ""));
  conf.socket = socket.value_or("");
  RETURN_IF_ERROR(ParseIpam(document, mode, conf.ipam));
  if (mode == Mode::kNet) RETURN_IF_ERROR(RejectUnsupported(document));
  ASSIGN_OR_RETURN(const json* dns, GetObject(document, "dns", ""));
  if (dns != nullptr) conf.dns = *dns;
  ASSIGN_OR_RETURN(const json* runtime_config, GetObject(document, "runtimeConfig", ""));
  (void)runtime_config;  // Only its type is checked: no capability of ours needs it yet.
  ASSIGN_OR_RETURN(const json* prev_result, GetObject(document, "prevResult", ""));
  if (prev_result != nullptr) {
    ASSIGN_OR_RETURN(conf.prev_result, ParseResult(*prev_result, "prevResult"));
  }
  RETURN_IF_ERROR(ParseValidAttachments(document, conf));
  return conf;
}

CniVersion ResponseVersion(absl::string_view stdin_text) {
  json document =
      json::parse(stdin_text.begin(), stdin_text.end(), nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded() || !document.is_object()) return kLatestVersion;
  auto it = document.find("cniVersion");
  if (it == document.end() || !it->is_string()) return kLatestVersion;
  return ParseCniVersion(it->get_ref<const std::string&>()).value_or(kLatestVersion);
}

std::string RouterSocket(const NetConf& conf, const EnvMap& env) {
  std::string socket = conf.socket;
  if (socket.empty()) socket = Lookup(env, "WEAVE_SOCKET");
  if (socket.empty()) socket = kDefaultSocket;
  absl::string_view path = socket;
  if (!absl::ConsumePrefix(&path, "unix://")) absl::ConsumePrefix(&path, "unix:");
  return std::string(path);
}

}  // namespace weave::cni
