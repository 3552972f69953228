#include "charts/generator/params.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace weave::charts {

const char kDefaultImageTag[] = WEAVE_VERSION;

namespace {

constexpr char kKnownParameters[] =
    "k8s-version, version, registry, password-secret, known-peers, trusted-subnets, "
    "disable-npc, use-legacy-netpol, env.NAME, seLinuxOptions.NAME";

// Set by the manifest itself: changing them would break the pod, not configure it.
const std::set<std::string, std::less<>> kManifestOwnedEnv = {"HOSTNAME", "INIT_CONTAINER",
                                                              "HOST_ROOT"};

// The fields of a PodSecurityContext's seLinuxOptions.
const std::set<std::string, std::less<>> kSeLinuxFields = {"user", "role", "type", "level"};

absl::Status Invalid(absl::string_view parameter, absl::string_view value,
                     absl::string_view expected) {
  return absl::InvalidArgumentError(
      absl::StrCat(parameter, ": \"", value, "\" is not valid: expected ", expected));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding: '+' is a space, %XX a byte.
absl::StatusOr<std::string> UrlDecode(absl::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out.push_back(' ');
    } else if (text[i] != '%') {
      out.push_back(text[i]);
    } else if (i + 2 < text.size() && HexValue(text[i + 1]) >= 0 && HexValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2])));
      i += 2;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "the query has a malformed percent-escape in \"", absl::CHexEscape(text), "\""));
    }
  }
  // Printable ASCII only: these values end up in YAML, environment variables and labels,
  // where anything else is a mistake or an attack.
  for (unsigned char c : out) {
    if (c < 0x20 || c >= 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the query holds a control or non-ASCII character in \"", absl::CHexEscape(text), "\""));
    }
  }
  return out;
}

// The spec's booleans are `true|false`, nothing else.
absl::Status SetBool(absl::string_view parameter, absl::string_view value, bool* field) {
  if (value != "true" && value != "false") return Invalid(parameter, value, "true or false");
  *field = value == "true";
  return absl::OkStatus();
}

bool IsEnvName(absl::string_view name) {
  if (name.empty() || absl::ascii_isdigit(name[0])) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '_') return false;
  }
  return true;
}

// A DNS subdomain (RFC 1123), as Kubernetes requires of a Secret's name.
bool IsDnsSubdomain(absl::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  for (char c : name) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '-' && c != '.') return false;
  }
  return absl::ascii_isalnum(name.front()) && absl::ascii_isalnum(name.back());
}

// An image tag as the OCI distribution spec allows it.
bool IsImageTag(absl::string_view tag) {
  if (tag.empty() || tag.size() > 128 || tag[0] == '.' || tag[0] == '-') return false;
  for (char c : tag) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

// A registry host with an optional port and path ("localhost", "registry.example:5000/team").
bool IsRegistry(absl::string_view registry) {
  if (registry.empty() || registry.front() == '/' || registry.back() == '/' ||
      absl::StrContains(registry, "//")) {
    return false;
  }
  for (char c : registry) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '-' && c != '_' && c != ':' && c != '/') {
      return false;
    }
  }
  return true;
}

// "a, b,,c" -> a, b, c. Whether each item is a valid host or CIDR is weaver's rule (manifest.h).
std::vector<std::string> SplitCommaList(absl::string_view value) {
  std::vector<std::string> items;
  for (absl::string_view item : absl::StrSplit(value, ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (!item.empty()) items.emplace_back(item);
  }
  return items;
}

bool IsFalse(absl::string_view value) {
  std::string lower = absl::AsciiStrToLower(value);
  return lower == "0" || lower == "false" || lower == "no" || lower == "off";
}

const EnvVar* FindEnv(const ManifestParams& params, absl::string_view name) {
  for (const EnvVar& var : params.env) {
    if (var.name == name) return &var;
  }
  return nullptr;
}

// A variable set both by a parameter and by env.NAME would have two sources of truth.
absl::Status CheckConflicts(const ManifestParams& params) {
  struct Pair {
    const char* parameter;
    const char* env;
    bool given;
  };
  for (const Pair& pair :
       {Pair{"known-peers", "KUBE_PEERS", !params.known_peers.empty()},
        Pair{"trusted-subnets", "WEAVE_TRUSTED_SUBNETS", !params.trusted_subnets.empty()},
        Pair{"password-secret", "WEAVE_PASSWORD", !params.password_secret.empty()}}) {
    if (pair.given && FindEnv(params, pair.env) != nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(pair.parameter, " and env.", pair.env,
                                                     " set the same variable: give one of them"));
    }
  }
  if (const EnvVar* expect = FindEnv(params, "EXPECT_NPC");
      params.disable_npc && expect != nullptr && !IsFalse(expect->value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("disable-npc=true and env.EXPECT_NPC=", expect->value,
                     " contradict each other: without weave-npc the router must not wait for it"));
  }
  return absl::OkStatus();
}

