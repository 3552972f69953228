// Attaches pod network namespaces to the weave bridge: the router's side of CNI ADD, DEL,
// CHECK and GC, and the bridge's own address (expose).
//
// DEL with a reaper (production): the pod is forgotten (endpoint stream, local-pods set) at
// once, and the host veth is deleted by index on a background thread, because the kernel takes
// ~30 ms to unregister a veth; the address is released only after its veth is gone, so it
// is never handed out while the old interface still answers for it. Without a reaper (unit
// tests) DEL does everything before returning.
//
// ADD: an address from the allocator (or the one a delegated IPAM plugin chose), a veth pair
// whose host end (vethwepl + 7 hex digits of a hash of container ID and interface) joins the
// bridge and whose pod end is created directly inside the pod's namespace under the
// requested name, with the address, MTU and a default route via the bridge's address.
// Repeating ADD for the same container and interface returns the same result; a failed ADD
// undoes everything it did. DEL succeeds when the namespace or veth is already gone and
// always releases the address.
//
// Thread-safe: operations are serialised (each takes a few netlink round trips).
#pragma once

#include <memory>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/net/ip.h"
#include "common/netlink/netlink.h"
#include "common/peer_name.h"
#include "ipam/allocator.h"
#include "router/net/masquerade.h"
#include "router/pods/endpoints.h"
#include "router/pods/pod_namespace.h"
#include "weave/router.pb.h"

namespace weave::router {

inline constexpr char kBridgeName[] = "weave";
// The allocator owner of the bridge's own address.
inline constexpr char kExposeOwner[] = "weave:expose";

struct AttacherOptions {
  std::string bridge = kBridgeName;
  int mtu = 1376;        // pods' default MTU (WEAVE_MTU)
  bool hairpin = true;   // default hairpin mode of pod ports (HAIRPIN_MODE)
};

// "vethwepl" + 7 hex digits: at most 15 characters, stable for (container ID, interface).
std::string HostVethName(const std::string& container_id, const std::string& ifname);

class Attacher {
 public:
  // `observer` (may be null) hears of every pod address attached or detached, synchronously,
  // before the call returns: the router keeps its local-pods set in nftables with it.
  Attacher(AttacherOptions options, netlink::Netlink* host, PodNamespaceOpener* opener,
           ipam::Allocator* allocator, EndpointRegistry* endpoints,
           PodAddressObserver* observer = nullptr,
           std::unique_ptr<netlink::Netlink> reaper = nullptr);
  // Finishes pending veth deletions (and their releases) before returning.
  ~Attacher();

  // Creates the bridge if needed, with the pods' MTU and the peer name as its MAC, and up.
  absl::Status EnsureBridge(PeerName mac);

  // Gives the bridge an address in the range: `cidr` when given (claimed from the
  // allocator), else the one it already has, else a newly allocated one. Idempotent.
  absl::StatusOr<net::Cidr> Expose(const std::optional<net::Cidr>& cidr);

  // Re-registers endpoints of pods attached before a restart (allocations whose host veth
  // still exists), so that `weave ps`, the endpoint stream and DEL know them.
  absl::Status Restore();

  // `weave reset`: forgets every endpoint and deletes pod veths and the bridge.
  absl::Status Teardown();

  // The bridge as `weave ps` shows it: "weave:expose", its MAC and addresses.
  absl::StatusOr<v1::Endpoint> BridgeEndpoint();

  // `deadline` bounds waiting for an address (the ring, or space from a peer).
  absl::StatusOr<v1::AttachContainerResponse> Attach(const v1::AttachContainerRequest& request,
                                                     absl::Time deadline = absl::InfiniteFuture());
  absl::Status Detach(const v1::DetachContainerRequest& request);
  absl::Status Check(const v1::CheckContainerRequest& request);
  // Detaches every pod interface this attacher made that is not in `valid`; returns how
  // many. Addresses allocated through weave-ipam (no veth of ours) are left alone.
  absl::StatusOr<uint32_t> GarbageCollect(const v1::GarbageCollectRequest& request);

 private:
  absl::StatusOr<net::Cidr> Gateway();  // requires mu_
  absl::StatusOr<v1::AttachContainerResponse> AttachLocked(
      const v1::AttachContainerRequest& request, absl::Time deadline);
  absl::Status DetachLocked(const std::string& container_id, const std::string& ifname);
  void ReapLoop();

  struct Removal {
    std::string container_id;
    std::string ifname;
    int index;  // of the host veth
  };

  const AttacherOptions options_;
  netlink::Netlink* const host_;
  PodNamespaceOpener* const opener_;
  ipam::Allocator* const allocator_;
  EndpointRegistry* const endpoints_;
  PodAddressObserver* const observer_;
  std::mutex mu_;
  // Host veth index awaiting deletion, by owner; guarded by mu_. ADD for the same owner
  // cancels the release (it keeps the address).
  std::map<std::pair<std::string, std::string>, int> pending_;

  const std::unique_ptr<netlink::Netlink> reaper_;  // used by the reaper thread only
  std::mutex reap_mu_;  // after mu_ when both are held
  std::condition_variable reap_cv_;
  std::deque<Removal> reap_queue_;  // guarded by reap_mu_
  bool stopping_ = false;           // guarded by reap_mu_
  std::thread reap_thread_;
};

}  // namespace weave::router
