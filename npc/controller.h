// The controller: Kubernetes objects in, one nftables transaction out.
//
// Watches (three Reflectors, or a test) feed namespaces, pods and NetworkPolicies into the model;
// Sync() compiles the model for this node, plans the change against what the backend holds and
// applies it as one transaction. A policy it cannot read is reported (one log line, the
// `weavenpc_unenforceable_policies` gauge, status()) and never stops the others:
//  - metadata or spec.podSelector unreadable: the policy is skipped (it selects nothing we can
//    know);
//  - anything else wrong (a bad peer selector, an unknown protocol, ...): it still isolates the
//    pods it selects, and allows nothing (fail closed).
// Nothing is applied until every watch has delivered its first complete list (Ready()), so a
// partial model never opens or closes traffic.
//
// Early pods: the router's endpoint stream tells of every pod interface on this node the moment
// it is attached, before the Kubernetes API has the pod's address (kubelet reports it seconds
// later). A pod the API knows without an address takes its address from its local endpoint, so
// its policies apply from its attach on; the router keeps the pod's new connections waiting until
// weave-npc reports it enforced (status().enforced_pods).
//
// Thread-safe: the handlers may be called from several watch threads while Sync runs on another.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/kube/reflector.h"
#include "common/nft/backend.h"
#include "npc/compiler/compiler.h"
#include "npc/flow_sweeper.h"
#include "npc/model/model.h"

namespace weave::npc {

// A pod interface on this node, as the router's endpoint stream tells of it.
struct LocalEndpoint {
  std::string id;       // "container_id/ifname": unique on the node
  std::string pod_key;  // "namespace/name"; empty for a container the router knows no pod of
  net::Ipv4 ip;

  friend bool operator==(const LocalEndpoint&, const LocalEndpoint&) = default;
};

struct ControllerStatus {
  int namespaces = 0;
  int pods = 0;                     // with an address
  int policies = 0;                 // enforced (including fail-closed ones)
  std::map<std::string, std::string> problems;  // "ns/name" -> why it is not fully enforced
  int chains = 0;
  int rules = 0;
  int sets = 0;
  int elements = 0;
  uint64_t syncs = 0;               // transactions applied
  uint64_t sync_errors = 0;         // transactions the backend refused
  uint64_t flows_deleted = 0;       // conntrack entries of flows a change denied
  std::string last_error;
  absl::Time first_sync = absl::InfinitePast();
  absl::Time last_sync = absl::InfinitePast();
  absl::Duration last_sync_took;
  // Where last_sync_took went: compiling, reading the kernel's table (first sync, or after a
  // failure), planning the transaction, and the kernel applying it.
  struct Steps {
    absl::Duration compile, dump, plan, apply;
  } last_sync_steps;
  bool ready = false;               // every watch has synced and the first sync was applied
  // As of the last sync: addresses of local endpoints whose policies are in the kernel (every
  // local endpoint whose pod the model has at that address, and those of no pod).
  std::vector<net::Ipv4> enforced_pods;
};

class Controller {
 public:
  enum class Kind { kNamespace, kPod, kPolicy };

  // `sweeper` (may be null) deletes the conntrack entries of flows a change denies.
  Controller(nft::Backend* backend, CompileOptions options, FlowSweeper* sweeper = nullptr);

  // The object changed or appeared (`object` as the API server sent it).
  void Upsert(Kind kind, const kube::Json& object);
  void Remove(Kind kind, const kube::Json& last_known);
  // The watch of `kind` has delivered its first complete list.
  void MarkListed(Kind kind);

  // The router's endpoint stream: an endpoint attached (or changed), detached, or the complete
  // list after (re)subscribing. Each asks for a sync, so that the report that follows names the
  // endpoint enforced.
  void UpsertEndpoint(LocalEndpoint endpoint);
  void RemoveEndpoint(const std::string& id);
  void ReplaceEndpoints(std::vector<LocalEndpoint> endpoints);

