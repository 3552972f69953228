// A randomized simulation of the distributed allocator: N RingAllocators (consensus=N), each on
// its own FakeStore, joined by an in-memory mesh that reorders, loses and duplicates messages and
// can be partitioned in two. Peers allocate, claim, release, tick and gossip; they crash and
// restart from their store (a new incarnation: a new uid), are reset (weave reset: Handoff, then
// back under the same name with an empty store) and, once dead, removed by rmpeer. After every
// step:
//
//   (1) no address is held by two live containers, across all peers (the core promise);
//   (2) every address a peer holds (running, or in its store while it is down) lies in a range
//       its own ring says it owns. RingAllocator never gives such a range up: it donates free
//       space only and refuses, as a conflict, a merge that would take it. Only rmpeer and
//       Handoff move a range with allocations, and here their containers die with the peer;
//   (2b) no two peers (running, or down with a stored ring) think they own the same address;
//   (3) every ring is well formed: tokens sorted and unique, each address owned once;
//   and no peer reports a conflict. After a heal and delivery without loss (Settle):
//   (4) every peer has the ring, all rings are equal, and every owner's free counts are exact;
//   (5) at the end, one peer gets every free address through donations, and hears
//       ResourceExhausted only once all are held.
//
// What a run avoids, because it is unsafe by design (the last three tests show why):
//   - a peer whose earlier incarnation voted in consensus votes again (paxos.h: it counts twice
//     and two quorums need not overlap): it comes back only while no peer without the ring runs;
//   - rmpeer, or the return of a reset node, before every other peer has seen the ranges the
//     peer handed out: rmpeer runs after a settle, a reset node returns after one, and a
//     removed peer never returns.
// Claim of an address another reachable peer owns waits seconds for that peer's answer, which
// only another thread could deliver; the simulation sends that one-address request itself.
//
// Not fully deterministic: RingAllocator reads the real clock (retry intervals) and draws donors
// from its own generator. A failure prints its seed and the steps that led to it;
// WEAVE_IPAM_SIM_SEEDS, _FIRST_SEED and _STEPS widen or replay a run, and
// WEAVE_IPAM_SIM_UNSAFE_RMPEER, _RESTARTS or _RESET=1 lift one of the rules above, to watch it
// fail.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "ipam/fake_store.h"
#include "ipam/ring.h"
#include "ipam/ring_allocator.h"
#include "spdlog/spdlog.h"

namespace weave::ipam {
namespace {

constexpr char kIfname[] = "eth0";
// Steps kept for the failure report.
constexpr size_t kTraceLength = 200;
// Settling gives up after this many rounds of tick, gossip and full delivery.
constexpr int kMaxSettleRounds = 3000;

// Quiets the allocator's logs for the length of a test.
class QuietLogs {
 public:
  QuietLogs() : level_(spdlog::get_level()) { spdlog::set_level(spdlog::level::critical); }
  ~QuietLogs() { spdlog::set_level(level_); }

 private:
  spdlog::level::level_enum level_;
};

struct SimOptions {
  uint64_t seed = 1;
  int peers = 3;
  const char* range = "10.9.0.0/26";
  double loss = 0.1;          // a delivered message is dropped instead
  double duplication = 0.05;  // a delivered message stays queued for another delivery
  // Off only to explore what the header comments call unsafe.
  bool settle_before_rmpeer = true;
  bool guard_consensus_restarts = true;
  bool settle_before_return_after_reset = true;
};

struct SimMessage {
  enum class Kind { kGossip, kBroadcast, kUnicast };
  Kind kind;
  size_t from;
  size_t to;
  std::string payload;
};

class Simulation;

// One peer's side of the simulated mesh: sends go into the simulation's queue.
class SimNetwork final : public IpamNetwork {
 public:
  SimNetwork(Simulation& sim, size_t self) : sim_(sim), self_(self) {}
  void Broadcast(const std::string& payload) override;
  absl::Status Unicast(PeerName to, const std::string& payload) override;
  std::set<PeerName> Reachable() override;

 private:
  Simulation& sim_;
  const size_t self_;
};

struct SimPeer {
  enum class State { kRunning, kStopped, kRemoved };
  PeerName name;
  std::string nickname;
  std::unique_ptr<FakeStore> store = std::make_unique<FakeStore>();
  std::unique_ptr<SimNetwork> network;
  std::unique_ptr<RingAllocator> allocator;  // null unless running
  State state = State::kStopped;
  int side = 0;
  // An incarnation took part in consensus and none has had the ring since.
  bool voted_without_ring = false;
  // This incarnation started after an earlier one voted: it must never vote with other peers.
  bool must_not_vote = false;
  uint64_t owned = 0;  // addresses its ring gave it at the last check
  // Reset (weave reset: space handed off, store wiped); comes back once the others agree on it.
  bool reset_pending = false;
};

// What the test believes a container holds.
struct Held {
  size_t peer;
  net::Ipv4 ip;
};

// A peer's state as the checks see it: from the running allocator, or from its store.
struct PeerView {
  Ring ring;
  std::vector<Allocation> allocations;
  bool ready = false;
};

class Simulation {
 public:
  explicit Simulation(const SimOptions& options)
      : options_(options),
        rng_(options.seed),
        range_(*net::Cidr::Parse(options.range)),
        quorum_(Paxos::QuorumFor(options.peers)) {
    for (int i = 0; i < options.peers; ++i) {
      auto peer = std::make_unique<SimPeer>();
      peer->name = PeerName(0x0a0000000001ULL + i);
      peer->nickname = absl::StrCat("p", i);
      peer->network = std::make_unique<SimNetwork>(*this, i);
      peers_.push_back(std::move(peer));
    }
    for (size_t i = 0; i < peers_.size(); ++i) Start(i);
  }

  ~Simulation() {
    // Allocators hold pointers to the networks and stores; drop them first.
    for (auto& peer : peers_) peer->allocator.reset();
  }

  void Run(int steps) {
    for (int step = 0; step < steps; ++step) {
      step_ = step;
      RandomStep();
      CheckInvariants();
    }
    step_ = steps;
    Trace("final settle");
    Settle(/*start_stopped=*/true, /*keep_down=*/std::nullopt);
    RemoveAgain();
    FillFrom(*PickFrom(Running()));
  }

