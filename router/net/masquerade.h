// The router's own nftables table, `inet weave` (the design's data-plane section):
//   - pod -> pod: untouched;
//   - pod -> outside: masqueraded (fully random ports, avoiding the conntrack race of
//     weave#3287), except multicast;
//   - outside -> pod (a NodePort DNAT'd here, host -> pod): masqueraded so that replies come
//     back the same way, except to local pods when NO_MASQ_LOCAL is on, which keeps the
//     client's address for externalTrafficPolicy: Local. Local pods are a set, updated as pods
//     attach and detach.
// Accepts in this table do not stop other tables' chains; this table only rewrites sources.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "common/net/ip.h"
#include "common/nft/backend.h"
#include "common/nft/ruleset.h"

namespace weave::router {

inline constexpr char kRouterTable[] = "weave";
inline constexpr char kLocalPodsSet[] = "local-pods";

struct NatOptions {
  net::Cidr range;           // IPALLOC_RANGE
  bool no_masq_local = true;  // NO_MASQ_LOCAL
};

// The whole table as a value, for `local_pods` (addresses of pods attached on this node).
nft::Table RouterTable(const NatOptions& options, const std::vector<net::Ipv4>& local_pods);

// Told about pod addresses as they come and go on this node.
class PodAddressObserver {
 public:
  virtual ~PodAddressObserver() = default;
  virtual absl::Status PodAttached(net::Ipv4 address) = 0;
  virtual absl::Status PodDetached(net::Ipv4 address) = 0;
};

// Keeps RouterTable in the kernel. Thread-safe.
class Masquerade : public PodAddressObserver {
 public:
  Masquerade(nft::Backend* backend, NatOptions options);

  // Replaces the table atomically (no packet sees a half table; an existing table from an
  // earlier run is replaced in the same transaction).
  absl::Status Install(const std::vector<net::Ipv4>& local_pods);
  // Deletes the table (`weave reset`); a missing table is fine.
  absl::Status Remove();

  absl::Status PodAttached(net::Ipv4 address) override;
  absl::Status PodDetached(net::Ipv4 address) override;

 private:
  nft::Backend* const backend_;
  const NatOptions options_;
  std::mutex mu_;
};

}  // namespace weave::router
