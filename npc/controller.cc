#include "npc/controller.h"

#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/kube/object.h"
#include "common/nft/plan.h"
#include "npc/model/parse.h"
#include "spdlog/spdlog.h"

namespace weave::npc {
namespace {

constexpr int kAllListed = 0b111;

int Bit(Controller::Kind kind) { return 1 << static_cast<int>(kind); }

const char* KindName(Controller::Kind kind) {
  switch (kind) {
    case Controller::Kind::kNamespace:
      return "Namespace";
    case Controller::Kind::kPod:
      return "Pod";
    case Controller::Kind::kPolicy:
      return "NetworkPolicy";
  }
  return "object";
}

}  // namespace

Controller::Controller(nft::Backend* backend, CompileOptions options, FlowSweeper* sweeper)
    : backend_(backend), sweeper_(sweeper), options_(options), compiler_(std::move(options)) {}

void Controller::Changed() { ++version_; }

void Controller::SetProblem(const std::string& key, std::string problem) {
  auto it = status_.problems.find(key);
  const std::string* before = it == status_.problems.end() ? nullptr : &it->second;
  if (problem.empty()) {
    if (before != nullptr) {
      spdlog::info("NetworkPolicy {} is enforced in full again", key);
      status_.problems.erase(it);
    }
    return;
  }
  if (before == nullptr || *before != problem) {
    spdlog::warn("{}", problem);
    status_.problems[key] = std::move(problem);
  }
}

void Controller::Upsert(Kind kind, const kube::Json& object) {
  absl::StatusOr<std::string> key = kube::ObjectKey(object);
  if (!key.ok()) {
    spdlog::warn("ignoring a {} without a name: {}", KindName(kind),
                 std::string(key.status().message()));
    return;
  }
  absl::MutexLock lock(&mu_);
  switch (kind) {
    case Kind::kNamespace: {
      absl::StatusOr<Namespace> ns = ParseNamespace(object);
      if (!ns.ok()) {
        spdlog::warn("{}", std::string(ns.status().message()));
        return;
      }
      Namespace& slot = model_.namespaces[*key];
      if (slot == *ns) return;
      slot = std::move(*ns);
      break;
    }
    case Kind::kPod: {
      absl::StatusOr<Pod> pod = ParsePod(object);
      if (!pod.ok()) {
        spdlog::warn("{}", std::string(pod.status().message()));
        return;
      }
      // A pod without an address (yet) is kept all the same: its labels and node matter as soon
      // as it has one (from the API or its local endpoint).
      api_pods_[*key] = std::move(*pod);
      RefreshPod(*key);
      return;
    }
    case Kind::kPolicy: {
      absl::StatusOr<Policy> policy = ParsePolicy(object);
      if (!policy.ok()) {
        SetProblem(*key, absl::StrCat(policy.status().message(),
                                      "; the policy is ignored until it is fixed"));
        if (model_.policies.erase(*key) == 0) return;
        break;
      }
      // The parser's problem names the policy and the field.
      SetProblem(*key, policy->problem.empty()
                           ? ""
                           : absl::StrCat(policy->problem,
                                          "; the pods it selects are isolated and it allows "
                                          "nothing until it is fixed"));
      auto it = model_.policies.find(*key);
      if (it != model_.policies.end() && it->second == *policy) return;
      model_.policies[*key] = std::move(*policy);
      break;
    }
  }
  Changed();
}

void Controller::Remove(Kind kind, const kube::Json& last_known) {
  absl::StatusOr<std::string> key = kube::ObjectKey(last_known);
  if (!key.ok()) return;
  absl::MutexLock lock(&mu_);
  size_t erased = 0;
  switch (kind) {
    case Kind::kNamespace:
      erased = model_.namespaces.erase(*key);
      break;
    case Kind::kPod:
      api_pods_.erase(*key);
      RefreshPod(*key);
      return;
    case Kind::kPolicy:
      SetProblem(*key, "");
      erased = model_.policies.erase(*key);
      break;
  }
  if (erased > 0) Changed();
}

void Controller::RefreshPod(const std::string& key) {
  auto api = api_pods_.find(key);
  if (api == api_pods_.end()) {
    if (model_.pods.erase(key) > 0) Changed();
    return;
  }
  Pod pod = api->second;
  if (!pod.ip.has_value()) {
    for (const auto& [id, endpoint] : endpoints_) {
      if (endpoint.pod_key != key) continue;
      pod.ip = endpoint.ip;
      // The endpoint is on this node, whatever the API has not said yet.
      if (pod.node.empty()) pod.node = options_.node;
      break;
    }
  }
  auto it = model_.pods.find(key);
  if (it != model_.pods.end() && it->second == pod) return;
  model_.pods[key] = std::move(pod);
  Changed();
}

void Controller::UpsertEndpoint(LocalEndpoint endpoint) {
  absl::MutexLock lock(&mu_);
  std::string before;
  if (auto it = endpoints_.find(endpoint.id); it != endpoints_.end()) before = it->second.pod_key;
  const std::string key = endpoint.pod_key;
  endpoints_[endpoint.id] = std::move(endpoint);
  if (!before.empty() && before != key) RefreshPod(before);
  if (!key.empty()) RefreshPod(key);
  Changed();
}

void Controller::RemoveEndpoint(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = endpoints_.find(id);
  if (it == endpoints_.end()) return;
  const std::string key = it->second.pod_key;
  endpoints_.erase(it);
  if (!key.empty()) RefreshPod(key);
  Changed();
}

void Controller::ReplaceEndpoints(std::vector<LocalEndpoint> endpoints) {
  absl::MutexLock lock(&mu_);
  std::set<std::string> keys;
  for (const auto& [id, endpoint] : endpoints_) keys.insert(endpoint.pod_key);
  endpoints_.clear();
  for (LocalEndpoint& endpoint : endpoints) {
    keys.insert(endpoint.pod_key);
    std::string id = endpoint.id;
    endpoints_[std::move(id)] = std::move(endpoint);
  }
  for (const std::string& key : keys) {
    if (!key.empty()) RefreshPod(key);
  }
  Changed();
}

void Controller::MarkListed(Kind kind) {
  absl::MutexLock lock(&mu_);
  listed_ |= Bit(kind);
  Changed();
}

bool Controller::Pending() const {
  absl::MutexLock lock(&mu_);
  return listed_ == kAllListed && version_ != applied_version_;
}

bool Controller::WaitSynced(uint64_t syncs, absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  const auto synced = [this, syncs]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return status_.syncs != syncs;
  };
  mu_.AwaitWithDeadline(absl::Condition(&synced), deadline);
  return synced();
}

