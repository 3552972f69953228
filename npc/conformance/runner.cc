#include "npc/conformance/runner.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "common/nft/plan.h"
#include "npc/model/parse.h"

namespace weave::npc::conformance {
namespace {

using Json = nlohmann::json;

constexpr char kMetadataNameLabel[] = "kubernetes.io/metadata.name";

uint8_t ProtocolNumber(Protocol protocol) {
  switch (protocol) {
    case Protocol::kTcp:
      return 6;
    case Protocol::kUdp:
      return 17;
    case Protocol::kSctp:
      return 132;
  }
  return 0;
}

// Replaces {{ip:NS/POD}} in every string of `json`.
absl::Status Substitute(Json& json, const Model& model) {
  if (json.is_string()) {
    std::string text = json.get<std::string>();
    size_t start;
    while ((start = text.find("{{ip:")) != std::string::npos) {
      const size_t end = text.find("}}", start);
      if (end == std::string::npos) {
        return absl::InvalidArgumentError(absl::StrCat("unterminated placeholder in \"", text, "\""));
      }
      const std::string key = text.substr(start + 5, end - start - 5);
      auto pod = model.pods.find(key);
      if (pod == model.pods.end() || !pod->second.ip.has_value()) {
        return absl::InvalidArgumentError(absl::StrCat("placeholder names no pod: ", key));
      }
      text.replace(start, end + 2 - start, pod->second.ip->ToString());
    }
    json = text;
    return absl::OkStatus();
  }
  if (json.is_array() || json.is_object()) {
    for (auto& item : json) {
      if (absl::Status status = Substitute(item, model); !status.ok()) return status;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> StringField(const Json& json, const char* key) {
  if (!json.contains(key) || !json[key].is_string()) {
    return absl::InvalidArgumentError(absl::StrCat("\"", key, "\" must be a string"));
  }
  return json[key].get<std::string>();
}

absl::StatusOr<Labels*> TargetLabels(const Json& value, bool pod, Model& model) {
  auto ns = StringField(value, "namespace");
  if (!ns.ok()) return ns.status();
  if (!pod) {
    auto it = model.namespaces.find(*ns);
    if (it == model.namespaces.end()) {
      return absl::InvalidArgumentError(absl::StrCat("no namespace ", *ns));
    }
    return &it->second.labels;
  }
  auto name = StringField(value, "name");
  if (!name.ok()) return name.status();
  auto it = model.pods.find(absl::StrCat(*ns, "/", *name));
  if (it == model.pods.end()) {
    return absl::InvalidArgumentError(absl::StrCat("no pod ", *ns, "/", *name));
  }
  return &it->second.labels;
}

// Applies one action to the model and to `policy_objects` (see DataPath::Enforce); `notes`
// collects what weave-npc would have reported.
absl::Status Apply(const Json& action, Model& model, std::map<std::string, Json>& policy_objects,
                   std::string& notes) {
  const std::string kind = action.begin().key();
  Json value = action.begin().value();
  if (absl::Status status = Substitute(value, model); !status.ok()) return status;
  if (kind == "createPolicy" || kind == "updatePolicy") {
    absl::StatusOr<Policy> policy = ParsePolicy(value);
    if (!policy.ok()) {
      // weave-npc skips a policy it cannot read at all; a previous version is gone with it.
      absl::StrAppend(&notes, "  skipped: ", policy.status().message(), "\n");
      if (value.is_object() && value.contains("metadata") && value["metadata"].is_object()) {
        const Json& metadata = value["metadata"];
        if (metadata.contains("namespace") && metadata.contains("name") &&
            metadata["namespace"].is_string() && metadata["name"].is_string()) {
          const std::string key = absl::StrCat(metadata["namespace"].get<std::string>(), "/",
                                               metadata["name"].get<std::string>());
          model.policies.erase(key);
          policy_objects.erase(key);
        }
      }
      return absl::OkStatus();
    }
    if (!policy->problem.empty()) absl::StrAppend(&notes, "  reported: ", policy->problem, "\n");
    model.policies[policy->Key()] = *policy;
    policy_objects[policy->Key()] = value;
    return absl::OkStatus();
  }
  if (kind == "deletePolicy") {
    auto ns = StringField(value, "namespace");
    if (!ns.ok()) return ns.status();
    auto name = StringField(value, "name");
    if (!name.ok()) return name.status();
    model.policies.erase(absl::StrCat(*ns, "/", *name));
    policy_objects.erase(absl::StrCat(*ns, "/", *name));
    return absl::OkStatus();
  }
  const bool pod = kind.find("Pod") != std::string::npos;
  absl::StatusOr<Labels*> labels = TargetLabels(value, pod, model);
  if (!labels.ok()) return labels.status();
  if (kind.starts_with("remove")) {
    if (!value.contains("keys") || !value["keys"].is_array()) {
      return absl::InvalidArgumentError("\"keys\" must be a list");
    }
    for (const Json& key : value["keys"]) {
      if (!key.is_string()) return absl::InvalidArgumentError("keys must be strings");
      (*labels)->erase(key.get<std::string>());
    }
  } else {
    if (!value.contains("labels") || !value["labels"].is_object()) {
      return absl::InvalidArgumentError("\"labels\" must be an object");
    }
    if (kind.starts_with("set")) (*labels)->clear();
    for (const auto& [key, label] : value["labels"].items()) {
      if (!label.is_string()) return absl::InvalidArgumentError("label values must be strings");
      (**labels)[key] = label.get<std::string>();
    }
  }
  if (!pod) (**labels)[kMetadataNameLabel] = value["namespace"].get<std::string>();
  return absl::OkStatus();
}

std::string RenderMatrix(const Case& c, const Probe& probe,
                         const std::vector<std::vector<bool>>& actual) {
  std::string out = absl::StrFormat("    %-8s", "from\\to");
  for (const CasePod& to : c.pods) absl::StrAppend(&out, absl::StrFormat(" %-5s", to.Key()));
  absl::StrAppend(&out, "\n");
  for (size_t i = 0; i < c.pods.size(); ++i) {
    absl::StrAppend(&out, absl::StrFormat("    %-8s", c.pods[i].Key()));
    for (size_t j = 0; j < c.pods.size(); ++j) {
      std::string cell = "-";
      if (i != j) {
        cell = actual[i][j] ? "." : "X";
        if (actual[i][j] != probe.expected[i][j]) absl::StrAppend(&cell, "!");
      }
      absl::StrAppend(&out, absl::StrFormat(" %-5s", cell));
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}

}  // namespace

absl::StatusOr<std::map<std::string, net::Ipv4>> CompiledDataPath::CreatePods(
    const std::vector<CasePod>& pods) {
  std::map<std::string, net::Ipv4> addresses;
  // Addresses as an allocator would hand them out, one after another from 10.32.0.2.
  uint32_t next = (10u << 24) | (32u << 16) | 2;
  for (const CasePod& pod : pods) addresses[pod.Key()] = net::Ipv4(next++);
  return addresses;
}

absl::Status CompiledDataPath::Enforce(const Model& model,
                                       const std::map<std::string, Json>& /*policy_objects*/) {
  std::set<std::string> names;
  for (const auto& [key, pod] : model.pods) names.insert(pod.node);
  for (const std::string& name : names) {
    Node& node = nodes_[name];
    CompileOptions options = options_;
    options.node = name;
    if (node.compiler == nullptr) node.compiler = std::make_unique<Compiler>(options);
    const nft::Table desired = node.compiler->Compile(model);
    if (!(desired == Compile(model, options))) {
      return absl::InternalError(absl::StrCat(
          "node ", name, ": the incremental compiler's table differs from a full compile"));
    }
    auto current = node.backend->Dump(desired.family, desired.name);
    if (!current.ok()) return current.status();
    const nft::Transaction transaction = nft::Plan(*current, desired);
    if (absl::Status status = node.backend->Apply(transaction); !status.ok()) {
      return absl::InternalError(absl::StrCat("node ", name, ": ", status.message()));
    }
    auto applied = node.backend->Dump(desired.family, desired.name);
    if (!applied.ok()) return applied.status();
    if (!applied->has_value() || !nft::SameContent(**applied, nft::Normalize(desired))) {
      return absl::InternalError(
          absl::StrCat("node ", name, ": the planned transaction did not produce the compiled table"));
    }
    node.text = node.backend->ListRuleset();
    absl::StatusOr<Ruleset> ruleset = Ruleset::Parse(node.text);
    if (!ruleset.ok()) {
      return absl::InternalError(
          absl::StrCat("node ", name, ": the evaluator cannot read the dump: ",
                       ruleset.status().message()));
    }
    node.ruleset = std::move(*ruleset);
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> CompiledDataPath::Passes(const std::string& node,
                                              const Packet& packet) const {
  auto it = nodes_.find(node);
  if (it == nodes_.end() || !it->second.ruleset.has_value()) {
    return absl::FailedPreconditionError(absl::StrCat("nothing enforced on node ", node));
  }
  return it->second.ruleset->Evaluate("forward", packet).fate == Fate::kAccept;
}

absl::StatusOr<bool> CompiledDataPath::Connects(const Pod& from, const Pod& to,
                                                Protocol protocol, uint16_t port) {
  Packet packet;
  packet.saddr = *from.ip;
  packet.daddr = *to.ip;
  packet.protocol = ProtocolNumber(protocol);
  packet.sport = 40000;
  packet.dport = port;
  packet.ct_state = 8;  // new
  absl::StatusOr<bool> out = Passes(from.node, packet);
  if (!out.ok() || !*out || from.node == to.node) return out;
  return Passes(to.node, packet);
}

absl::StatusOr<std::vector<std::vector<bool>>> DataPath::ConnectMatrix(
    const std::vector<const Pod*>& pods, Protocol protocol, uint16_t port) {
  std::vector<std::vector<bool>> out(pods.size(), std::vector<bool>(pods.size(), true));
  for (size_t i = 0; i < pods.size(); ++i) {
    for (size_t j = 0; j < pods.size(); ++j) {
      if (i == j) continue;
      absl::StatusOr<bool> connects = Connects(*pods[i], *pods[j], protocol, port);
      if (!connects.ok()) return connects.status();
      out[i][j] = *connects;
    }
  }
  return out;
}

std::string CompiledDataPath::Describe() const {
  std::string out;
  for (const auto& [name, node] : nodes_) absl::StrAppend(&out, "  node ", name, ":\n", node.text);
  return out;
}

RunResult RunCase(const Case& c, DataPath& data_path, const RunOptions& options) {
  RunResult result;
  const auto fail = [&](absl::string_view why) {
    result.passed = false;
    absl::StrAppend(&result.report, c.file, ": ", why, "\n");
    return result;
  };
  std::vector<CasePod> pods = c.pods;
  for (size_t i = 0; i < pods.size(); ++i) {
    if (pods[i].node.empty()) pods[i].node = absl::StrCat("node-", i % options.nodes + 1);
  }
  auto addresses = data_path.CreatePods(pods);
  if (!addresses.ok()) return fail(addresses.status().message());

  Model model;
  for (const CaseNamespace& ns : c.namespaces) {
    Namespace out{ns.name, ns.labels, false};
    out.labels[kMetadataNameLabel] = ns.name;
    model.namespaces[ns.name] = out;
  }
  std::vector<const Pod*> order;
  for (const CasePod& pod : pods) {
    Pod out;
    out.ns = pod.ns;
    out.name = pod.name;
    out.labels = pod.labels;
    out.node = pod.node;
    out.ip = addresses->at(pod.Key());
    out.ports = pod.ports;
    model.pods[pod.Key()] = out;
  }
  for (const CasePod& pod : pods) order.push_back(&model.pods.at(pod.Key()));

  std::map<std::string, Json> policy_objects;
  result.passed = true;
  for (const Step& step : c.steps) {
    std::string notes;
    for (const Json& action : step.actions) {
      if (absl::Status status = Apply(action, model, policy_objects, notes); !status.ok()) {
        return fail(absl::StrCat(step.name, ": ", action.dump(), ": ", status.message()));
      }
    }
    if (absl::Status status = data_path.Enforce(model, policy_objects); !status.ok()) {
      return fail(absl::StrCat(step.name, ": ", status.message()));
    }
    bool step_failed = false;
    for (const Probe& probe : step.probes) {
      if (!data_path.Supports(probe.protocol)) {
        ++result.skipped;
        continue;
      }
      auto matrix = data_path.ConnectMatrix(order, probe.protocol, probe.port);
      if (!matrix.ok()) return fail(absl::StrCat(step.name, ": ", matrix.status().message()));
      const std::vector<std::vector<bool>>& actual = *matrix;
      int wrong = 0;
      for (size_t i = 0; i < order.size(); ++i) {
        for (size_t j = 0; j < order.size(); ++j) {
          if (i == j) continue;
          ++result.probes;
          if (actual[i][j] != probe.expected[i][j]) ++wrong;
        }
      }
      if (wrong > 0 || options.verbose) {
        absl::StrAppend(&result.report, c.file, " (", c.name, ", ", options.nodes,
                        options.nodes == 1 ? " node" : " nodes", ") ", step.name, ": ",
                        ProtocolName(probe.protocol), "/", probe.port, ": ",
                        wrong == 0 ? "as expected" : absl::StrCat(wrong, " cells differ (marked !)"),
                        "\n", notes, RenderMatrix(c, probe, actual));
      }
      if (wrong > 0) step_failed = true;
    }
    if (step_failed) {
      result.passed = false;
      absl::StrAppend(&result.report, data_path.Describe());
    }
  }
  return result;
}

}  // namespace weave::npc::conformance