  // A remover that died before its takeover spread took it along: the removed peer still owns
  // that space (weave status ipam shows it), and the operator runs rmpeer again.
  void RemoveAgain() {
    size_t by = *PickFrom(Running());
    bool removed_any = false;
    for (const auto& [owner, size] : ViewOf(by).ring.OwnershipSizes()) {
      std::optional<size_t> dead = IndexOf(owner);
      if (!dead || peers_[*dead]->state != SimPeer::State::kRemoved) continue;
      absl::StatusOr<uint64_t> moved = peers_[by]->allocator->RemovePeer(owner.ToString());
      Trace(absl::StrCat("rmpeer ", owner.ToString(), " again on ", peers_[by]->nickname, ": ",
                         moved.ok() ? absl::StrCat(*moved) : moved.status().ToString()));
      Require(moved.ok() && *moved == size, "rmpeer again failed");
      removed_any = true;
      ++stats_["removed again"];
    }
    if (removed_any) Settle(/*start_stopped=*/true, std::nullopt);
  }

  // (5) With every peer up and connected, one peer gets every free address of the range, through
  // donations, and hears ResourceExhausted only once all are held.
  void FillFrom(size_t i) {
    const uint64_t usable = uint64_t{range_.last().value()} - range_.network().value() - 1;
    for (int attempt = 0; held_.size() < usable; ++attempt) {
      Require(attempt < 20000, "a peer could not get the free addresses of others");
      absl::StatusOr<Allocation> got = Allocate(i, NewContainer());
      if (got.ok()) {
        ++stats_["filled"];
        continue;
      }
      Require(!absl::IsResourceExhausted(got.status()),
              absl::StrCat("ResourceExhausted with ", usable - held_.size(), " addresses free"));
      // Space requests go out at most once per retry interval.
      ++stats_["fill waits"];
      std::this_thread::sleep_for(std::chrono::microseconds(1100));
      for (size_t j : Running()) peers_[j]->allocator->Tick();
      DeliverAll();
    }
    absl::StatusOr<Allocation> none = Allocate(i, NewContainer());
    for (int attempt = 0; absl::IsDeadlineExceeded(none.status()); ++attempt) {
      // Each attempt asks a peer that has not said no yet.
      Require(attempt < 1000, "a full range never reported ResourceExhausted");
      ++stats_["exhaust waits"];
      std::this_thread::sleep_for(std::chrono::microseconds(1100));
      DeliverAll();
      none = Allocate(i, NewContainer());
    }
    Require(absl::IsResourceExhausted(none.status()), "a full range handed out another address");
    CheckInvariants();
  }

  // Counters for the test's report.
  std::map<std::string, uint64_t>& stats() { return stats_; }

  // --- The mesh, as the peers' networks see it.

  bool Connected(size_t a, size_t b) const {
    const SimPeer& pa = *peers_[a];
    const SimPeer& pb = *peers_[b];
    return pa.state == SimPeer::State::kRunning && pb.state == SimPeer::State::kRunning &&
           pa.side == pb.side;
  }

  std::set<PeerName> ReachableFrom(size_t self) const {
    std::set<PeerName> reachable{peers_[self]->name};
    for (size_t i = 0; i < peers_.size(); ++i) {
      if (Connected(self, i)) reachable.insert(peers_[i]->name);
    }
    return reachable;
  }

  void Send(SimMessage::Kind kind, size_t from, size_t to, const std::string& payload) {
    queue_.push_back(SimMessage{kind, from, to, payload});
  }

  std::optional<size_t> IndexOf(PeerName name) const {
    for (size_t i = 0; i < peers_.size(); ++i) {
      if (peers_[i]->name == name) return i;
    }
    return std::nullopt;
  }

  // --- Steps that tests may drive directly.

  void Start(size_t i) {
    SimPeer& peer = *peers_[i];
    RingAllocatorOptions options;
    options.range = range_;
    options.self = peer.name;
    options.uid = next_uid_++;
    options.nickname = peer.nickname;
    options.init.kind = InitMode::Kind::kConsensus;
    options.init.consensus_size = options_.peers;
    options.retry = absl::Milliseconds(1);
    absl::StatusOr<std::unique_ptr<RingAllocator>> created =
        RingAllocator::Create(options, peer.store.get(), peer.network.get());
    Require(created.ok(),
            absl::StrCat("Create ", peer.nickname, ": ", created.status().ToString()));
    peer.allocator = *std::move(created);
    peer.state = SimPeer::State::kRunning;
    peer.must_not_vote = peer.voted_without_ring && !peer.allocator->Ready();
    ++stats_["started"];
    Trace(absl::StrCat("start ", peer.nickname, " (uid ", options.uid, ")"));
  }

  void Stop(size_t i) {
    SimPeer& peer = *peers_[i];
    NoteConsensusRole(peer);
    peer.allocator.reset();
    peer.state = SimPeer::State::kStopped;
    // What is in flight to or from it stays queued: delivered if it is back by then (a mesh
    // relays through other peers), lost otherwise.
    Trace(absl::StrCat("stop ", peer.nickname));
  }

  void Partition(const std::vector<int>& sides) {
    for (size_t i = 0; i < peers_.size(); ++i) peers_[i]->side = sides[i];
    ++stats_["partitioned"];
    Trace(absl::StrCat("partition ", absl::StrJoin(sides, "")));
  }

  void Heal() {
    for (auto& peer : peers_) peer->side = 0;
  }

  absl::StatusOr<Allocation> Allocate(size_t i, const std::string& container) {
    AllocationRequest request;
    request.container_id = container;
    request.ifname = kIfname;
    request.deadline = absl::InfinitePast();
    absl::StatusOr<Allocation> result = peers_[i]->allocator->Allocate(request);
    Trace(absl::StrCat(
        "allocate ", container, " on ", peers_[i]->nickname, ": ",
        result.ok() ? result->address.address().ToString() : result.status().ToString()));
    if (result.ok()) {
      Require(range_.Contains(result->address.address()) &&
                  result->address.address() != range_.network() &&
                  result->address.address() != range_.last(),
              "allocated an unusable address");
      auto held = held_.find(container);
      if (held != held_.end()) {
        Require(held->second.peer == i && held->second.ip == result->address.address(),
                "a repeated Allocate returned another address");
      }
      held_[container] = Held{i, result->address.address()};
      ++stats_["allocated"];
    } else {
      absl::StatusCode code = result.status().code();
      Require(code == absl::StatusCode::kDeadlineExceeded ||
                  code == absl::StatusCode::kResourceExhausted ||
                  code == absl::StatusCode::kUnavailable,
              "Allocate failed with an unexpected code");
      bool waiting_for_ring = absl::StrContains(result.status().message(), "consensus");
      ++stats_[absl::StrCat("allocate ", absl::StatusCodeToString(code),
                            waiting_for_ring ? " (no ring)" : "")];
    }
    return result;
  }

