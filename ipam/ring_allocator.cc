#include "ipam/ring_allocator.h"

#include <algorithm>
#include <cstdlib>
#include <tuple>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "spdlog/spdlog.h"

namespace weave::ipam {
namespace {

constexpr char kRingKey[] = "ring";
// Repeated conflict reports (every gossip round) are logged at most this often.
constexpr absl::Duration kConflictLogInterval = absl::Seconds(30);
// How long Claim waits for another peer to give the address asked for.
constexpr absl::Duration kClaimWait = absl::Seconds(5);

double Random01() {
  static thread_local std::mt19937_64 generator{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(generator);
}


// The biggest block [start, start + size) of a power-of-two size, aligned to its size, inside
// the free intervals of `space` within [within_start, within_end).
std::pair<uint64_t, uint64_t> BiggestAlignedBlock(const Space& space, uint64_t within_start,
                                                  uint64_t within_end) {
  uint64_t best_start = 0;
  uint64_t best_size = 0;
  for (const auto& [first, last] : space.intervals()) {
    const uint64_t begin = std::max<uint64_t>(first, within_start);
    const uint64_t end = std::min<uint64_t>(uint64_t{last} + 1, within_end);
    if (begin >= end) continue;
    for (uint64_t size = uint64_t{1} << 32; size > best_size; size >>= 1) {
      uint64_t start = (begin + size - 1) & ~(size - 1);
      if (start + size <= end) {
        best_start = start;
        best_size = size;
        break;
      }
    }
  }
  return {best_start, best_size};
}

// Whether `peer`'s entries in `ring` report free addresses.
bool ReportsFree(const Ring& ring, PeerName peer) {
  for (const RingEntry& entry : ring.entries()) {
    if (entry.peer == peer && entry.free > 0) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<bool> RingAllocator::HasStoredRing(Store* store) {
  ASSIGN_OR_RETURN(std::optional<std::string> stored_ring, store->GetMetadata(kRingKey));
  return stored_ring && !stored_ring->empty();
}

absl::Status RingAllocator::ForgetStored(Store* store) {
  ASSIGN_OR_RETURN(std::vector<Allocation> stored, store->LoadAllocations());
  for (const Allocation& allocation : stored) {
    RETURN_IF_ERROR(store->DeleteAllocations(allocation.container_id, ""));
  }
  return store->SetMetadata(kRingKey, "");
}

absl::StatusOr<std::unique_ptr<RingAllocator>> RingAllocator::Create(RingAllocatorOptions options,
                                                                     Store* store,
                                                                     IpamNetwork* network) {
  const net::Cidr range = options.range;
  if (!range.IsNetwork() || range.prefix_length() > 30) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the allocation range ", range.ToString(), " must be a network of at least 4 addresses"));
  }
  std::unique_ptr<RingAllocator> allocator(new RingAllocator(std::move(options), store, network));
  RingAllocator& a = *allocator;
  absl::MutexLock lock(&a.mu_);
  ASSIGN_OR_RETURN(std::optional<std::string> stored_ring, store->GetMetadata(kRingKey));
  if (stored_ring && !stored_ring->empty()) {
    v1::Ring proto;
    absl::StatusOr<Ring> ring = proto.ParseFromString(*stored_ring)
                                    ? Ring::FromProto(proto, a.options_.self)
                                    : absl::InvalidArgumentError("not a ring");
    if (!ring.ok()) {
      spdlog::warn("Ignoring the stored IPAM ring: {}", ring.status().message());
    } else if (ring->start() != a.ring_.start() || ring->end() != a.ring_.end()) {
      spdlog::warn("Ignoring the stored IPAM ring: it is for another range than {}",
                   range.ToString());
    } else {
      a.ring_ = *std::move(ring);
    }
  }
  ASSIGN_OR_RETURN(std::vector<Allocation> stored, store->LoadAllocations());
  for (const Allocation& allocation : stored) {
    a.held_.Add(allocation);
  }
  if (a.ring_.Empty() && a.options_.init.kind == InitMode::Kind::kSeed) {
    a.ring_.ClaimForPeers(a.options_.init.seed);
    spdlog::info("IPAM: ring seeded by {} peer(s) as configured", a.options_.init.seed.size());
    RETURN_IF_ERROR(store->SetMetadata(kRingKey, a.ring_.ToProto().SerializeAsString()));
  }
  if (a.ring_.Empty() && !a.held_.empty()) {
    spdlog::warn("IPAM: {} stored allocation(s) but no ring; they are kept and re-checked once "
                 "the ring exists", a.held_.size());
  }
  a.RebuildSpaceLocked();
  return allocator;
}

RingAllocator::RingAllocator(RingAllocatorOptions options, Store* store, IpamNetwork* network)
    : options_(std::move(options)),
      store_(store),
      network_(network),
      ring_(options_.range.network().value(), uint64_t{options_.range.last().value()} + 1,
            options_.self) {
  nicknames_[options_.self] = options_.nickname;
  if (options_.init.kind == InitMode::Kind::kConsensus) {
    paxos_ = std::make_unique<Paxos>(NodeId{options_.self, options_.uid}, Paxos::QuorumFor(options_.init.consensus_size));
  }
}

bool RingAllocator::Usable(net::Ipv4 ip) const {
  const net::Cidr& range = options_.range;
  return range.Contains(ip) && ip != range.network() && ip != range.last();
}

bool RingAllocator::OwnedLocked(net::Ipv4 ip) const {
  std::optional<PeerName> owner = ring_.Owner(ip.value());
  return owner && *owner == options_.self;
}

void RingAllocator::RebuildSpaceLocked() {
  free_ = Space();
  const uint64_t first_usable = options_.range.network().value() + uint64_t{1};
  const uint64_t last_usable = options_.range.last().value() - uint64_t{1};
  for (const AddressRange& range : ring_.Owned()) {
    uint64_t first = std::max(range.start, first_usable);
    uint64_t last = std::min(range.end - 1, last_usable);
    if (first <= last) {
      free_.AddFree(net::Ipv4(static_cast<uint32_t>(first)), net::Ipv4(static_cast<uint32_t>(last)));
    }
  }
  for (const auto& [ip, allocation] : held_.by_address()) free_.Take(ip);
}

void RingAllocator::RingChangedLocked(bool broadcast) {
  if (absl::Status saved = store_->SetMetadata(kRingKey, ring_.ToProto().SerializeAsString());
      !saved.ok()) {
    // The ring is re-derivable from peers; allocations (written before use) are what matter.
    spdlog::error("IPAM: persisting the ring: {}", saved.message());
  }
  RebuildSpaceLocked();
  denied_.clear();
  changed_.SignalAll();
  if (broadcast && network_ != nullptr) network_->Broadcast(StateLocked().SerializeAsString());
}

v1::GossipState RingAllocator::StateLocked() const {
  v1::GossipState state;
  state.set_now_unix(absl::ToUnixSeconds(absl::Now()));
  for (const auto& [name, nickname] : nicknames_) (*state.mutable_nicknames())[name.value()] = nickname;
  if (!ring_.Empty()) {
    *state.mutable_ring() = ring_.ToProto();
  } else if (paxos_ != nullptr && participating_) {
    *state.mutable_paxos() = paxos_->ToProto();
  }
  state.set_observer(options_.init.kind == InitMode::Kind::kObserver);
  return state;
}

void RingAllocator::EstablishRingLocked() {
  if (!ring_.Empty() || paxos_ == nullptr) return;
  absl::Time now = absl::Now();
  if (proposed_ && now - last_proposal_ < 5 * options_.retry) return;
  if (!proposed_) {
    spdlog::info("IPAM: starting consensus for the ring (quorum {})", paxos_->quorum());
  }
  proposed_ = true;
  participating_ = true;
  last_proposal_ = now;
  paxos_->Propose();
  ThinkLocked();
  if (network_ != nullptr) network_->Broadcast(StateLocked().SerializeAsString());
}

void RingAllocator::ThinkLocked() {
  if (paxos_ == nullptr || !ring_.Empty()) return;
  bool changed = paxos_->Think();
  if (std::optional<AcceptedValue> agreed = paxos_->Consensus()) {
    ring_.ClaimForPeers(agreed->value);
    std::vector<std::string> names;
    for (PeerName peer : agreed->value) names.push_back(peer.ToString());
    spdlog::info("IPAM: consensus reached; the ring is split between {}", absl::StrJoin(names, ", "));
    RingChangedLocked(/*broadcast=*/true);
    return;
  }
  if (changed && network_ != nullptr) network_->Broadcast(StateLocked().SerializeAsString());
}

absl::Status RingAllocator::HandleStateLocked(PeerName from, const v1::GossipState& state) {
  for (const auto& [name, nickname] : state.nicknames()) {
    if (name != 0 && name <= 0xffffffffffffULL) nicknames_[PeerName(name)] = nickname.substr(0, 255);
  }
  if (state.has_ring()) {
    ASSIGN_OR_RETURN(Ring theirs, Ring::FromProto(state.ring(), options_.self));
    // Judged by the allocations we actually hold, not by reported free counts.
    absl::StatusOr<bool> merged =
        ring_.Merge(theirs, [this](const std::vector<AddressRange>& ranges) {
          mu_.AssertHeld();
          for (const AddressRange& range : ranges) {
            if (held_.AnyIn(range.start, range.end)) return true;
          }
          return false;
        });
    if (!merged.ok()) {
      std::string message = absl::StrCat(merged.status().message(), " (peer ", from.ToString(),
                                         "): run 'weave ipam-yield' on every node of the side "
                                         "that should give way");
      conflicts_.insert_or_assign(from, Conflict{message, std::move(theirs)});
      absl::Time now = absl::Now();
      if (now - last_conflict_log_ > kConflictLogInterval) {
        last_conflict_log_ = now;
        spdlog::error("IPAM: {}. Both sides keep their own rings meanwhile", message);
      }
      return absl::OkStatus();
    }
    conflicts_.erase(from);
    if (*merged) RingChangedLocked(/*broadcast=*/false);
    return absl::OkStatus();
  }
  if (!ring_.Empty()) {
    // The sender has no ring yet (or an observer asks): give it ours.
    if (network_ != nullptr) {
      v1::Unicast reply;
      *reply.mutable_ring_update() = StateLocked();
      (void)network_->Unicast(from, reply.SerializeAsString());
    }
    return absl::OkStatus();
  }
  if (state.has_paxos() && paxos_ != nullptr) {
    ASSIGN_OR_RETURN(bool changed, paxos_->Merge(state.paxos()));
    // Someone is running consensus: take part (promise and accept; only a peer that needs the
    // ring proposes, so that rival proposals do not chase each other).
    if (!participating_) {
      participating_ = true;
      changed = true;
    }
    if (changed) ThinkLocked();
  }
  return absl::OkStatus();
}

absl::Status RingAllocator::OnGossip(PeerName sender, absl::string_view payload) {
  v1::GossipState state;
  if (!state.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return absl::InvalidArgumentError("malformed IPAM gossip");
  }
  absl::MutexLock lock(&mu_);
  return HandleStateLocked(sender, state);
}

absl::Status RingAllocator::OnBroadcast(PeerName source, absl::string_view payload) {
  return OnGossip(source, payload);
}

absl::Status RingAllocator::OnUnicast(PeerName source, absl::string_view payload) {
  v1::Unicast message;
  if (!message.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return absl::InvalidArgumentError("malformed IPAM message");
  }
  absl::MutexLock lock(&mu_);
  switch (message.body_case()) {
    case v1::Unicast::kRingUpdate:
      return HandleStateLocked(source, message.ring_update());
    case v1::Unicast::kSpaceRequest:
      DonateLocked(source, message.space_request().start(), message.space_request().end());
      return absl::OkStatus();
    case v1::Unicast::kSpaceRequestDenied: {
      const v1::SpaceRequest& denied = message.space_request_denied();
      if (denied.end() == uint64_t{denied.start()} + 1) {
        claims_denied_.insert(denied.start());
      } else if (!ReportsFree(ring_, source)) {
        // A denial sent before the donor freed space can arrive after its newer free report
        // (which forgot older denials); believe the report and ask again after the retry
        // interval. Once the donor reports 0 free, its denials stick until the ring changes.
        denied_.insert(source);
      }
      changed_.SignalAll();
      return absl::OkStatus();
    }
    default:
      return absl::InvalidArgumentError("IPAM message without a body");
  }
}

std::string RingAllocator::FullState() {
  absl::MutexLock lock(&mu_);
  return StateLocked().SerializeAsString();
}

void RingAllocator::DonateLocked(PeerName to, uint64_t start, uint64_t end) {
  v1::Unicast reply;
  uint64_t block_start = 0;
  uint64_t size = 0;
  if (end == start + 1) {
    // A claim for one address (a peer re-claiming what it holds after yielding its ring).
    if (start <= 0xffffffffULL && free_.IsFree(net::Ipv4(static_cast<uint32_t>(start)))) {
      block_start = start;
      size = 1;
    }
  } else {
    std::tie(block_start, size) = BiggestAlignedBlock(free_, start, end);
    // Keep at least half: donate the upper half of a block that is most of our space.
    if (size > 1 && size * 2 > free_.FreeCount()) {
      block_start += size / 2;
      size /= 2;
    }
  }
  if (size == 0 || to == options_.self) {
    reply.mutable_space_request_denied()->set_start(static_cast<uint32_t>(start));
    reply.mutable_space_request_denied()->set_end(end);
    (void)network_->Unicast(to, reply.SerializeAsString());
    return;
  }
  ring_.GrantRangeToHost(block_start, block_start + size, to);
  spdlog::info("IPAM: gave {} address(es) from {} to {}", size,
               net::Ipv4(static_cast<uint32_t>(block_start)).ToString(), to.ToString());
  RingChangedLocked(/*broadcast=*/true);
  *reply.mutable_ring_update() = StateLocked();
  (void)network_->Unicast(to, reply.SerializeAsString());
}

std::vector<PeerName> RingAllocator::DonorsLocked() const {
  std::set<PeerName> reachable = network_ != nullptr ? network_->Reachable() : std::set<PeerName>{};
  std::vector<PeerName> donors;
  auto consider = [&](PeerName peer) {
    if (peer == options_.self || denied_.count(peer) || !reachable.count(peer)) return;
    if (std::find(donors.begin(), donors.end(), peer) == donors.end()) donors.push_back(peer);
  };
  // Peers reporting free space first; then every other owner, since reported free counts lag
  // behind (only a denial proves a peer has nothing to give).
  for (PeerName peer : ring_.ChoosePeersToAskForSpace(ring_.start(), ring_.end(), Random01)) {
    consider(peer);
  }
  for (const auto& [peer, size] : ring_.OwnershipSizes()) consider(peer);
  return donors;
}

void RingAllocator::RequestSpaceLocked() {
  absl::Time now = absl::Now();
  if (now - last_space_request_ < options_.retry) return;
  last_space_request_ = now;
  for (PeerName donor : DonorsLocked()) {
    v1::Unicast request;
    request.mutable_space_request()->set_start(static_cast<uint32_t>(ring_.start()));
    request.mutable_space_request()->set_end(ring_.end());
    if (network_->Unicast(donor, request.SerializeAsString()).ok()) {
      spdlog::info("IPAM: out of addresses; asked {} for space", donor.ToString());
      return;
    }
  }
}

void RingAllocator::ReportFreeLocked() {
  if (ring_.Empty()) return;
  auto free_in = [this](const AddressRange& range) {
    mu_.AssertHeld();
    uint64_t count = 0;
    for (const auto& [first, last] : free_.intervals()) {
      uint64_t lo = std::max<uint64_t>(first, range.start);
      uint64_t hi = std::min<uint64_t>(uint64_t{last} + 1, range.end);
      if (lo < hi) count += hi - lo;
    }
    return count;
  };
  if (ring_.ReportFree(free_in)) RingChangedLocked(/*broadcast=*/true);
}

void RingAllocator::Tick() {
  absl::MutexLock lock(&mu_);
  if (ring_.Empty()) {
    if (proposed_) EstablishRingLocked();  // re-propose when stuck
    // Keep the round alive for peers that (re)connect or missed a broadcast.
    if (participating_ && network_ != nullptr) {
      network_->Broadcast(StateLocked().SerializeAsString());
    }
    return;
  }
  ReportFreeLocked();
  if (waiting_ > 0 && free_.FreeCount() == 0) RequestSpaceLocked();
}

bool RingAllocator::WaitLocked(absl::Time deadline) {
  if (stopping_) return false;
  absl::Time now = absl::Now();
  if (now >= deadline) return false;
  // Wake at least every retry interval to ask again.
  changed_.WaitWithDeadline(&mu_, std::min(deadline, now + options_.retry));
  return !stopping_;
}

std::string RingAllocator::WaitingForLocked() const {
  if (ring_.Empty()) {
    if (paxos_ != nullptr) {
      return absl::StrCat("IPAM is awaiting consensus (quorum: ", paxos_->quorum(),
                          ", known: ", paxos_->known(), ")");
    }
    return "IPAM has no ring yet (waiting for a peer to share it)";
  }
  return "no address was granted by a peer in time";
}

absl::StatusOr<Allocation> RingAllocator::Allocate(const AllocationRequest& req) {
  RETURN_IF_ERROR(CheckOwner(req.container_id, req.ifname));
  absl::MutexLock lock(&mu_);
  waiting_++;
  struct Done {
    int& waiting;
    ~Done() { waiting--; }
  } done{waiting_};
  while (true) {
    if (const Allocation* held = held_.FindOwner(req.container_id, req.ifname)) return *held;
    if (ring_.Empty()) {
      EstablishRingLocked();
      // A quorum of one agrees at once: allocate now, not after a retry interval's wait.
      if (!ring_.Empty()) continue;
    } else if (std::optional<net::Ipv4> ip = free_.Lowest()) {
      Allocation allocation{req.container_id, req.ifname,
                            net::Cidr(*ip, options_.range.prefix_length()), req.pod_namespace,
                            req.pod_name};
      RETURN_IF_ERROR(CommitLocked(allocation));
      return allocation;
    } else {
      // Out of space: ask the peers that may have some, until every one of them said no.
      if (DonorsLocked().empty()) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "no free address in ", options_.range.ToString(),
            ": every reachable peer's part is allocated"));
      }
      RequestSpaceLocked();
    }
    if (!WaitLocked(req.deadline)) {
      if (stopping_) return absl::UnavailableError("the router is stopping");
      return absl::DeadlineExceededError(absl::StrCat("no address in time: ", WaitingForLocked()));
    }
  }
}

absl::StatusOr<Allocation> RingAllocator::Claim(const Allocation& requested) {
  RETURN_IF_ERROR(CheckOwner(requested.container_id, requested.ifname));
  net::Ipv4 ip = requested.address.address();
  if (!Usable(ip)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot claim ", ip.ToString(), ": it is ",
        options_.range.Contains(ip) ? "the network or broadcast address of "
                                    : "outside the allocation range ",
        options_.range.ToString()));
  }
  Allocation allocation = requested;
  allocation.address = net::Cidr(ip, options_.range.prefix_length());
  absl::MutexLock lock(&mu_);
  if (const Allocation* held = held_.FindOwner(allocation.container_id, allocation.ifname)) {
    if (held->address.address() == ip) return *held;
    return OwnerHoldsError(*held);
  }
  if (const Allocation* holder = held_.FindAddress(ip)) return AddressHeldError(*holder);
  if (ring_.Empty()) {
    return absl::UnavailableError(absl::StrCat("cannot claim ", ip.ToString(),
                                               " before the ring exists"));
  }
  if (!OwnedLocked(ip)) {
    // Another peer's: ask it for exactly this address (it gives it if free), for a while.
    std::optional<PeerName> owner = ring_.Owner(ip.value());
    if (owner && network_ != nullptr) {
      claims_denied_.erase(ip.value());
      v1::Unicast claim;
      claim.mutable_space_request()->set_start(ip.value());
      claim.mutable_space_request()->set_end(uint64_t{ip.value()} + 1);
      if (network_->Unicast(*owner, claim.SerializeAsString()).ok()) {
        const absl::Time deadline = absl::Now() + kClaimWait;
        while (!OwnedLocked(ip) && !claims_denied_.count(ip.value()) && !stopping_ &&
               absl::Now() < deadline) {
          changed_.WaitWithDeadline(&mu_, deadline);
        }
      }
    }
    if (!OwnedLocked(ip)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot claim ", ip.ToString(), ": it belongs to peer ",
          owner ? owner->ToString() : std::string("(none)"),
          claims_denied_.count(ip.value()) ? ", which holds it" : ", which did not give it"));
    }
    if (const Allocation* holder = held_.FindAddress(ip)) {
      return AddressHeldError(*holder);  // taken while we waited
    }
  }
  RETURN_IF_ERROR(CommitLocked(allocation));
  return allocation;
}

