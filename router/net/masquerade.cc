#include "router/net/masquerade.h"

namespace weave::router {
namespace {

using nft::Field;

nft::TableId Id() { return {nft::Family::kInet, kRouterTable}; }

// nftables' srcnat priority.
constexpr int kSrcNatPriority = 100;

}  // namespace

nft::Table RouterTable(const NatOptions& options, const std::vector<net::Ipv4>& local_pods) {
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
  return nft::Table{nft::Family::kInet, kRouterTable, {std::move(postrouting)}, {std::move(pods)}};
}

Masquerade::Masquerade(nft::Backend* backend, NatOptions options)
    : backend_(backend), options_(std::move(options)) {}

absl::Status Masquerade::Install(const std::vector<net::Ipv4>& local_pods) {
  std::lock_guard lock(mu_);
  nft::Transaction transaction;
  transaction.Add(nft::ReplaceTable{RouterTable(options_, local_pods)});
  return backend_->Apply(transaction);
}

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