  void Release(const std::string& container) {
    size_t i = held_.at(container).peer;
    absl::Status released = peers_[i]->allocator->Release(container, kIfname);
    Trace(absl::StrCat("release ", container, " on ", peers_[i]->nickname, ": ",
                       released.ToString()));
    Require(released.ok(), "Release failed");
    held_.erase(container);
    ++stats_["released"];
  }

  // Delivers queue_[index] unless the network loses it (`lossy`); it may also stay queued to be
  // delivered again.
  void Deliver(size_t index, bool lossy) {
    SimMessage message = queue_[index];
    double roll = std::uniform_real_distribution<double>(0, 1)(rng_);
    bool keep = lossy && roll >= options_.loss && roll < options_.loss + options_.duplication;
    if (!keep) queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(index));
    if (lossy && roll < options_.loss) {
      ++stats_["lost"];
      return;
    }
    if (!Connected(message.from, message.to)) {
      ++stats_["cut"];
      return;
    }
    RingAllocator& to = *peers_[message.to]->allocator;
    PeerName from = peers_[message.from]->name;
    absl::Status handled;
    switch (message.kind) {
      case SimMessage::Kind::kGossip:
        handled = to.OnGossip(from, message.payload);
        break;
      case SimMessage::Kind::kBroadcast:
        handled = to.OnBroadcast(from, message.payload);
        break;
      case SimMessage::Kind::kUnicast:
        handled = to.OnUnicast(from, message.payload);
        break;
    }
    ++stats_["delivered"];
    Require(handled.ok(), absl::StrCat("delivery from ", peers_[message.from]->nickname, " to ",
                                       peers_[message.to]->nickname, ": ", handled.ToString()));
  }

  // Delivers, in order and without loss, the queued messages of `kind` from `from` to `to`.
  void DeliverFrom(size_t from, size_t to, SimMessage::Kind kind) {
    for (size_t k = 0; k < queue_.size();) {
      const SimMessage& m = queue_[k];
      if (m.from == from && m.to == to && m.kind == kind) {
        Deliver(k, /*lossy=*/false);
      } else {
        ++k;
      }
    }
  }

  void DeliverAll() {
    for (int n = 0; !queue_.empty(); ++n) {
      Require(n < 1000000, "messages keep coming");
      Deliver(Pick(queue_.size()), /*lossy=*/false);
    }
  }

  void Gossip(size_t i) {
    std::string state = peers_[i]->allocator->FullState();
    for (size_t j = 0; j < peers_.size(); ++j) {
      if (j != i && Connected(i, j)) Send(SimMessage::Kind::kGossip, i, j, state);
    }
  }

