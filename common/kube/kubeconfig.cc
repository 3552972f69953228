// KubeconfigConfig: the only code that includes yaml-cpp (which reports errors by throwing; they
// are caught here and become one-line Statuses).
#include <yaml-cpp/yaml.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/kube/config.h"
#include "common/kube/file.h"
#include "common/status_macros.h"

namespace weave::kube {

namespace {

// Node::Type() throws for a key that is not there (a "zombie" node): ask IsDefined() first.
bool Is(const YAML::Node& node, YAML::NodeType::value type) {
  return node.IsDefined() && node.Type() == type;
}

bool Absent(const YAML::Node& node) { return !node.IsDefined() || node.IsNull(); }

// A string field of a mapping; "" if absent or null, an error if it is not a scalar.
absl::StatusOr<std::string> Scalar(const YAML::Node& map, const char* key,
                                   absl::string_view where) {
  YAML::Node node = map[key];
  if (Absent(node)) return std::string();
  if (!Is(node, YAML::NodeType::Scalar)) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": ", key, " is not a string"));
  }
  return node.as<std::string>();
}

// The mapping under `field` of the entry named `name` in the list `section`:
// clusters[name=..].cluster, users[name=..].user, contexts[name=..].context.
absl::StatusOr<YAML::Node> Entry(const YAML::Node& root, const char* section, const char* field,
                                 const std::string& name) {
  YAML::Node list = root[section];
  if (Is(list, YAML::NodeType::Sequence)) {
    for (const YAML::Node& entry : list) {
      if (!Is(entry, YAML::NodeType::Map) || !Is(entry["name"], YAML::NodeType::Scalar)) continue;
      if (entry["name"].as<std::string>() != name) continue;
      YAML::Node value = entry[field];
      if (Absent(value)) return YAML::Node(YAML::NodeType::Map);
      if (!Is(value, YAML::NodeType::Map)) {
        return absl::InvalidArgumentError(absl::StrCat(field, " \"", name, "\" is not a mapping"));
      }
      return value;
    }
  }
  return absl::NotFoundError(absl::StrCat(field, " \"", name, "\" not found in ", section));
}

std::string Resolve(const std::string& dir, const std::string& file) {
  return absl::StartsWith(file, "/") || dir.empty() ? file : absl::StrCat(dir, "/", file);
}

// Inline <key>-data (base64) or the file <key> names; "" if neither is given.
absl::StatusOr<std::string> DataOrFile(const YAML::Node& map, const std::string& key,
                                       const std::string& dir, absl::string_view where) {
  ASSIGN_OR_RETURN(std::string data, Scalar(map, (key + "-data").c_str(), where));
  if (!data.empty()) {
    std::string decoded;
    if (!absl::Base64Unescape(data, &decoded)) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": ", key, "-data is not base64"));
    }
    return decoded;
  }
  ASSIGN_OR_RETURN(std::string file, Scalar(map, key.c_str(), where));
  if (file.empty()) return std::string();
  return ReadSmallFile(Resolve(dir, file), key);
}

absl::Status ReadCluster(const YAML::Node& cluster, const std::string& name, const std::string& dir,
                         Config& config) {
  const std::string where = absl::StrCat("cluster \"", name, "\"");
  ASSIGN_OR_RETURN(config.server, Scalar(cluster, "server", where));
  while (absl::EndsWith(config.server, "/")) config.server.pop_back();
  if (config.server.empty()) return absl::InvalidArgumentError(where + ": no server");
  if (!absl::StartsWith(config.server, "https://")) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": server ", config.server, " is not https:// (TLS is required)"));
  }
  YAML::Node insecure = cluster["insecure-skip-tls-verify"];
  if (Is(insecure, YAML::NodeType::Scalar) && insecure.as<std::string>() == "true") {
    return absl::InvalidArgumentError(
        where + ": insecure-skip-tls-verify is not supported (TLS is always verified)");
  }
  ASSIGN_OR_RETURN(config.ca_pem, DataOrFile(cluster, "certificate-authority", dir, where));
  return absl::OkStatus();
}

absl::Status ReadUser(const YAML::Node& user, const std::string& name, const std::string& dir,
                      Config& config) {
  const std::string where = absl::StrCat("user \"", name, "\"");
  for (const char* unsupported : {"exec", "auth-provider", "username", "password"}) {
    if (!Absent(user[unsupported])) {
      return absl::UnimplementedError(absl::StrCat(where, ": ", unsupported,
                                                   " is not supported (use a token or a client "
                                                   "certificate)"));
    }
  }
  ASSIGN_OR_RETURN(std::string token, Scalar(user, "token", where));
  ASSIGN_OR_RETURN(std::string token_file, Scalar(user, "tokenFile", where));
  if (!token.empty()) {
    config.token = std::make_shared<StaticToken>(token);
  } else if (!token_file.empty()) {
    auto file = std::make_shared<FileToken>(Resolve(dir, token_file));
    RETURN_IF_ERROR(file->Token().status());
    config.token = std::move(file);
  }
  ASSIGN_OR_RETURN(config.client_cert_pem, DataOrFile(user, "client-certificate", dir, where));
  ASSIGN_OR_RETURN(config.client_key_pem, DataOrFile(user, "client-key", dir, where));
  if (config.client_cert_pem.empty() != config.client_key_pem.empty()) {
    return absl::InvalidArgumentError(
        where + ": a client certificate needs both client-certificate and client-key");
  }
  return absl::OkStatus();
}

absl::StatusOr<Config> Parse(const std::string& text, const std::string& dir) {
  YAML::Node root = YAML::Load(text);
  if (!Is(root, YAML::NodeType::Map))
    return absl::InvalidArgumentError("not a kubeconfig (no mapping at the top)");
  ASSIGN_OR_RETURN(std::string context_name, Scalar(root, "current-context", "kubeconfig"));
  if (context_name.empty()) return absl::InvalidArgumentError("no current-context");
  ASSIGN_OR_RETURN(YAML::Node context, Entry(root, "contexts", "context", context_name));
  const std::string where = absl::StrCat("context \"", context_name, "\"");
  ASSIGN_OR_RETURN(std::string cluster_name, Scalar(context, "cluster", where));
  ASSIGN_OR_RETURN(std::string user_name, Scalar(context, "user", where));
  Config config;
  ASSIGN_OR_RETURN(config.default_namespace, Scalar(context, "namespace", where));
  ASSIGN_OR_RETURN(YAML::Node cluster, Entry(root, "clusters", "cluster", cluster_name));
  RETURN_IF_ERROR(ReadCluster(cluster, cluster_name, dir, config));
  if (!user_name.empty()) {
    ASSIGN_OR_RETURN(YAML::Node user, Entry(root, "users", "user", user_name));
    RETURN_IF_ERROR(ReadUser(user, user_name, dir, config));
  }
  return config;
}

}  // namespace

absl::StatusOr<Config> KubeconfigConfig(const std::string& path) {
  absl::StatusOr<Config> config;
  absl::StatusOr<std::string> text = ReadSmallFile(path, "kubeconfig");
  if (!text.ok()) return text.status();
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path.substr(0, slash);
  try {
    config = Parse(*text, dir);
  } catch (const YAML::Exception& e) {
    config = absl::InvalidArgumentError(e.what());
  }
  if (!config.ok()) {
    return absl::Status(config.status().code(),
                        absl::StrCat("kubeconfig ", path, ": ", config.status().message()));
  }
  return config;
}

}  // namespace weave::kube
