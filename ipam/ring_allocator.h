// The distributed allocator: the range is split between peers as a ring (ring.h), agreed on at
// start by consensus (paxos.h) or given by seed, kept in step through the mesh's gossip, and
// persisted in the store before any address is handed out. A peer allocates only inside the
// ranges it owns, lowest free address first; when it has none left it asks a peer with free
// space to donate some.
//
// Threading: one mutex guards everything; calls into the network (IpamNetwork) are made with it
// held and must not call back into the allocator (the mesh queues sends). Allocate and Claim wait
// for the ring or for donated space, up to the request's deadline.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ipam/allocation_index.h"
#include "ipam/allocator.h"
#include "ipam/init_mode.h"
#include "ipam/paxos.h"
#include "ipam/ring.h"
#include "ipam/space.h"
#include "ipam/store.h"
#include "weave/ipam.pb.h"

namespace weave::ipam {

// What the allocator needs from the mesh, on the "IPallocation" channel.
class IpamNetwork {
 public:
  virtual ~IpamNetwork() = default;
  // To every reachable peer.
  virtual void Broadcast(const std::string& payload) = 0;
  // To one peer; Unavailable when it is not reachable.
  virtual absl::Status Unicast(PeerName to, const std::string& payload) = 0;
  // Peers reachable now, this one included.
  virtual std::set<PeerName> Reachable() = 0;
};

struct RingAllocatorOptions {
  net::Cidr range;  // IPALLOC_RANGE, a network
  PeerName self;
  uint64_t uid = 0;
  std::string nickname;
  InitMode init;  // consensus size resolved
  // A donation request or a consensus round that got no answer is retried after this.
  absl::Duration retry = absl::Seconds(2);
};

// What `weave status` and `weave status ipam` show.
struct RingStatus {
  enum class State { kIdle, kAwaitingConsensus, kReady, kWaitingForSpace, kAllUnreachable };
  State state = State::kIdle;
  int quorum = 0;
  int known = 0;
  struct Entry {
    uint32_t token = 0;
    uint64_t size = 0;
    PeerName peer;
    std::string nickname;
    bool reachable = false;
    uint32_t version = 0;
    uint32_t free = 0;
  };
  std::vector<Entry> entries;
  uint64_t pending_allocations = 0;
  std::string conflict;  // set while a split brain is detected
};

class RingAllocator final : public Allocator {
 public:
  // Loads allocations and the ring from `store` (not owned). A stored ring for another range is
  // ignored (with a warning). `network` (not owned) must outlive the allocator.
  static absl::StatusOr<std::unique_ptr<RingAllocator>> Create(RingAllocatorOptions options,
                                                               Store* store,
                                                               IpamNetwork* network);

  // Whether `store` holds a ring (this peer took part in one before).
  static absl::StatusOr<bool> HasStoredRing(Store* store);
  // Forgets the stored ring and every allocation, so that the next Create starts as a new
  // peer: for a peer the cluster removed (its space was reclaimed by another), whose old
  // ownership must not come back.
  static absl::Status ForgetStored(Store* store);

  absl::StatusOr<Allocation> Allocate(const AllocationRequest& req) override;
  absl::StatusOr<Allocation> Claim(const Allocation& allocation) override;
  absl::Status Release(absl::string_view container_id, absl::string_view ifname) override;
  absl::StatusOr<std::vector<Allocation>> List() const override;
  uint64_t ActiveCount() const override;
  net::Cidr Range() const override { return options_.range; }

  // The mesh's side. Payloads are GossipState (gossip, broadcast) or Unicast messages; garbage
  // is InvalidArgument and changes nothing.
  absl::Status OnGossip(PeerName sender, absl::string_view payload);
  absl::Status OnBroadcast(PeerName source, absl::string_view payload);
  absl::Status OnUnicast(PeerName source, absl::string_view payload);
  std::string FullState();
  // Retries (consensus, donation requests) and free-space reports; call about once a second.
  void Tick();

  // `weave rmpeer`: takes over every range of the peer named (name or nickname); returns how
  // many addresses moved. Refused for ourselves and for a reachable peer.
  absl::StatusOr<uint64_t> RemovePeer(absl::string_view name_or_nickname);
  // After two separately seeded rings met (Status().conflict): drops our ring for the one we
  // conflict with, then asks that ring's owners for each address we hold, waiting for the
  // answers until `deadline`. Addresses the other side holds as well are `collisions`: those
  // pods must be restarted. FailedPrecondition when there is no conflict.
  struct YieldResult {
    uint64_t reclaimed = 0;
    std::vector<Allocation> collisions;
    std::vector<Allocation> unanswered;  // owner unreachable or silent before the deadline
  };
  absl::StatusOr<YieldResult> Yield(absl::Time deadline);
  // `weave reset`: gives every range we own to a live peer (one that owns space if any), so
  // that no address space is lost with this node. Returns the heir, or nullopt when we owned
  // nothing; FailedPrecondition when no peer is reachable (the space stays ours until a peer
  // runs rmpeer).
  absl::StatusOr<std::optional<PeerName>> Handoff();
  // Ends waits in Allocate/Claim (they return Unavailable); used when the router stops.
  void Shutdown();
  bool Ready() const;
  RingStatus Status() const;

 private:
  RingAllocator(RingAllocatorOptions options, Store* store, IpamNetwork* network);

  absl::Status HandleStateLocked(PeerName from, const v1::GossipState& state)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EstablishRingLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ThinkLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // After any change of ownership: persist the ring, rebuild the free space, wake waiters and,
  // when asked, tell every peer.
  void RingChangedLocked(bool broadcast) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RebuildSpaceLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RequestSpaceLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Reachable peers to ask for space, likeliest first, without those that refused lately.
  std::vector<PeerName> DonorsLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Gives `to` free space inside [start, end): the biggest aligned free block (half of it when
  // it is most of what we have), or exactly the one address asked for.
  void DonateLocked(PeerName to, uint64_t start, uint64_t end) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReportFreeLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  v1::GossipState StateLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Waits until the ring changes, Shutdown, or `deadline`; false when the wait must end.
  bool WaitLocked(absl::Time deadline) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string WaitingForLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CommitLocked(const Allocation& allocation) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Usable(net::Ipv4 ip) const;
  bool OwnedLocked(net::Ipv4 ip) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const RingAllocatorOptions options_;
  Store* const store_;
  IpamNetwork* const network_;

  mutable absl::Mutex mu_;
  absl::CondVar changed_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  Ring ring_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Paxos> paxos_ ABSL_GUARDED_BY(mu_);  // consensus mode, until the ring exists
  bool proposed_ ABSL_GUARDED_BY(mu_) = false;  // we needed the ring and proposed
  bool participating_ ABSL_GUARDED_BY(mu_) = false;  // in a consensus round (ours or a peer's)
  absl::Time last_proposal_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  Space free_ ABSL_GUARDED_BY(mu_);
  AllocationIndex held_ ABSL_GUARDED_BY(mu_);
  std::map<PeerName, std::string> nicknames_ ABSL_GUARDED_BY(mu_);
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_space_request_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::set<PeerName> denied_ ABSL_GUARDED_BY(mu_);  // donors that had nothing, since the last change
  // Peers whose ring conflicts with ours, with the error and their latest ring.
  struct Conflict {
    std::string message;
    Ring ring;
  };
  std::map<PeerName, Conflict> conflicts_ ABSL_GUARDED_BY(mu_);
  // Single addresses asked back after a Yield, and the answers so far.
  std::set<uint32_t> claims_denied_ ABSL_GUARDED_BY(mu_);
  absl::Time last_conflict_log_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace weave::ipam