  // Heals, (re)starts the peers that may start (all but `keep_down`, when asked), and ticks,
  // gossips and delivers everything until every running peer has the ring and all rings are
  // equal. Checks (4) then.
  void Settle(bool start_stopped, std::optional<size_t> keep_down) {
    Heal();
    // The running peers may be too few for a quorum.
    bool any_running_ring = false;
    for (size_t i : Running()) any_running_ring = any_running_ring || peers_[i]->allocator->Ready();
    start_stopped = start_stopped || !any_running_ring;
    // Converged twice in a row with the same ring: a round of ticks reported nothing new.
    std::optional<Ring> converged;
    for (int round = 0;; ++round) {
      Require(round < kMaxSettleRounds, "the peers did not converge");
      if (start_stopped) {
        for (size_t i = 0; i < peers_.size(); ++i) {
          if (i != keep_down && peers_[i]->state == SimPeer::State::kStopped && MayStart(i)) {
            Start(i);
          }
        }
      }
      bool any_ring = false;
      for (size_t i : Running()) any_ring = any_ring || peers_[i]->allocator->Ready();
      for (size_t i : Running()) {
        peers_[i]->allocator->Tick();
        // Without any ring somebody must need one, or consensus never starts.
        if (!any_ring && round % 200 == 0) (void)Allocate(i, NewContainer());
      }
      for (size_t i : Running()) Gossip(i);
      DeliverAll();
      std::optional<Ring> ring = ConvergedRing(start_stopped, keep_down);
      if (ring && converged && *ring == *converged) {
        if (!start_stopped || !StartResetPeer(keep_down)) break;
        ring.reset();
      }
      converged = std::move(ring);
      ++stats_["settle rounds"];
      // Consensus re-proposes only after 5 retry intervals of real time.
      if (round > 10) std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    CheckInvariants();
    CheckFreeCounts();
    ++stats_["settled"];
  }

  // rmpeer of the stopped peer `dead` by a running peer, after every other peer that can has
  // caught up with the ring.
  void RemovePeer(size_t dead) {
    if (options_.settle_before_rmpeer) {
      Trace(absl::StrCat("settle before rmpeer of ", peers_[dead]->nickname));
      Settle(/*start_stopped=*/true, dead);
    }
    std::vector<size_t> removers;
    for (size_t i : Running()) {
      if (peers_[i]->allocator->Ready() && !ReachableFrom(i).count(peers_[dead]->name)) {
        removers.push_back(i);
      }
    }
    if (removers.empty()) return;
    size_t by = *PickFrom(removers);
    bool by_nickname = Pick(2) == 0;
    std::string target = by_nickname ? peers_[dead]->nickname : peers_[dead]->name.ToString();
    absl::StatusOr<uint64_t> moved = peers_[by]->allocator->RemovePeer(target);
    if (by_nickname && absl::IsNotFound(moved.status())) {
      // Nicknames are learned from the peer's own gossip and not stored: a remover that
      // restarted since the peer died may not know it.
      Trace(absl::StrCat("rmpeer ", target, " on ", peers_[by]->nickname, ": ",
                         moved.status().ToString()));
      moved = peers_[by]->allocator->RemovePeer(peers_[dead]->name.ToString());
    }
    Trace(absl::StrCat("rmpeer ", target, " on ", peers_[by]->nickname, ": ",
                       moved.ok() ? absl::StrCat(*moved) : moved.status().ToString()));
    Require(moved.ok(), "rmpeer failed");
    peers_[dead]->state = SimPeer::State::kRemoved;
    // Its containers died with it.
    std::erase_if(held_, [dead](const auto& entry) { return entry.second.peer == dead; });
    ++stats_["removed"];
  }

  // weave reset of the running peer `i`: it hands its ranges to a live peer, its pods and its
  // store go, and later the node comes back under the same name (derived from the host) with an
  // empty store.
  void Reset(size_t i) {
    SimPeer& peer = *peers_[i];
    absl::StatusOr<std::optional<PeerName>> heir = peer.allocator->Handoff();
    Trace(absl::StrCat("reset ", peer.nickname, ": ",
                       !heir.ok() ? heir.status().ToString()
                       : *heir    ? absl::StrCat("handed to ", (*heir)->ToString())
                                  : std::string("owned nothing")));
    if (!heir.ok()) {
      Require(absl::IsFailedPrecondition(heir.status()), "Handoff failed unexpectedly");
      return;
    }
    // The mesh flushes what is queued before it closes.
    for (size_t k = 0; k < queue_.size();) {
      if (queue_[k].from == i) {
        Deliver(k, /*lossy=*/false);
      } else {
        ++k;
      }
    }
    Stop(i);
    peer.store = std::make_unique<FakeStore>();
    std::erase_if(held_, [i](const auto& entry) { return entry.second.peer == i; });
    peer.reset_pending = options_.settle_before_return_after_reset;
    // The old incarnation may have voted before it had the ring; the new one must not vote.
    peer.voted_without_ring = true;
    ++stats_["reset"];
  }

  // --- Invariants.

  void CheckInvariants() {
    // (1)
    std::map<net::Ipv4, std::string> holder;
    for (const auto& [container, held] : held_) {
      auto [it, added] = holder.emplace(held.ip, container);
      Require(added, absl::StrCat("(1) ", held.ip.ToString(), " is held by ", it->second, " and ",
                                  container));
    }
    std::map<uint64_t, size_t> believed_owner;
    for (size_t i = 0; i < peers_.size(); ++i) {
      if (peers_[i]->state != SimPeer::State::kRemoved) CheckPeer(i, believed_owner);
    }
  }

  // (2), (2b) and (3) for one peer; `believed_owner` collects who thinks it owns each address.
  void CheckPeer(size_t i, std::map<uint64_t, size_t>& believed_owner) {
    SimPeer& peer = *peers_[i];
    PeerView view = ViewOf(i);
    if (peer.state == SimPeer::State::kRunning) {
      RingStatus status = peer.allocator->Status();
      Require(status.conflict.empty(),
              absl::StrCat(peer.nickname, " reports a conflict: ", status.conflict));
      NoteConsensusRole(peer);
    }
    std::set<std::pair<std::string, net::Ipv4>> listed;
    std::set<std::pair<std::string, net::Ipv4>> expected;
    for (const Allocation& a : view.allocations)
      listed.emplace(a.container_id, a.address.address());
    for (const auto& [container, held] : held_) {
      if (held.peer == i) expected.emplace(container, held.ip);
    }
    Require(listed == expected,
            absl::StrCat(peer.nickname, " lists other allocations than it got"));
    if (!view.ring.Empty()) {
      uint64_t covered = 0;
      for (const auto& [owner, size] : view.ring.OwnershipSizes()) covered += size;
      Require(covered == view.ring.end() - view.ring.start(),
              absl::StrCat("(3) ", peer.nickname, "'s ring does not cover the range once"));
    }
    for (const Allocation& a : view.allocations) {
      Require(view.ring.Owner(a.address.address().value()) == peer.name,
              absl::StrCat("(2) ", peer.nickname, " holds ", a.address.address().ToString(),
                           " outside its own ranges"));
    }
    uint64_t owned = 0;
    for (const AddressRange& range : view.ring.Owned()) {
      owned += range.size();
      for (uint64_t address = range.start; address < range.end; ++address) {
        auto [it, added] = believed_owner.emplace(address, i);
        Require(added, absl::StrCat("(2b) ", peers_[it->second]->nickname, " and ", peer.nickname,
                                    " both think they own ",
                                    net::Ipv4(static_cast<uint32_t>(address)).ToString()));
      }
    }
    if (owned > peer.owned) ++stats_[peer.owned == 0 ? "got space" : "got more space"];
    peer.owned = owned;
  }

  // After Settle: the converged ring's free count of each running owner's entry is the number of
  // usable addresses in it that no container holds.
  void CheckFreeCounts() {
    std::optional<size_t> any = std::nullopt;
    for (size_t i : Running()) any = i;
    if (!any) return;
    PeerView view = ViewOf(*any);
    std::set<net::Ipv4> held;
    for (const auto& [container, h] : held_) held.insert(h.ip);
    const std::vector<RingEntry>& entries = view.ring.entries();
    for (size_t k = 0; k < entries.size(); ++k) {
      std::optional<size_t> owner = IndexOf(entries[k].peer);
      if (!owner || peers_[*owner]->state != SimPeer::State::kRunning) continue;
      uint64_t free = 0;
      for (uint64_t n = 0; n < view.ring.EntrySize(k); ++n) {
        uint64_t address = entries[k].token + n;
        if (address >= view.ring.end()) address -= view.ring.end() - view.ring.start();
        net::Ipv4 ip(static_cast<uint32_t>(address));
        if (ip != range_.network() && ip != range_.last() && !held.count(ip)) ++free;
      }
      Require(entries[k].free == free,
              absl::StrCat("(4) the ring says ", entries[k].free, " free at ",
                           net::Ipv4(entries[k].token).ToString(), " but ", free, " are"));
    }
  }

  PeerView ViewOf(size_t i) {
    SimPeer& peer = *peers_[i];
    PeerView view{
        Ring(range_.network().value(), uint64_t{range_.last().value()} + 1, peer.name), {}, false};
    std::unique_ptr<RingAllocator> peek;
    RingAllocator* allocator = peer.allocator.get();
    if (allocator == nullptr) {
      // What it would believe if it started now; this incarnation never sends anything.
      RingAllocatorOptions options;
      options.range = range_;
      options.self = peer.name;
      options.uid = next_uid_++;
      options.init.kind = InitMode::Kind::kConsensus;
      options.init.consensus_size = options_.peers;
      absl::StatusOr<std::unique_ptr<RingAllocator>> created =
          RingAllocator::Create(options, peer.store.get(), nullptr);
      Require(created.ok(),
              absl::StrCat("loading ", peer.nickname, "'s store: ", created.status().ToString()));
      peek = *std::move(created);
      allocator = peek.get();
    }
    v1::GossipState state;
    Require(state.ParseFromString(allocator->FullState()), "FullState does not parse");
    if (state.has_ring()) {
      absl::StatusOr<Ring> ring = Ring::FromProto(state.ring(), peer.name);
      Require(ring.ok(),
              absl::StrCat("(3) ", peer.nickname, "'s ring: ", ring.status().ToString()));
      view.ring = *std::move(ring);
    }
    absl::StatusOr<std::vector<Allocation>> listed = allocator->List();
    Require(listed.ok(), "List failed");
    view.allocations = *std::move(listed);
    view.ready = allocator->Ready();
    Require(view.ready == !view.ring.Empty(), "Ready() disagrees with the ring");
    return view;
  }

  RingAllocator& allocator(size_t i) { return *peers_[i]->allocator; }
  PeerName name(size_t i) const { return peers_[i]->name; }

 private:
  // Records whether the running `peer`'s incarnation has voted in a consensus that it has not
  // seen finish.
  void NoteConsensusRole(SimPeer& peer) {
    if (peer.allocator == nullptr) return;
    if (peer.allocator->Ready()) {
      peer.voted_without_ring = false;
      peer.must_not_vote = false;
    } else if (peer.allocator->Status().state == RingStatus::State::kAwaitingConsensus) {
      peer.voted_without_ring = true;
    }
  }

  bool AnotherHasRing(size_t i) {
    for (size_t j = 0; j < peers_.size(); ++j) {
      if (j != i && peers_[j]->state != SimPeer::State::kRemoved && ViewOf(j).ready) return true;
    }
    return false;
  }

  bool RunningWithoutRing(size_t i) const {
    const SimPeer& peer = *peers_[i];
    return peer.state == SimPeer::State::kRunning && !peer.allocator->Ready();
  }

  // paxos.h: a node that restarts mid-consensus must not vote again, or it counts twice. Here a
  // peer whose earlier incarnation voted starts only when every running peer has the ring, and
  // while it lacks the ring no other peer without one starts; so it never meets a consensus.
  bool MayStart(size_t i) {
    if (peers_[i]->reset_pending) return false;
    if (!options_.guard_consensus_restarts || ViewOf(i).ready) return true;
    for (size_t j = 0; j < peers_.size(); ++j) {
      if (!RunningWithoutRing(j)) continue;
      if (peers_[i]->voted_without_ring || peers_[j]->must_not_vote) return false;
    }
    return true;
  }

  // Stopping a peer that votes while nobody has the ring is allowed only while enough peers may
  // still vote to make a quorum; otherwise consensus could never end.
  bool MayStop(size_t i) {
    if (Running().size() < 2) return false;
    for (size_t j : Running()) NoteConsensusRole(*peers_[j]);
    int voters = 0;
    for (size_t j = 0; j < peers_.size(); ++j) {
      const SimPeer& other = *peers_[j];
      if (other.state == SimPeer::State::kRemoved) continue;
      if (ViewOf(j).ready) return true;
      bool may_vote =
          !options_.guard_consensus_restarts ||
          (other.state == SimPeer::State::kRunning && j != i ? !other.must_not_vote
                                                             : !other.voted_without_ring);
      if (may_vote) ++voters;
    }
    return voters >= quorum_;
  }

  // Starts one peer that was reset, now that the others agree on its handoff; false if none.
  // Not while a peer that is down has a ring: it may be the heir, the only one that knows.
  bool StartResetPeer(std::optional<size_t> keep_down) {
    for (size_t j = 0; j < peers_.size(); ++j) {
      if (peers_[j]->state == SimPeer::State::kStopped && ViewOf(j).ready) return false;
    }
    for (size_t i = 0; i < peers_.size(); ++i) {
      if (i == keep_down || peers_[i]->state != SimPeer::State::kStopped) continue;
      if (!peers_[i]->reset_pending) continue;
      peers_[i]->reset_pending = false;
      if (MayStart(i)) {
        Start(i);
        return true;
      }
      peers_[i]->reset_pending = true;
    }
    return false;
  }

  // The ring every running peer has, once all have the same and nothing is in flight (and the
  // stopped peers that should start have started).
  std::optional<Ring> ConvergedRing(bool start_stopped, std::optional<size_t> keep_down) {
    if (!queue_.empty()) return std::nullopt;
    std::optional<Ring> ring;
    for (size_t i = 0; i < peers_.size(); ++i) {
      const SimPeer& peer = *peers_[i];
      if (peer.state == SimPeer::State::kStopped && start_stopped && i != keep_down &&
          !peer.reset_pending) {
        return std::nullopt;
      }
      if (peer.state != SimPeer::State::kRunning) continue;
      PeerView view = ViewOf(i);
      if (!view.ready || (ring && !(view.ring == *ring))) return std::nullopt;
      ring = std::move(view.ring);
    }
    return ring;
  }

  std::vector<size_t> Running() const {
    std::vector<size_t> running;
    for (size_t i = 0; i < peers_.size(); ++i) {
      if (peers_[i]->state == SimPeer::State::kRunning) running.push_back(i);
    }
    return running;
  }

  std::vector<size_t> InState(SimPeer::State state) const {
    std::vector<size_t> result;
    for (size_t i = 0; i < peers_.size(); ++i) {
      if (peers_[i]->state == state) result.push_back(i);
    }
    return result;
  }

  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

  template <typename T>
  std::optional<T> PickFrom(const std::vector<T>& items) {
    if (items.empty()) return std::nullopt;
    return items[Pick(items.size())];
  }

  std::string NewContainer() { return absl::StrCat("c", next_container_++); }

  std::vector<std::string> HeldOnRunning() const {
    std::vector<std::string> containers;
    for (const auto& [container, held] : held_) {
      if (peers_[held.peer]->state == SimPeer::State::kRunning) containers.push_back(container);
    }
    return containers;
  }

  net::Ipv4 RandomUsable() {
    const uint32_t first = range_.network().value() + 1;
    const uint32_t last = range_.last().value() - 1;
    return net::Ipv4(std::uniform_int_distribution<uint32_t>(first, last)(rng_));
  }

  // Claim of an address that another reachable peer owns asks that peer for it and waits (up to
  // seconds, whatever the deadline) for an answer that only another thread could deliver; the
  // simulation claims the rest, and sends that request itself in AskForOneAddress.
  void ClaimRandom(size_t i) {
    net::Ipv4 ip = RandomUsable();
    std::optional<PeerName> owner = ViewOf(i).ring.Owner(ip.value());
    if (owner && *owner != peers_[i]->name && ReachableFrom(i).count(*owner)) return;
    std::string container = NewContainer();
    Allocation wanted{container, kIfname, net::Cidr(ip, range_.prefix_length()), "", ""};
    absl::StatusOr<Allocation> claimed = peers_[i]->allocator->Claim(wanted);
    Trace(absl::StrCat("claim ", ip.ToString(), " for ", container, " on ", peers_[i]->nickname,
                       ": ", claimed.ok() ? "ok" : claimed.status().ToString()));
    if (claimed.ok()) {
      Require(claimed->address.address() == ip, "Claim returned another address");
      held_[container] = Held{i, ip};
      ++stats_["claimed"];
      return;
    }
    absl::StatusCode code = claimed.status().code();
    Require(code == absl::StatusCode::kAlreadyExists ||
                code == absl::StatusCode::kFailedPrecondition ||
                code == absl::StatusCode::kUnavailable,
            "Claim failed with an unexpected code");
  }

  // What Claim and Yield send: `i` asks a reachable owner for exactly one address. The owner
  // gives it if free; the answer arrives (or not) like any message.
  void AskForOneAddress(size_t i) {
    net::Ipv4 ip = RandomUsable();
    std::optional<PeerName> owner = ViewOf(i).ring.Owner(ip.value());
    if (!owner || *owner == peers_[i]->name) return;
    v1::Unicast ask;
    ask.mutable_space_request()->set_start(ip.value());
    ask.mutable_space_request()->set_end(uint64_t{ip.value()} + 1);
    absl::Status sent = peers_[i]->network->Unicast(*owner, ask.SerializeAsString());
    Trace(absl::StrCat(peers_[i]->nickname, " asks ", owner->ToString(), " for ", ip.ToString(),
                       ": ", sent.ToString()));
    if (sent.ok()) ++stats_["asked for one"];
  }

  void RandomStep() {
    std::vector<size_t> running = Running();
    std::optional<size_t> some = PickFrom(running);
    int roll = static_cast<int>(Pick(1000));
    if (roll < 160) {
      if (some) (void)Allocate(*some, NewContainer());
    } else if (roll < 180) {
      // Asking again for a held container returns what it holds.
      if (std::optional<std::string> c = PickFrom(HeldOnRunning())) {
        (void)Allocate(held_.at(*c).peer, *c);
      }
    } else if (roll < 190) {
      if (some) ClaimRandom(*some);
    } else if (roll < 200) {
      if (some) AskForOneAddress(*some);
    } else if (roll < 300) {
      if (std::optional<std::string> c = PickFrom(HeldOnRunning())) Release(*c);
    } else if (roll < 700) {
      if (!queue_.empty()) Deliver(Pick(queue_.size()), /*lossy=*/true);
    } else if (roll < 760) {
      if (some) Gossip(*some);
    } else if (roll < 880) {
      if (some) {
        peers_[*some]->allocator->Tick();
        Trace(absl::StrCat("tick ", peers_[*some]->nickname));
      }
    } else if (roll < 890) {
      std::vector<int> sides;
      for (size_t i = 0; i < peers_.size(); ++i) sides.push_back(static_cast<int>(Pick(2)));
      Partition(sides);
    } else if (roll < 905) {
      Heal();
      Trace("heal");
    } else if (roll < 920) {
      if (some && MayStop(*some)) {
        Stop(*some);
        if (MayStart(*some)) Start(*some);
      }
    } else if (roll < 930) {
      if (some && MayStop(*some)) Stop(*some);
    } else if (roll < 960) {
      std::optional<size_t> down = PickFrom(InState(SimPeer::State::kStopped));
      if (down && MayStart(*down)) Start(*down);
    } else if (roll < 963) {
      std::optional<size_t> dead = PickFrom(InState(SimPeer::State::kStopped));
      // Only a peer with the ring can take another's ranges (and a settle that keeps the dead
      // peer down could lack a quorum before there is one).
      bool any_ring = std::any_of(running.begin(), running.end(),
                                  [this](size_t i) { return peers_[i]->allocator->Ready(); });
      if (dead && any_ring && InState(SimPeer::State::kRemoved).size() + 2 < peers_.size()) {
        RemovePeer(*dead);
      }
    } else if (roll < 968) {
      // Not the last holder of the ring: its store goes, and the consensus may lack voters.
      if (some && peers_[*some]->allocator->Ready() && AnotherHasRing(*some)) Reset(*some);
    } else if (roll < 970) {
      Trace("settle");
      Settle(/*start_stopped=*/Pick(2) == 0, std::nullopt);
    } else {
      // Messages pile up faster than single deliveries drain them; deliver a burst.
      for (int n = 0; n < 8 && !queue_.empty(); ++n) Deliver(Pick(queue_.size()), /*lossy=*/true);
    }
    // A mesh buffers a bounded amount: beyond that, the oldest is lost.
    while (queue_.size() > 2000) queue_.pop_front();
  }

  void Trace(std::string line) {
    trace_.push_back(absl::StrCat("#", step_, " ", line));
    if (trace_.size() > kTraceLength) trace_.pop_front();
  }

  void Require(bool ok, const std::string& what) {
    if (ok) return;
    std::string report =
        absl::StrCat("seed ", options_.seed, " peers ", options_.peers, " step ", step_, ": ", what,
                     "\nlast steps:\n", absl::StrJoin(trace_, "\n"), "\nrings:\n");
    for (size_t i = 0; i < peers_.size(); ++i) {
      const SimPeer& peer = *peers_[i];
      absl::StrAppend(&report, peer.nickname, " (", peer.name.ToString(), ") ",
                      peer.state == SimPeer::State::kRunning   ? "running"
                      : peer.state == SimPeer::State::kStopped ? "stopped"
                                                               : "removed",
                      " side ", peer.side, "\n");
      if (peer.allocator != nullptr) {
        v1::GossipState state;
        if (state.ParseFromString(peer.allocator->FullState()) && state.has_ring()) {
          absl::StatusOr<Ring> ring = Ring::FromProto(state.ring(), peer.name);
          if (ring.ok()) absl::StrAppend(&report, ring->ToString(), "\n");
        }
      }
    }
    FAIL(report);
  }

  const SimOptions options_;
  std::mt19937_64 rng_;
  const net::Cidr range_;
  const int quorum_;
  std::vector<std::unique_ptr<SimPeer>> peers_;
  std::deque<SimMessage> queue_;
  std::map<std::string, Held> held_;
  uint64_t next_uid_ = 1;
  uint64_t next_container_ = 0;
  int step_ = 0;
  std::deque<std::string> trace_;
  std::map<std::string, uint64_t> stats_;
};

void SimNetwork::Broadcast(const std::string& payload) {
  for (PeerName peer : sim_.ReachableFrom(self_)) {
    size_t to = *sim_.IndexOf(peer);
    if (to != self_) sim_.Send(SimMessage::Kind::kBroadcast, self_, to, payload);
  }
}

absl::Status SimNetwork::Unicast(PeerName to, const std::string& payload) {
  std::optional<size_t> index = sim_.IndexOf(to);
  if (!index || !sim_.Connected(self_, *index)) {
    return absl::UnavailableError(absl::StrCat("peer ", to.ToString(), " is unreachable"));
  }
  sim_.Send(SimMessage::Kind::kUnicast, self_, *index, payload);
  return absl::OkStatus();
}

std::set<PeerName> SimNetwork::Reachable() { return sim_.ReachableFrom(self_); }

int EnvInt(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value == nullptr ? fallback : std::atoi(value);
}

TEST_CASE("Randomized peers with loss and partitions never hand out an address twice",
          "[ipam][sim]") {
  QuietLogs quiet;
  const int seeds = EnvInt("WEAVE_IPAM_SIM_SEEDS", 50);
  const int first_seed = EnvInt("WEAVE_IPAM_SIM_FIRST_SEED", 1);
  const int steps = EnvInt("WEAVE_IPAM_SIM_STEPS", 2000);
  std::map<std::string, uint64_t> totals;
  absl::Time started = absl::Now();
  for (int seed = first_seed; seed < first_seed + seeds; ++seed) {
    SimOptions options;
    options.seed = static_cast<uint64_t>(seed);
    options.peers = 2 + seed % 5;
    options.range = seed % 2 == 0 ? "10.9.0.0/26" : "10.9.0.0/28";
    options.settle_before_rmpeer = EnvInt("WEAVE_IPAM_SIM_UNSAFE_RMPEER", 0) == 0;
    options.guard_consensus_restarts = EnvInt("WEAVE_IPAM_SIM_UNSAFE_RESTARTS", 0) == 0;
    options.settle_before_return_after_reset = EnvInt("WEAVE_IPAM_SIM_UNSAFE_RESET", 0) == 0;
    Simulation sim(options);
    sim.Run(steps);
    for (const auto& [name, count] : sim.stats()) totals[name] += count;
  }
  std::vector<std::string> summary;
  for (const auto& [name, count] : totals) summary.push_back(absl::StrCat(name, " ", count));
  WARN(absl::StrCat(seeds, " seeds x ", steps, " steps in ",
                    absl::FormatDuration(absl::Now() - started), ": ",
                    absl::StrJoin(summary, ", ")));
  // The runs exercised what they claim to.
  CHECK(totals["allocated"] > 0);
  CHECK(totals["allocate RESOURCE_EXHAUSTED"] > 0);
  CHECK(totals["released"] > 0);
  CHECK(totals["lost"] > 0);
  CHECK(totals["got more space"] > 0);  // donations
  CHECK(totals["partitioned"] > 0);
  CHECK(totals["removed"] > 0);
  CHECK(totals["reset"] > 0);
}

// The scenarios below: `peers` peers on a /28, no loss.
SimOptions Scenario(int peers) {
  SimOptions options;
  options.peers = peers;
  options.range = "10.9.0.0/28";
  options.loss = 0;
  options.duplication = 0;
  return options;
}

// rmpeer with a stale view: p1 gives p0 part of its range while p2 is cut off, then dies; p2
// removes it and takes every range it thinks p1 had, the donated one included, at version + 100.
// p0 and p2 then hand out the same address; only p2 notices, once the partition heals. This is
// why the simulation lets every other peer catch up before an rmpeer. The test pins down what
// happens today: if RemovePeer learns to refuse this, or the ring to prevent it, turn these
// expectations round.
TEST_CASE("rmpeer while cut off from the dead peer's donee hands an address out twice",
          "[ipam][sim]") {
  QuietLogs quiet;
  SimOptions options = Scenario(3);  // p0 owns .0-.7, p1 .8-.11, p2 .12-.15
  Simulation sim(options);
  sim.Settle(/*start_stopped=*/true, std::nullopt);
  sim.Partition({0, 0, 1});
  for (int n = 0; n < 7; ++n) REQUIRE(sim.Allocate(0, absl::StrCat("a", n)).ok());  // .1-.7
  // Out of space, p0 asks p1, which gives it the upper half of its block: .10-.11.
  REQUIRE(absl::IsDeadlineExceeded(sim.Allocate(0, "a7").status()));
  sim.DeliverAll();
  absl::StatusOr<Allocation> donated = sim.Allocate(0, "a7");
  REQUIRE(donated.ok());
  CHECK(donated->address.address().ToString() == "10.9.0.10");

  sim.Stop(1);
  absl::StatusOr<uint64_t> moved = sim.allocator(2).RemovePeer(sim.name(1).ToString());
  REQUIRE(moved.ok());
  CHECK(*moved == 4);  // .8-.11: p2 never heard of the donation
  std::vector<std::string> p2_addresses;
  for (int n = 0; n < 3; ++n) {
    absl::StatusOr<Allocation> taken = sim.Allocate(2, absl::StrCat("b", n));
    REQUIRE(taken.ok());
    p2_addresses.push_back(taken->address.address().ToString());
  }
  CHECK(p2_addresses == std::vector<std::string>{"10.9.0.8", "10.9.0.9", "10.9.0.10"});

  // After the heal p2 reports the conflict; p0 sees nothing wrong and keeps .10 as well.
  sim.Heal();
  for (size_t i : {0, 2}) sim.Gossip(i);
  sim.DeliverAll();
  CHECK_THAT(sim.allocator(2).Status().conflict,
             Catch::Matchers::Contains("says it owns the IP range from 10.9.0.10"));
  CHECK(sim.allocator(0).Status().conflict.empty());
}

// weave reset with a stale view: p1 hands its range to p0 and comes back with an empty store
// (same name, derived from the host) while p2, cut off from both, still has the ring from before.
// p1 learns from p2 that it owns .8-.11 and hands out .8, which p0 hands out as well. p1 notices
// once it hears p0; p0 never does. This is why the simulation brings a reset node back only after
// the others agree on its handoff.
TEST_CASE("A reset node back before its handoff spread hands an address out twice", "[ipam][sim]") {
  QuietLogs quiet;
  SimOptions options = Scenario(3);  // p0 owns .0-.7, p1 .8-.11, p2 .12-.15
  options.settle_before_return_after_reset = false;
  Simulation sim(options);
  sim.Settle(/*start_stopped=*/true, std::nullopt);
  sim.Partition({0, 0, 1});
  sim.Reset(1);
  sim.DeliverAll();  // p0 takes .8-.11 at version + 100; p2 hears nothing
  sim.Start(1);
  sim.Partition({0, 1, 1});
  sim.Gossip(2);
  sim.DeliverAll();
  absl::StatusOr<Allocation> at_p1 = sim.Allocate(1, "b0");
  REQUIRE(at_p1.ok());
  CHECK(at_p1->address.address().ToString() == "10.9.0.8");
  for (int n = 0; n < 7; ++n) REQUIRE(sim.Allocate(0, absl::StrCat("a", n)).ok());  // .1-.7
  absl::StatusOr<Allocation> at_p0 = sim.Allocate(0, "a7");
  REQUIRE(at_p0.ok());
  CHECK(at_p0->address.address().ToString() == "10.9.0.8");

  sim.Heal();
  for (size_t i : {0, 1, 2}) sim.Gossip(i);
  sim.DeliverAll();
  CHECK_THAT(sim.allocator(1).Status().conflict,
             Catch::Matchers::Contains("Received update for IP range I own at 10.9.0.8"));
  CHECK(sim.allocator(0).Status().conflict.empty());
}

// Found by the simulation (seed 2275): a denial that p0 sent before it freed an address arrived
// after p1 had merged p0's newer free report. Any ring change forgets denials, but this one came
// after the change and stuck: p1 said ResourceExhausted while its own ring showed p0 with a free
// address, until some unrelated ring change.
TEST_CASE("A denial that crossed the donor's newer free report does not exhaust the range",
          "[ipam][sim]") {
  QuietLogs quiet;
  SimOptions options = Scenario(2);  // p0 owns .0-.7, p1 .8-.15
  Simulation sim(options);
  sim.Settle(/*start_stopped=*/true, std::nullopt);
  for (int n = 0; n < 7; ++n) {
    REQUIRE(sim.Allocate(0, absl::StrCat("a", n)).ok());
    REQUIRE(sim.Allocate(1, absl::StrCat("b", n)).ok());
  }
  sim.Settle(/*start_stopped=*/false, std::nullopt);  // both report 0 free

  // p1 asks p0, which has nothing: the denial is on its way when p0 frees .7 and says so.
  REQUIRE(absl::IsDeadlineExceeded(sim.Allocate(1, "b7").status()));
  sim.DeliverFrom(1, 0, SimMessage::Kind::kUnicast);
  sim.Release("a6");
  sim.allocator(0).Tick();
  sim.DeliverFrom(0, 1, SimMessage::Kind::kBroadcast);  // the report: p0 has 1 free
  sim.DeliverFrom(0, 1, SimMessage::Kind::kUnicast);    // then the stale denial

  absl::StatusOr<Allocation> got = sim.Allocate(1, "b7");
  for (int attempt = 0; !got.ok() && attempt < 100; ++attempt) {
    REQUIRE_FALSE(absl::IsResourceExhausted(got.status()));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // past the retry interval
    sim.DeliverAll();
    got = sim.Allocate(1, "b7");
  }
  REQUIRE(got.ok());
  CHECK(got->address.address().ToString() == "10.9.0.7");
}

}  // namespace
}  // namespace weave::ipam