absl::Status RingAllocator::CommitLocked(const Allocation& allocation) {
  // Persist first: a crash after this line keeps the address; one before it never handed it out.
  if (absl::Status st = store_->InsertAllocation(allocation); !st.ok()) {
    return absl::Status(st.code(), absl::StrCat("recording ", allocation.address.address().ToString(),
                                                " for ", DescribeOwner(allocation), ": ",
                                                st.message()));
  }
  net::Ipv4 ip = allocation.address.address();
  held_.Add(allocation);
  if (!free_.Take(ip)) {
    spdlog::critical("IPAM: committed {} which was not free in our space", ip.ToString());
    std::abort();
  }
  return absl::OkStatus();
}

absl::Status RingAllocator::Release(absl::string_view container_id, absl::string_view ifname) {
  if (container_id.empty()) return absl::InvalidArgumentError("the container ID is empty");
  absl::MutexLock lock(&mu_);
  if (!held_.Holds(container_id, ifname)) return absl::OkStatus();
  RETURN_IF_ERROR(store_->DeleteAllocations(container_id, ifname));
  for (net::Ipv4 ip : held_.Remove(container_id, ifname)) {
    // Only space we own returns to our pool; an address in a range we no longer own is simply
    // forgotten (its new owner never saw it as free while we held it).
    if (Usable(ip) && OwnedLocked(ip)) free_.Free(ip);
  }
  changed_.SignalAll();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Allocation>> RingAllocator::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<Allocation> result;
  for (const auto& [ip, allocation] : held_.by_address()) result.push_back(allocation);
  return result;
}

