// Runs conformance cases (case.h) against a data path: the compiler with an independent
// evaluator of its serialised ruleset (CompiledDataPath, below), or real pods in network
// namespaces (weave-npc part 2). The runner owns the model: it applies each step's actions the
// way weave-npc's watches would (policies go through the same parser; one that does not parse is
// skipped and reported, as weave-npc does), asks the data path to enforce it, and compares every
// probe with the expected matrix.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/nft/fake_backend.h"
#include "nlohmann/json.hpp"
#include "npc/compiler/compiler.h"
#include "npc/conformance/case.h"
#include "npc/conformance/evaluator.h"
#include "npc/model/model.h"

namespace weave::npc::conformance {

class DataPath {
 public:
  virtual ~DataPath() = default;

  // Creates the case's pods (each with its node set) and returns their addresses by "ns/name".
  virtual absl::StatusOr<std::map<std::string, net::Ipv4>> CreatePods(
      const std::vector<CasePod>& pods) = 0;
  // Makes the data path enforce `model`. `policy_objects` holds, by "ns/name", the
  // NetworkPolicy objects behind model.policies exactly as the case wrote them (placeholders
  // substituted): a data path that feeds a real API server needs the objects, not the parsed
  // values. A policy the parser skipped is in neither.
  virtual absl::Status Enforce(const Model& model,
                               const std::map<std::string, nlohmann::json>& policy_objects) = 0;
  // Whether a new connection from `from` to `to` succeeds.
  virtual absl::StatusOr<bool> Connects(const Pod& from, const Pod& to, Protocol protocol,
                                        uint16_t port) = 0;
  // The whole matrix: result[i][j] for pods[i] -> pods[j] (the diagonal is not used). The default
  // asks Connects for each pair; a data path with real packets probes in parallel.
  virtual absl::StatusOr<std::vector<std::vector<bool>>> ConnectMatrix(
      const std::vector<const Pod*>& pods, Protocol protocol, uint16_t port);
  // Whether probes on `protocol` can run here (this kernel has no SCTP sockets, so the real
  // data path skips SCTP probes; the compiled one runs them all).
  virtual bool Supports(Protocol protocol) const { return true; }
  // What a failure report shows of the data path's state (e.g. the rulesets); may be empty.
  virtual std::string Describe() const { return ""; }
};

// The compiler, the planner and a FakeBackend per node; probes are judged by the evaluator from
// the backend's text dump (never from the compiler's values).
class CompiledDataPath : public DataPath {
 public:
  explicit CompiledDataPath(CompileOptions options = {}) : options_(std::move(options)) {}

  absl::StatusOr<std::map<std::string, net::Ipv4>> CreatePods(
      const std::vector<CasePod>& pods) override;
  absl::Status Enforce(const Model& model,
                       const std::map<std::string, nlohmann::json>& policy_objects) override;
  absl::StatusOr<bool> Connects(const Pod& from, const Pod& to, Protocol protocol,
                                uint16_t port) override;
  std::string Describe() const override;

 private:
  struct Node {
    std::unique_ptr<Compiler> compiler;  // incremental, checked against Compile() every step
    std::unique_ptr<nft::FakeBackend> backend = std::make_unique<nft::FakeBackend>();
    std::string text;
    std::optional<Ruleset> ruleset;
  };
  absl::StatusOr<bool> Passes(const std::string& node, const Packet& packet) const;

  CompileOptions options_;
  std::map<std::string, Node> nodes_;
};

struct RunResult {
  bool passed = false;
  int probes = 0;       // connections judged
  int skipped = 0;      // probes the data path does not support
  std::string report;   // what failed (empty when passed), or the trace with verbose
};

struct RunOptions {
  int nodes = 1;         // pods spread round-robin over this many nodes, unless the case pins them
  bool verbose = false;  // report every step's matrices
};

RunResult RunCase(const Case& c, DataPath& data_path, const RunOptions& options);

}  // namespace weave::npc::conformance
