// A conformance case (format: npc/conformance/README.md) read into values. Reading is strict:
// an unknown field, a matrix row of the wrong length or a probe on a protocol we do not know is
// an error naming the file and the place, so that a typo cannot silently weaken a case.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "npc/model/model.h"

namespace weave::npc::conformance {

struct CasePod {
  std::string ns;
  std::string name;
  Labels labels;
  std::vector<ContainerPort> ports;
  std::string node;  // empty: the runner's layout decides
  std::string Key() const { return ns + "/" + name; }
};

struct CaseNamespace {
  std::string name;
  Labels labels;
};

struct Probe {
  uint16_t port = 0;
  Protocol protocol = Protocol::kTcp;
  // expected[i][j]: whether pods[i] may connect to pods[j] (model order); the diagonal is unused.
  std::vector<std::vector<bool>> expected;
};

struct Step {
  std::string name;
  std::vector<nlohmann::json> actions;  // each an object with one key (checked when read)
  std::vector<Probe> probes;
};

struct Case {
  std::string file;
  std::string name;
  std::string description;
  std::vector<CaseNamespace> namespaces;
  std::vector<CasePod> pods;
  std::vector<Step> steps;
  bool nodes_pinned = false;  // some pod names its node: run only as written
};

// The standard model: namespaces x, y, z; pods a, b, c in each; ports 80 and 81 on TCP, UDP and
// SCTP, named serve-80-tcp and so on.
void UseStandardModel(Case& c);

absl::StatusOr<Case> ParseCase(const nlohmann::json& json, absl::string_view file);
absl::StatusOr<Case> LoadCase(const std::string& path);

// Every *.json file under each path (a file or a directory, recursively), sorted by path.
absl::StatusOr<std::vector<std::string>> FindCaseFiles(const std::vector<std::string>& paths);

absl::string_view ProtocolName(Protocol protocol);  // "TCP", "UDP", "SCTP"

}  // namespace weave::npc::conformance