uint64_t RingAllocator::ActiveCount() const {
  absl::MutexLock lock(&mu_);
  return held_.size();
}

absl::StatusOr<uint64_t> RingAllocator::RemovePeer(absl::string_view name_or_nickname) {
  absl::MutexLock lock(&mu_);
  std::optional<PeerName> target;
  if (absl::StatusOr<PeerName> parsed = PeerName::Parse(name_or_nickname); parsed.ok()) {
    target = *parsed;
  } else {
    for (const auto& [name, nickname] : nicknames_) {
      if (nickname == name_or_nickname) target = name;
    }
  }
  if (!target) {
    return absl::NotFoundError(absl::StrCat("no peer named ", name_or_nickname));
  }
  if (*target == options_.self) {
    return absl::InvalidArgumentError("cannot remove ourselves: run rmpeer on another peer");
  }
  if (network_ != nullptr && network_->Reachable().count(*target)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "peer ", target->ToString(), " is still connected; remove it once it is gone"));
  }
  uint64_t moved = ring_.Transfer(*target, options_.self);
  if (moved > 0) {
    spdlog::info("IPAM: took over {} address(es) from {}", moved, target->ToString());
    RingChangedLocked(/*broadcast=*/true);
  }
  return moved;
}

absl::StatusOr<RingAllocator::YieldResult> RingAllocator::Yield(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  if (conflicts_.empty()) {
    return absl::FailedPreconditionError(
        "there is no IPAM conflict to yield to (weave status shows one when two separately "
        "seeded rings meet)");
  }
  auto [peer, conflict] = *conflicts_.begin();
  spdlog::warn("IPAM: yielding: dropping our ring for peer {}'s", peer.ToString());
  ring_.Clear();
  absl::StatusOr<bool> adopted =
      ring_.Merge(conflict.ring, [](const std::vector<AddressRange>&) { return false; });
  if (!adopted.ok()) return adopted.status();  // cannot happen on an empty ring
  conflicts_.clear();
  claims_denied_.clear();
  RingChangedLocked(/*broadcast=*/true);

  // Ask each address we hold back from its owner in the adopted ring.
  std::vector<Allocation> pending;
  for (const auto& [ip, allocation] : held_.by_address()) {
    if (OwnedLocked(ip)) continue;
    pending.push_back(allocation);
    std::optional<PeerName> owner = ring_.Owner(ip.value());
    if (!owner || network_ == nullptr) continue;
    v1::Unicast claim;
    claim.mutable_space_request()->set_start(ip.value());
    claim.mutable_space_request()->set_end(uint64_t{ip.value()} + 1);
    (void)network_->Unicast(*owner, claim.SerializeAsString());
  }
  YieldResult result;
  auto settled = [&] {
    for (const Allocation& allocation : pending) {
      net::Ipv4 ip = allocation.address.address();
      if (!OwnedLocked(ip) && !claims_denied_.count(ip.value())) return false;
    }
    return true;
  };
  while (!settled() && !stopping_ && absl::Now() < deadline) {
    changed_.WaitWithDeadline(&mu_, deadline);
  }
  for (const Allocation& allocation : pending) {
    net::Ipv4 ip = allocation.address.address();
    if (OwnedLocked(ip)) {
      result.reclaimed++;
    } else if (claims_denied_.count(ip.value())) {
      result.collisions.push_back(allocation);
      spdlog::error("IPAM: {} is also allocated on the other side: restart {}", ip.ToString(),
                    DescribeOwner(allocation));
    } else {
      result.unanswered.push_back(allocation);
    }
  }
  return result;
}