namespace weave::ipam {
namespace {

// Alone in the mesh: every broadcast is lost, only this peer is reachable.
class LoneNetwork : public IpamNetwork {
 public:
  explicit LoneNetwork(PeerName self) : self_(self) {}
  void Broadcast(const std::string&) override {}
  absl::Status Unicast(PeerName, const std::string&) override {
    return absl::UnavailableError("no peer");
  }
  std::set<PeerName> Reachable() override { return {self_}; }

 private:
  const PeerName self_;
};

TEST_CASE("A lone peer's first allocation does not wait a retry interval for its own consensus",
          "[ipam]") {
  FakeStore store;
  RingAllocatorOptions options;
  options.range = *net::Cidr::Parse("10.32.0.0/12");
  options.self = PeerName(0x0a0000000001);
  options.uid = 1;
  options.init.kind = InitMode::Kind::kConsensus;
  options.init.consensus_size = 1;
  options.retry = absl::Minutes(1);  // a wait for it would hit the deadline below
  LoneNetwork network(options.self);
  absl::StatusOr<std::unique_ptr<RingAllocator>> allocator =
      RingAllocator::Create(options, &store, &network);
  REQUIRE(allocator.ok());
  absl::StatusOr<Allocation> allocated =
      (*allocator)->Allocate({"pod1", "eth0", "", "", absl::Now() + absl::Seconds(5)});
  REQUIRE(allocated.ok());
  CHECK(allocated->address.ToString() == "10.32.0.1/12");
}

TEST_CASE("ForgetStored leaves a store as a new peer's", "[ipam]") {
  FakeStore store;
  CHECK_FALSE(*RingAllocator::HasStoredRing(&store));
  REQUIRE(store.SetMetadata("ring", "some ring").ok());
  REQUIRE(store.SetMetadata("peer-name", "aa:bb:cc:dd:ee:ff").ok());
  REQUIRE(store.InsertAllocation({"pod1", "eth0", *net::Cidr::Parse("10.32.0.5/12"), "", ""}).ok());
  REQUIRE(store.InsertAllocation({"pod2", "eth0", *net::Cidr::Parse("10.32.0.6/12"), "", ""}).ok());
  CHECK(*RingAllocator::HasStoredRing(&store));
  REQUIRE(RingAllocator::ForgetStored(&store).ok());
  CHECK_FALSE(*RingAllocator::HasStoredRing(&store));
  CHECK(store.LoadAllocations()->empty());
  CHECK(*store.GetMetadata("peer-name") == "aa:bb:cc:dd:ee:ff");  // the name stays
}

}  // namespace
}  // namespace weave::ipam