  // Whether there is a model change not yet applied, once every kind is listed.
  bool Pending() const;
  // Compiles, plans and applies. OK and nothing sent when nothing changed or not every kind is
  // listed yet.
  absl::Status Sync();
  // After a sync that changed the table: deletes the conntrack entries of flows the table as
  // last applied refuses (so that a new deny takes effect on established connections). Returns
  // how many; 0 without a change since the last sweep. Meant for its own thread: syncs go on
  // while it runs (a sweep reads every conntrack entry and judges each one, tens of
  // milliseconds with a large table), and the changes applied meanwhile are swept next time.
  absl::StatusOr<int> SweepFlows();
  // Blocks until a sweep is due (a sync changed the table since the last one) or `deadline`;
  // returns whether one is.
  bool WaitSweepDue(absl::Time deadline) const;
  // Blocks until Pending() or `deadline`; returns Pending().
  bool WaitPending(absl::Time deadline) const;
  // Blocks until status().syncs differs from `syncs` or `deadline`; returns whether it does.
  bool WaitSynced(uint64_t syncs, absl::Time deadline) const;

  ControllerStatus status() const;

  // "namespace/name" of the pod with this address, or "" (for blocked-connection lines).
  std::string PodAt(net::Ipv4 address) const;
  // The policies ("namespace/name", sorted) that select pod `pod_key` for ingress (or egress):
  // those whose rules judged a packet it dropped (for blocked-connection lines).
  std::vector<std::string> PoliciesSelecting(const std::string& pod_key, bool ingress) const;

  // A kube::EventHandler feeding one kind into this controller.
  class Handler : public kube::EventHandler {
   public:
    Handler(Controller* controller, Kind kind) : controller_(controller), kind_(kind) {}
    void OnAdd(const kube::Json& object) override { controller_->Upsert(kind_, object); }
    void OnUpdate(const kube::Json&, const kube::Json& object) override {
      controller_->Upsert(kind_, object);
    }
    void OnDelete(const kube::Json& object) override { controller_->Remove(kind_, object); }
    void OnSynced() override { controller_->MarkListed(kind_); }

   private:
    Controller* controller_;
    Kind kind_;
  };

 private:
  void Changed() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sets model_.pods[key] from the API's pod and the local endpoint of that pod (see the class
  // comment); marks a change when it differs.
  void RefreshPod(const std::string& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetProblem(const std::string& key, std::string problem) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  nft::Backend* const backend_;
  FlowSweeper* const sweeper_;
  const CompileOptions options_;
  absl::Mutex sync_mu_;  // one Sync at a time; taken before mu_
  // The table as last applied, so that a pod event costs a compile and a small transaction, not
  // a dump of the whole table; cleared by a failure (the next Sync reads the backend again).
  // Shared, never changed: the sweep reads it while the next sync replaces it.
  std::shared_ptr<const nft::Table> applied_table_ ABSL_GUARDED_BY(sync_mu_);
  Compiler compiler_ ABSL_GUARDED_BY(sync_mu_);
  absl::Mutex sweep_mu_;  // one SweepFlows at a time; taken before mu_
  mutable absl::Mutex mu_;
  // The table as applied by the last sync that changed it, while its flows are not swept yet.
  std::shared_ptr<const nft::Table> unswept_ ABSL_GUARDED_BY(mu_);
  Model model_ ABSL_GUARDED_BY(mu_);  // pods as RefreshPod makes them
  std::map<std::string, Pod> api_pods_ ABSL_GUARDED_BY(mu_);  // as the API has them
  std::map<std::string, LocalEndpoint> endpoints_ ABSL_GUARDED_BY(mu_);  // by id
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;  // bumped by every model change
  uint64_t applied_version_ ABSL_GUARDED_BY(mu_) = 0;
  int listed_ ABSL_GUARDED_BY(mu_) = 0;        // bit per Kind
  ControllerStatus status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace weave::npc