absl::StatusOr<std::optional<PeerName>> RingAllocator::Handoff() {
  absl::MutexLock lock(&mu_);
  std::map<PeerName, uint64_t> owners = ring_.OwnershipSizes();
  if (ring_.Empty() || !owners.count(options_.self)) return std::optional<PeerName>();
  std::set<PeerName> reachable = network_ != nullptr ? network_->Reachable() : std::set<PeerName>{};
  reachable.erase(options_.self);
  if (reachable.empty()) {
    return absl::FailedPreconditionError(
        "no live peer to hand this node's addresses to; run 'weave rmpeer' on a peer later");
  }
  PeerName heir = *reachable.begin();
  for (PeerName peer : reachable) {
    if (owners.count(peer)) {
      heir = peer;
      break;
    }
  }
  uint64_t moved = ring_.Transfer(options_.self, heir);
  spdlog::info("IPAM: handed {} address(es) to {} before reset", moved, heir.ToString());
  RingChangedLocked(/*broadcast=*/true);
  return std::optional<PeerName>(heir);
}

void RingAllocator::Shutdown() {
  absl::MutexLock lock(&mu_);
  stopping_ = true;
  changed_.SignalAll();
}

bool RingAllocator::Ready() const {
  absl::MutexLock lock(&mu_);
  return !ring_.Empty();
}

