#include "router/net/masquerade.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace weave::router {
namespace {

using nft::Field;

nft::TableId Id() { return {nft::Family::kInet, kRouterTable}; }

// nftables' srcnat and filter priorities.
constexpr int kSrcNatPriority = 100;
constexpr int kFilterPriority = 0;

// What npc-ready holds once the gate is open: every address.
net::Cidr Everything() { return net::Cidr(net::Ipv4(0), 0); }

std::vector<nft::Element> Hosts(const std::vector<net::Ipv4>& addresses) {
  std::vector<nft::Element> hosts;
  hosts.reserve(addresses.size());
  for (net::Ipv4 address : addresses) hosts.push_back(net::Cidr(address, 32));
  return hosts;
}

// The gates' sets and chain (see the header).
void AddGate(bool open, const std::vector<net::Ipv4>& pending, nft::Table& table) {
  nft::Set ready{kNpcReadySet, nft::SetKeyType::kIpv4Addr, /*interval=*/true, false, {}};
  if (open) ready.elements.push_back(Everything());
  table.sets.push_back(std::move(ready));
  table.sets.push_back(
      {kNpcPendingSet, nft::SetKeyType::kIpv4Addr, /*interval=*/false, false, Hosts(pending)});
  const nft::Statement new_connection = nft::Is(Field::kCtState, nft::CtStates{nft::kCtNew});
  const nft::Statement log = nft::Log{"weave-gate: ", kGateLogGroup};
  const nft::Statement drop = nft::Drop();
  std::vector<nft::Rule> rules = {
      {{nft::NotInSet(Field::kIpDaddr, kNpcReadySet), nft::InSet(Field::kIpDaddr, kLocalPodsSet),
        new_connection, log, drop},
       "EXPECT_NPC: new connections to local pods wait for the first sync of weave-npc"},
      {{nft::InSet(Field::kIpDaddr, kNpcPendingSet), new_connection, log, drop},
       "EXPECT_NPC: a new pod is reachable once weave-npc enforces its policies"},
      {{nft::InSet(Field::kIpSaddr, kNpcPendingSet), new_connection, log, drop},
       "EXPECT_NPC: a new pod reaches out once weave-npc enforces its policies"},
  };
  table.chains.push_back({kGateChain,
                          nft::BaseChain{nft::ChainType::kFilter, nft::Hook::kForward,
                                         kFilterPriority, nft::Policy::kAccept},
                          std::move(rules)});
}

}  // namespace

bool GateOpenIn(const nft::Table& table) {
  const nft::Set* ready = table.FindSet(kNpcReadySet);
  return ready != nullptr && !ready->elements.empty();
}

std::vector<net::Ipv4> PendingIn(const nft::Table& table) {
  std::vector<net::Ipv4> pending;
  const nft::Set* set = table.FindSet(kNpcPendingSet);
  if (set == nullptr) return pending;
  for (const nft::Element& element : set->elements) {
    if (const net::Cidr* host = std::get_if<net::Cidr>(&element)) {
      pending.push_back(host->address());
    }
  }
  return pending;
}

nft::Table RouterTable(const RouterTableOptions& options, const std::vector<net::Ipv4>& local_pods,
                       bool gate_open, const std::vector<net::Ipv4>& pending) {
  const net::Cidr range = options.range.Network();
  const net::Cidr multicast = *net::Cidr::Parse("224.0.0.0/4");
  std::vector<nft::Rule> rules = {
      {{nft::Is(Field::kIpSaddr, range), nft::Is(Field::kIpDaddr, multicast), nft::Return()},
       "pod multicast: untouched"},
      {{nft::Is(Field::kIpSaddr, range), nft::Is(Field::kIpDaddr, range), nft::Return()},
       "pod to pod: untouched"},
      {{nft::Is(Field::kIpSaddr, range), nft::Masquerade{true}}, "pod to outside"},
  };
  if (options.no_masq_local) {
    rules.push_back({{nft::InSet(Field::kIpDaddr, kLocalPodsSet), nft::Return()},
                     "NO_MASQ_LOCAL: keep the client address for local pods"});
  }
  rules.push_back({{nft::Is(Field::kIpDaddr, range), nft::Masquerade{true}}, "outside to pod"});

  nft::Set pods{kLocalPodsSet, nft::SetKeyType::kIpv4Addr, false, false, Hosts(local_pods)};
  nft::Chain postrouting{"postrouting",
                         nft::BaseChain{nft::ChainType::kNat, nft::Hook::kPostrouting,
                                        kSrcNatPriority, nft::Policy::kAccept},
                         std::move(rules)};
  nft::Table table{nft::Family::kInet, kRouterTable, {std::move(postrouting)}, {std::move(pods)}};
  if (options.expect_npc) AddGate(gate_open, pending, table);
  return table;
}