absl::Status Apply(absl::string_view name, const std::string& value, ManifestParams* params) {
  if (name == "k8s-version") {
    absl::StatusOr<KubeVersion> version = DecodeKubeVersionParameter(value);
    if (!version.ok()) return version.status();
    if (*version < kMinKubeVersion) {
      return absl::InvalidArgumentError(
          absl::StrCat("k8s-version: Kubernetes ", version->ToString(),
                       " is not supported: this manifest needs Kubernetes ",
                       kMinKubeVersion.ToString(), " or later"));
    }
    params->kube_version = *version;
  } else if (name == "version") {
    if (!IsImageTag(value)) return Invalid(name, value, "an image tag such as 0.1.0");
    params->image_tag = value;
  } else if (name == "registry") {
    if (!IsRegistry(value)) {
      return Invalid(name, value, "a registry such as localhost or registry.example:5000/team");
    }
    params->registry = value;
  } else if (name == "password-secret") {
    if (!IsDnsSubdomain(value)) {
      return Invalid(name, value, "the name of a Secret in kube-system, such as weave-passwd");
    }
    params->password_secret = value;
  } else if (name == "known-peers") {
    params->known_peers = SplitCommaList(value);
  } else if (name == "trusted-subnets") {
    params->trusted_subnets = SplitCommaList(value);
  } else if (name == "disable-npc") {
    return SetBool(name, value, &params->disable_npc);
  } else if (name == "use-legacy-netpol") {
    return SetBool(name, value, &params->use_legacy_netpol);
  } else if (absl::string_view var = name; absl::ConsumePrefix(&var, "env.")) {
    if (!IsEnvName(var)) {
      return absl::InvalidArgumentError(absl::StrCat(
          name, ": \"", var, "\" is not an environment variable name (letters, digits, _)"));
    }
    if (kManifestOwnedEnv.contains(var)) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": ", var, " is set by the manifest itself and cannot be changed"));
    }
    params->env.push_back({std::string(var), value});
  } else if (absl::string_view field = name; absl::ConsumePrefix(&field, "seLinuxOptions.")) {
    if (!kSeLinuxFields.contains(field)) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": seLinuxOptions has no field \"",
                                                     field, "\" (it has user, role, type, level)"));
    }
    if (value.empty()) return Invalid(name, value, "a non-empty SELinux label part, such as spc_t");
    params->se_linux_options.emplace_back(std::string(field), value);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown parameter \"", name, "\" (known: ", kKnownParameters, ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ManifestParams> ParseQuery(absl::string_view query) {
  absl::ConsumePrefix(&query, "?");
  ManifestParams params;
  std::set<std::string, std::less<>> seen;
  for (absl::string_view pair : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> raw =
        absl::StrSplit(pair, absl::MaxSplits('=', 1));
    absl::StatusOr<std::string> name = UrlDecode(raw.first);
    if (!name.ok()) return name.status();
    absl::StatusOr<std::string> value = UrlDecode(raw.second);
    if (!value.ok()) return value.status();
    if (!seen.insert(*name).second) {
      return absl::InvalidArgumentError(absl::StrCat("parameter \"", *name, "\" is given twice"));
    }
    if (absl::Status applied = Apply(*name, *value, &params); !applied.ok()) return applied;
  }
  if (absl::Status conflicts = CheckConflicts(params); !conflicts.ok()) return conflicts;
  return params;
}

}  // namespace weave::charts