RingStatus RingAllocator::Status() const {
  absl::MutexLock lock(&mu_);
  RingStatus status;
  status.pending_allocations = static_cast<uint64_t>(waiting_);
  if (!conflicts_.empty()) status.conflict = conflicts_.begin()->second.message;
  std::set<PeerName> reachable =
      network_ != nullptr ? network_->Reachable() : std::set<PeerName>{options_.self};
  if (ring_.Empty()) {
    if (paxos_ != nullptr && participating_) {
      status.state = RingStatus::State::kAwaitingConsensus;
      status.quorum = paxos_->quorum();
      status.known = paxos_->known();
    }
    return status;
  }
  const std::vector<RingEntry>& entries = ring_.entries();
  bool any_reachable_owner = false;
  for (size_t i = 0; i < entries.size(); ++i) {
    RingStatus::Entry entry;
    entry.token = entries[i].token;
    entry.size = ring_.EntrySize(i);
    entry.peer = entries[i].peer;
    auto nick = nicknames_.find(entry.peer);
    entry.nickname = nick == nicknames_.end() ? "" : nick->second;
    entry.reachable = reachable.count(entry.peer) > 0;
    entry.version = entries[i].version;
    entry.free = entries[i].free;
    any_reachable_owner = any_reachable_owner || entry.reachable;
    status.entries.push_back(entry);
  }
  if (!any_reachable_owner) {
    status.state = RingStatus::State::kAllUnreachable;
  } else if (waiting_ > 0 && free_.FreeCount() == 0) {
    status.state = RingStatus::State::kWaitingForSpace;
  } else {
    status.state = RingStatus::State::kReady;
  }
  return status;
}

}  // namespace weave::ipam