Masquerade::Masquerade(nft::Backend* backend, RouterTableOptions options)
    : backend_(backend), options_(std::move(options)) {}

absl::Status Masquerade::Install(const std::vector<net::Ipv4>& local_pods) {
  std::lock_guard lock(mu_);
  const std::set<net::Ipv4> local(local_pods.begin(), local_pods.end());
  bool open = gate_open_;
  std::set<net::Ipv4> pending;
  if (options_.expect_npc) {
    absl::StatusOr<std::optional<nft::Table>> current =
        backend_->Dump(nft::Family::kInet, kRouterTable);
    if (!current.ok()) {
      return absl::Status(
          current.status().code(),
          absl::StrCat("reading table inet ", kRouterTable,
                       " for the state of the policy gate: ", current.status().message()));
    }
    if (!current->has_value()) {
      // Nothing to go by: weave-npc has cleared none of these pods.
      pending = local;
    } else {
      open = open || GateOpenIn(**current);
      for (net::Ipv4 address : PendingIn(**current)) {
        if (local.contains(address)) pending.insert(address);
      }
    }
  }
  nft::Transaction transaction;
  transaction.Add(nft::ReplaceTable{RouterTable(
      options_, local_pods, open, std::vector<net::Ipv4>(pending.begin(), pending.end()))});
  RETURN_IF_ERROR(backend_->Apply(transaction));
  installed_ = true;
  gate_open_ = open;
  local_ = local;
  pending_ = std::move(pending);
  return absl::OkStatus();
}

absl::Status Masquerade::OpenGate() {
  std::lock_guard lock(mu_);
  if (!options_.expect_npc || gate_open_) return absl::OkStatus();
  if (installed_) {
    nft::Transaction transaction;
    transaction.Add(nft::AddElements{Id(), kNpcReadySet, {Everything()}});
    RETURN_IF_ERROR(backend_->Apply(transaction));
  }
  gate_open_ = true;
  return absl::OkStatus();
}

bool Masquerade::gate_open() const { return !options_.expect_npc || gate_open_; }

absl::Status Masquerade::Remove() {
  std::lock_guard lock(mu_);
  nft::Transaction transaction;
  transaction.Add(nft::DeleteTable{Id()});
  return backend_->Apply(transaction);
}

absl::Status Masquerade::PodAttached(net::Ipv4 address) {
  std::lock_guard lock(mu_);
  if (local_.contains(address)) return absl::OkStatus();
  const net::Cidr host(address, 32);
  nft::Transaction transaction;
  transaction.Add(nft::AddElements{Id(), kLocalPodsSet, {host}});
  if (options_.expect_npc) transaction.Add(nft::AddElements{Id(), kNpcPendingSet, {host}});
  RETURN_IF_ERROR(backend_->Apply(transaction));
  local_.insert(address);
  if (options_.expect_npc) pending_.insert(address);
  return absl::OkStatus();
}

absl::Status Masquerade::PodDetached(net::Ipv4 address) {
  std::lock_guard lock(mu_);
  const net::Cidr host(address, 32);
  nft::Transaction transaction;
  transaction.Add(nft::DeleteElements{Id(), kLocalPodsSet, {host}});
  if (pending_.contains(address)) {
    transaction.Add(nft::DeleteElements{Id(), kNpcPendingSet, {host}});
  }
  absl::Status status = backend_->Apply(transaction);
  // Already absent (a repeated DEL) is what we wanted.
  if (!status.ok() && !absl::IsNotFound(status)) return status;
  local_.erase(address);
  pending_.erase(address);
  return absl::OkStatus();
}

absl::Status Masquerade::PodsEnforced(const std::vector<net::Ipv4>& addresses) {
  std::lock_guard lock(mu_);
  std::vector<net::Ipv4> cleared;
  for (net::Ipv4 address : addresses) {
    if (pending_.contains(address)) cleared.push_back(address);
  }
  if (cleared.empty()) return absl::OkStatus();
  if (installed_) {
    nft::Transaction transaction;
    transaction.Add(nft::DeleteElements{Id(), kNpcPendingSet, Hosts(cleared)});
    RETURN_IF_ERROR(backend_->Apply(transaction));
  }
  for (net::Ipv4 address : cleared) pending_.erase(address);
  return absl::OkStatus();
}

int Masquerade::pending_pods() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(pending_.size());
}

}  // namespace weave::router
