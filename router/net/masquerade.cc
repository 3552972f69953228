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

// The gate's set and chain (see the header).
void AddGate(bool open, nft::Table& table) {
  nft::Set ready{kNpcReadySet, nft::SetKeyType::kIpv4Addr, /*interval=*/true, false, {}};
  if (open) ready.elements.push_back(Everything());
  table.sets.push_back(std::move(ready));
  nft::Rule gate{
      {nft::NotInSet(Field::kIpDaddr, kNpcReadySet), nft::InSet(Field::kIpDaddr, kLocalPodsSet),
       nft::Is(Field::kCtState, nft::CtStates{nft::kCtNew}),
       nft::Log{"weave-gate: ", kGateLogGroup}, nft::Drop()},
      "EXPECT_NPC: new connections to local pods wait for the first sync of weave-npc"};
  table.chains.push_back({kGateChain,
                          nft::BaseChain{nft::ChainType::kFilter, nft::Hook::kForward,
                                         kFilterPriority, nft::Policy::kAccept},
                          {std::move(gate)}});
}

}  // namespace

bool GateOpenIn(const nft::Table& table) {
  const nft::Set* ready = table.FindSet(kNpcReadySet);
  return ready != nullptr && !ready->elements.empty();
}

nft::Table RouterTable(const RouterTableOptions& options, const std::vector<net::Ipv4>& local_pods,
                       bool gate_open) {
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

  nft::Set pods{kLocalPodsSet, nft::SetKeyType::kIpv4Addr, false, false, {}};
  for (net::Ipv4 ip : local_pods) pods.elements.push_back(net::Cidr(ip, 32));
  nft::Chain postrouting{"postrouting",
                         nft::BaseChain{nft::ChainType::kNat, nft::Hook::kPostrouting,
                                        kSrcNatPriority, nft::Policy::kAccept},
                         std::move(rules)};
  nft::Table table{nft::Family::kInet, kRouterTable, {std::move(postrouting)}, {std::move(pods)}};
  if (options.expect_npc) AddGate(gate_open, table);
  return table;
}

Masquerade::Masquerade(nft::Backend* backend, RouterTableOptions options)
    : backend_(backend), options_(std::move(options)) {}

absl::Status Masquerade::Install(const std::vector<net::Ipv4>& local_pods) {
  std::lock_guard lock(mu_);
  if (options_.expect_npc && !gate_open_) {
    absl::StatusOr<std::optional<nft::Table>> current =
        backend_->Dump(nft::Family::kInet, kRouterTable);
    if (!current.ok()) {
      return absl::Status(
          current.status().code(),
          absl::StrCat("reading table inet ", kRouterTable,
                       " for the state of the policy gate: ", current.status().message()));
    }
    gate_open_ = current->has_value() && GateOpenIn(**current);
  }
  nft::Transaction transaction;
  transaction.Add(nft::ReplaceTable{RouterTable(options_, local_pods, gate_open_)});
  RETURN_IF_ERROR(backend_->Apply(transaction));
  installed_ = true;
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
  nft::Transaction transaction;
  transaction.Add(nft::AddElements{Id(), kLocalPodsSet, {net::Cidr(address, 32)}});
  return backend_->Apply(transaction);
}

absl::Status Masquerade::PodDetached(net::Ipv4 address) {
  std::lock_guard lock(mu_);
  nft::Transaction transaction;
  transaction.Add(nft::DeleteElements{Id(), kLocalPodsSet, {net::Cidr(address, 32)}});
  absl::Status status = backend_->Apply(transaction);
  // Already absent (a repeated DEL) is what we wanted.
  return absl::IsNotFound(status) ? absl::OkStatus() : status;
}

}  // namespace weave::router
