#include "npc/conformance/case.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace weave::npc::conformance {
namespace {

using Json = nlohmann::json;

absl::Status Bad(absl::string_view where, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
}

absl::Status OnlyKeys(const Json& object, absl::string_view where,
                      std::initializer_list<absl::string_view> allowed) {
  if (!object.is_object()) return Bad(where, "expected an object");
  for (const auto& [key, value] : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return Bad(where, absl::StrCat("unknown field \"", key, "\" (expected one of ",
                                     absl::StrJoin(allowed, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> String(const Json& object, const char* key, absl::string_view where,
                                   bool required) {
  auto it = object.find(key);
  if (it == object.end()) {
    if (required) return Bad(where, absl::StrCat("\"", key, "\" is required"));
    return std::string();
  }
  if (!it->is_string()) return Bad(where, absl::StrCat("\"", key, "\" must be a string"));
  return it->get<std::string>();
}

absl::StatusOr<Labels> ReadLabels(const Json& object, const char* key, absl::string_view where) {
  Labels labels;
  auto it = object.find(key);
  if (it == object.end()) return labels;
  if (!it->is_object()) return Bad(where, absl::StrCat("\"", key, "\" must be an object"));
  for (const auto& [name, value] : it->items()) {
    if (!value.is_string()) return Bad(where, absl::StrCat("label \"", name, "\" is not a string"));
    labels[name] = value.get<std::string>();
  }
  return labels;
}

absl::StatusOr<Protocol> ReadProtocol(const Json& value, absl::string_view where) {
  if (value.is_string()) {
    const std::string text = value.get<std::string>();
    if (text == "TCP") return Protocol::kTcp;
    if (text == "UDP") return Protocol::kUdp;
    if (text == "SCTP") return Protocol::kSctp;
  }
  return Bad(where, absl::StrCat("protocol must be \"TCP\", \"UDP\" or \"SCTP\", not ",
                                 value.dump()));
}

absl::StatusOr<uint16_t> ReadPort(const Json& value, absl::string_view where) {
  if (!value.is_number_integer() || value.get<int64_t>() < 1 || value.get<int64_t>() > 65535) {
    return Bad(where, absl::StrCat("port must be a number from 1 to 65535, not ", value.dump()));
  }
  return static_cast<uint16_t>(value.get<int64_t>());
}

absl::StatusOr<CasePod> ReadPod(const Json& json, absl::string_view where) {
  if (absl::Status s = OnlyKeys(json, where, {"namespace", "name", "labels", "ports", "node"});
      !s.ok()) {
    return s;
  }
  CasePod pod;
  auto ns = String(json, "namespace", where, true);
  if (!ns.ok()) return ns.status();
  auto name = String(json, "name", where, true);
  if (!name.ok()) return name.status();
  auto node = String(json, "node", where, false);
  if (!node.ok()) return node.status();
  auto labels = ReadLabels(json, "labels", where);
  if (!labels.ok()) return labels.status();
  pod.ns = *ns;
  pod.name = *name;
  pod.node = *node;
  pod.labels = *labels;
  if (auto it = json.find("ports"); it != json.end()) {
    if (!it->is_array()) return Bad(where, "\"ports\" must be a list");
    for (size_t i = 0; i < it->size(); ++i) {
      const Json& port = (*it)[i];
      const std::string at = absl::StrCat(where, " ports[", i, "]");
      if (absl::Status s = OnlyKeys(port, at, {"name", "port", "protocol"}); !s.ok()) return s;
      ContainerPort out;
      auto port_name = String(port, "name", at, false);
      if (!port_name.ok()) return port_name.status();
      out.name = *port_name;
      if (!port.contains("port")) return Bad(at, "\"port\" is required");
      auto number = ReadPort(port["port"], at);
      if (!number.ok()) return number.status();
      out.port = *number;
      if (port.contains("protocol")) {
        auto protocol = ReadProtocol(port["protocol"], at);
        if (!protocol.ok()) return protocol.status();
        out.protocol = *protocol;
      }
      pod.ports.push_back(out);
    }
  }
  return pod;
}

absl::Status ReadModel(const Json& json, Case& c) {
  const std::string where = c.file + ": model";
  if (absl::Status s = OnlyKeys(json, where, {"namespaces", "pods"}); !s.ok()) return s;
  const Json* namespaces = json.contains("namespaces") ? &json["namespaces"] : nullptr;
  const Json* pods = json.contains("pods") ? &json["pods"] : nullptr;
  if (namespaces == nullptr || !namespaces->is_array() || pods == nullptr || !pods->is_array()) {
    return Bad(where, "needs lists \"namespaces\" and \"pods\"");
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < namespaces->size(); ++i) {
    const std::string at = absl::StrCat(where, ".namespaces[", i, "]");
    const Json& ns = (*namespaces)[i];
    if (absl::Status s = OnlyKeys(ns, at, {"name", "labels"}); !s.ok()) return s;
    auto name = String(ns, "name", at, true);
    if (!name.ok()) return name.status();
    auto labels = ReadLabels(ns, "labels", at);
    if (!labels.ok()) return labels.status();
    if (!seen.insert(*name).second) return Bad(at, absl::StrCat("namespace ", *name, " twice"));
    c.namespaces.push_back({*name, *labels});
  }
  std::set<std::string> keys;
  for (size_t i = 0; i < pods->size(); ++i) {
    const std::string at = absl::StrCat(where, ".pods[", i, "]");
    auto pod = ReadPod((*pods)[i], at);
    if (!pod.ok()) return pod.status();
    if (!seen.contains(pod->ns)) return Bad(at, absl::StrCat("no namespace ", pod->ns));
    if (!keys.insert(pod->Key()).second) return Bad(at, absl::StrCat("pod ", pod->Key(), " twice"));
    if (!pod->node.empty()) c.nodes_pinned = true;
    c.pods.push_back(std::move(*pod));
  }
  if (c.pods.size() < 2) return Bad(where, "needs at least two pods");
  return absl::OkStatus();
}

absl::StatusOr<Probe> ReadProbe(const Json& json, const Case& c, absl::string_view where) {
  if (absl::Status s = OnlyKeys(json, where, {"port", "protocol", "matrix"}); !s.ok()) return s;
  Probe probe;
  if (!json.contains("port")) return Bad(where, "\"port\" is required");
  auto port = ReadPort(json["port"], where);
  if (!port.ok()) return port.status();
  probe.port = *port;
  if (!json.contains("protocol")) return Bad(where, "\"protocol\" is required");
  auto protocol = ReadProtocol(json["protocol"], where);
  if (!protocol.ok()) return protocol.status();
  probe.protocol = *protocol;
  if (!json.contains("matrix") || !json["matrix"].is_object()) {
    return Bad(where, "\"matrix\" must be an object with one row per source pod");
  }
  const Json& matrix = json["matrix"];
  if (matrix.size() != c.pods.size()) {
    return Bad(where, absl::StrCat("the matrix has ", matrix.size(), " rows; the model has ",
                                   c.pods.size(), " pods"));
  }
  for (const CasePod& from : c.pods) {
    auto row = matrix.find(from.Key());
    if (row == matrix.end() || !row->is_string()) {
      return Bad(where, absl::StrCat("the matrix has no row \"", from.Key(), "\""));
    }
    std::vector<bool> cells;
    for (char cell : row->get<std::string>()) {
      if (cell == ' ') continue;
      if (cell != '.' && cell != 'X' && cell != '-') {
        return Bad(where, absl::StrCat("row ", from.Key(), ": cell '", std::string(1, cell),
                                       "' is not '.', 'X' or '-'"));
      }
      cells.push_back(cell != 'X');
    }
    if (cells.size() != c.pods.size()) {
      return Bad(where, absl::StrCat("row ", from.Key(), " has ", cells.size(), " cells, not ",
                                     c.pods.size()));
    }
    probe.expected.push_back(std::move(cells));
  }
  return probe;
}

constexpr std::initializer_list<absl::string_view> kActions = {
    "createPolicy",       "updatePolicy",        "deletePolicy",          "setNamespaceLabels",
    "addNamespaceLabels", "removeNamespaceLabels", "setPodLabels",        "addPodLabels",
    "removePodLabels"};

}  // namespace

absl::string_view ProtocolName(Protocol protocol) {
  switch (protocol) {
    case Protocol::kTcp:
      return "TCP";
    case Protocol::kUdp:
      return "UDP";
    case Protocol::kSctp:
      return "SCTP";
  }
  return "?";
}

void UseStandardModel(Case& c) {
  c.namespaces.clear();
  c.pods.clear();
  for (const char* ns : {"x", "y", "z"}) {
    c.namespaces.push_back({ns, {{"ns", ns}}});
    for (const char* pod : {"a", "b", "c"}) {
      CasePod p{ns, pod, {{"pod", pod}}, {}, ""};
      for (uint16_t port : {80, 81}) {
        for (Protocol protocol : {Protocol::kTcp, Protocol::kUdp, Protocol::kSctp}) {
          std::string name = absl::StrCat("serve-", port, "-", ProtocolName(protocol));
          std::transform(name.begin(), name.end(), name.begin(), ::tolower);
          p.ports.push_back({name, port, protocol});
        }
      }
      c.pods.push_back(std::move(p));
    }
  }
}

absl::StatusOr<Case> ParseCase(const Json& json, absl::string_view file) {
  Case c;
  c.file = std::string(file);
  if (absl::Status s = OnlyKeys(json, file, {"name", "description", "model", "steps"}); !s.ok()) {
    return s;
  }
  auto name = String(json, "name", file, true);
  if (!name.ok()) return name.status();
  auto description = String(json, "description", file, false);
  if (!description.ok()) return description.status();
  c.name = *name;
  c.description = *description;
  if (json.contains("model")) {
    if (absl::Status s = ReadModel(json["model"], c); !s.ok()) return s;
  } else {
    UseStandardModel(c);
  }
  if (!json.contains("steps") || !json["steps"].is_array() || json["steps"].empty()) {
    return Bad(file, "\"steps\" must be a non-empty list");
  }
  for (size_t i = 0; i < json["steps"].size(); ++i) {
    const Json& step = json["steps"][i];
    const std::string where = absl::StrCat(file, ": steps[", i, "]");
    if (absl::Status s = OnlyKeys(step, where, {"name", "actions", "probes"}); !s.ok()) return s;
    Step out;
    auto step_name = String(step, "name", where, false);
    if (!step_name.ok()) return step_name.status();
    out.name = step_name->empty() ? absl::StrCat("step ", i + 1) : *step_name;
    if (step.contains("actions")) {
      if (!step["actions"].is_array()) return Bad(where, "\"actions\" must be a list");
      for (size_t j = 0; j < step["actions"].size(); ++j) {
        const Json& action = step["actions"][j];
        const std::string at = absl::StrCat(where, ".actions[", j, "]");
        if (absl::Status s = OnlyKeys(action, at, kActions); !s.ok()) return s;
        if (action.size() != 1) return Bad(at, "an action is an object with exactly one key");
        out.actions.push_back(action);
      }
    }
    if (!step.contains("probes") || !step["probes"].is_array()) {
      return Bad(where, "\"probes\" must be a list");
    }
    for (size_t j = 0; j < step["probes"].size(); ++j) {
      auto probe = ReadProbe(step["probes"][j], c, absl::StrCat(where, ".probes[", j, "]"));
      if (!probe.ok()) return probe.status();
      out.probes.push_back(std::move(*probe));
    }
    c.steps.push_back(std::move(out));
  }
  return c;
}

absl::StatusOr<Case> LoadCase(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  Json json = Json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return Bad(path, "not valid JSON");
  return ParseCase(json, path);
}

absl::StatusOr<std::vector<std::string>> FindCaseFiles(const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const std::string& path : paths) {
    std::error_code error;
    if (fs::is_regular_file(path, error)) {
      files.push_back(path);
      continue;
    }
    if (!fs::is_directory(path, error)) {
      return absl::NotFoundError(absl::StrCat(path, ": no such file or directory"));
    }
    for (const auto& entry : fs::recursive_directory_iterator(path, error)) {
      if (entry.is_regular_file() && entry.path().extension() == ".json") {
        files.push_back(entry.path().string());
      }
    }
    if (error) return absl::InternalError(absl::StrCat(path, ": ", error.message()));
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace weave::npc::conformance