bool Controller::WaitPending(absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  const auto pending = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return listed_ == kAllListed && version_ != applied_version_;
  };
  mu_.AwaitWithDeadline(absl::Condition(&pending), deadline);
  return pending();
}

absl::Status Controller::Sync() {
  absl::MutexLock sync_lock(&sync_mu_);
  Model model;
  uint64_t version;
  std::vector<LocalEndpoint> endpoints;
  {
    absl::MutexLock lock(&mu_);
    if (listed_ != kAllListed || version_ == applied_version_) return absl::OkStatus();
    model = model_;
    version = version_;
    for (const auto& [id, endpoint] : endpoints_) endpoints.push_back(endpoint);
  }
  // What this sync enforces, from the same snapshot as the rules.
  std::vector<net::Ipv4> enforced;
  for (const LocalEndpoint& endpoint : endpoints) {
    auto pod = model.pods.find(endpoint.pod_key);
    if (endpoint.pod_key.empty() ||
        (pod != model.pods.end() && pod->second.Addressable() && *pod->second.ip == endpoint.ip)) {
      enforced.push_back(endpoint.ip);
    }
  }
  const absl::Time start = absl::Now();
  const int namespaces = static_cast<int>(model.namespaces.size());
  const int policies = static_cast<int>(model.policies.size());
  int pods = 0;
  for (const auto& [key, pod] : model.pods) pods += pod.Addressable() ? 1 : 0;
  ControllerStatus::Steps steps;
  absl::Time step_start = start;
  const auto step_done = [&step_start](absl::Duration& step) {
    const absl::Time now = absl::Now();
    step = now - step_start;
    step_start = now;
  };
  nft::Table desired = compiler_.Compile(std::move(model));
  step_done(steps.compile);
  absl::Status status;
  const nft::Table* current = applied_table_.get();
  std::optional<nft::Table> dumped;
  if (current == nullptr) {
    // First sync, or after a failure: start from what the kernel holds (a table left by the
    // previous weave-npc is reconciled, not flushed).
    absl::StatusOr<std::optional<nft::Table>> in_kernel =
        backend_->Dump(desired.family, desired.name);
    status = in_kernel.status();
    if (status.ok()) dumped = std::move(*in_kernel);
    if (dumped.has_value()) current = &*dumped;
  }
  step_done(steps.dump);
  bool changed = false;
  if (status.ok()) {
    const nft::Transaction transaction = nft::Plan(current, desired);
    step_done(steps.plan);
    status = backend_->Apply(transaction);
    step_done(steps.apply);
    changed = !transaction.empty();
  }
  int rules = 0;
  int elements = 0;
  for (const nft::Chain& chain : desired.chains) rules += chain.rules.size();
  for (const nft::Set& set : desired.sets) elements += set.elements.size();
  const int chains = static_cast<int>(desired.chains.size());
  const int sets = static_cast<int>(desired.sets.size());
  if (status.ok()) {
    applied_table_ = std::make_shared<const nft::Table>(nft::Normalize(std::move(desired)));
  } else {
    applied_table_.reset();
  }

  absl::MutexLock lock(&mu_);
  if (status.ok() && changed && sweeper_ != nullptr) unswept_ = applied_table_;
  if (!status.ok()) {
    ++status_.sync_errors;
    status_.last_error = std::string(status.message());
    return absl::Status(status.code(),
                        absl::StrCat("applying table inet ", kTableName, ": ", status.message()));
  }
  applied_version_ = version;
  ++status_.syncs;
  status_.last_error.clear();
  status_.last_sync = absl::Now();
  if (!status_.ready) status_.first_sync = status_.last_sync;
  status_.last_sync_took = status_.last_sync - start;
  status_.last_sync_steps = steps;
  status_.ready = true;
  status_.namespaces = namespaces;
  status_.pods = pods;
  status_.policies = policies;
  status_.chains = chains;
  status_.rules = rules;
  status_.sets = sets;
  status_.elements = elements;
  status_.enforced_pods = std::move(enforced);
  return absl::OkStatus();
}

absl::StatusOr<int> Controller::SweepFlows() {
  absl::MutexLock sweep_lock(&sweep_mu_);
  std::shared_ptr<const nft::Table> table;
  {
    absl::MutexLock lock(&mu_);
    table = std::exchange(unswept_, nullptr);
  }
  if (table == nullptr) return 0;
  absl::StatusOr<int> deleted = sweeper_->Sweep(*table);
  if (deleted.ok() && *deleted > 0) {
    absl::MutexLock lock(&mu_);
    status_.flows_deleted += *deleted;
  }
  return deleted;
}

bool Controller::WaitSweepDue(absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  const auto due = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return unswept_ != nullptr; };
  mu_.AwaitWithDeadline(absl::Condition(&due), deadline);
  return due();
}

std::string Controller::PodAt(net::Ipv4 address) const {
  absl::MutexLock lock(&mu_);
  for (const auto& [key, pod] : model_.pods) {
    if (pod.Addressable() && *pod.ip == address) return key;
  }
  return "";
}

std::vector<std::string> Controller::PoliciesSelecting(const std::string& pod_key,
                                                       bool ingress) const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  auto pod = model_.pods.find(pod_key);
  if (pod == model_.pods.end()) return out;
  for (const auto& [key, policy] : model_.policies) {  // sorted by key
    if (policy.ns != pod->second.ns || !(ingress ? policy.ingress : policy.egress)) continue;
    if (policy.pod_selector.Matches(pod->second.labels)) out.push_back(key);
  }
  return out;
}

ControllerStatus Controller::status() const {
  absl::MutexLock lock(&mu_);
  return status_;
}

}  // namespace weave::npc
