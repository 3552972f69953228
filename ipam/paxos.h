// The consensus that seeds the IPAM ring: single-decree Paxos run over gossip. Peers started with
// IPALLOC_INIT=consensus agree once on the list of peer names the ring is first split between.
//
// Every node keeps a map NodeId -> NodeClaims (what each node has promised and accepted) and
// gossips all of it. Two maps merge by taking, per node, the later promise and the later accepted
// proposal; a node's own entry is changed only by that node. Because each node's promise and
// accepted proposal only grow, any node's view of another is a snapshot that other really had,
// which is what makes the classic Paxos argument carry over:
//
//   Propose  promise ourselves a proposal numbered above every round we have seen.
//   Think    promise the highest proposal we see; when a quorum promises our own proposal, accept
//            it with the value of the highest proposal those nodes accepted before, or (none
//            accepted) with the sorted names of every node we know; accept any proposal that
//            others accepted and that we are promised to.
//   Consensus  a quorum of nodes accepted the same proposal.
//
// Consensus counts acceptances of one proposal, not of one value origin: a quorum that accepted
// different proposals carrying the same value has not chosen it, and a later proposal can still
// carry another value (paxos_test.cc replays such a history). Two nodes therefore never reach
// consensus on different values under any loss, reordering, duplication or partition, provided
// that the quorum is a strict majority of the nodes that take part and that no node forgets its
// claims while keeping its NodeId. A peer that restarts comes back with a new uid, i.e. as a new
// node; its old entry stays in the map, frozen. So a peer that restarts mid-consensus counts
// twice, and with N peers configured, quorum N/2+1 then no longer guarantees that two quorums
// overlap. Once a ring exists (and is persisted) the consensus is over, so the window is the first
// start of a cluster.
//
// Not Byzantine-tolerant: Merge rejects malformed state but trusts well-formed claims.
// A plain value, not thread-safe: its owner serialises access.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "common/peer_name.h"
#include "weave/ipam.pb.h"

namespace weave::ipam {

// One incarnation of a peer: the uid is drawn afresh each time the peer starts.
struct NodeId {
  PeerName name;
  uint64_t uid = 0;

  auto operator<=>(const NodeId&) const = default;
};

// Proposals order by round, then by the proposer's name, then by its uid. Round 0 is "none".
struct ProposalId {
  uint64_t round = 0;
  NodeId proposer;

  bool IsZero() const { return round == 0; }
  auto operator<=>(const ProposalId&) const = default;
};

// The value of an accepted proposal, and the proposal that first chose it (a proposal that finds
// an earlier accepted value passes it on with its origin unchanged).
struct AcceptedValue {
  std::vector<PeerName> value;  // sorted, no duplicates
  ProposalId origin;

  bool operator==(const AcceptedValue&) const = default;
};

struct NodeClaims {
  ProposalId promise;            // accept nothing lower; never below `accepted`
  ProposalId accepted;           // zero until the node accepts a proposal
  AcceptedValue accepted_value;  // empty while `accepted` is zero

  bool operator==(const NodeClaims&) const = default;
};

class Paxos {
 public:
  // Rounds above this are rejected as garbage, so that counting up can never wrap.
  static constexpr uint64_t kMaxRound = 0xffffffffULL;

  // The quorum for a consensus of `consensus_size` nodes (every node, this one included).
  static constexpr int QuorumFor(int consensus_size) { return consensus_size / 2 + 1; }

  // `self` must have a non-zero name and uid, and `quorum` must be at least 1 (aborts otherwise:
  // both come from our own configuration).
  Paxos(NodeId self, int quorum);

  int quorum() const { return quorum_; }
  // The nodes in the state, us included.
  int known() const { return static_cast<int>(claims_.size()); }

  // Starts a new proposal: promises ourselves a round above any round seen. Call Think next (it
  // accepts at once when we alone are a quorum) and gossip. Does nothing if the rounds seen have
  // reached kMaxRound.
  void Propose();

  // Merges a received state. Claims about this node are ignored: our own entry is authoritative.
  // Returns whether anything changed; InvalidArgument, with nothing changed, when the state is
  // malformed (a zero node name or uid, a name over 48 bits, a node listed twice, a proposal with
  // round 0 but a proposer or over kMaxRound, an accepted proposal above the promise or without
  // a value, an unsorted value, an origin above its proposal, two values for one proposal...).
  absl::StatusOr<bool> Merge(const v1::PaxosState& received);

  // Applies the rules above to the current state. Returns whether our own entry changed; the
  // caller then gossips it. Idempotent: a second call without a Merge or Propose in between
  // returns false.
  bool Think();

  // The agreed value, once this node has seen a quorum accept one proposal. Sticky: once set it
  // stays, even if later gossip shows those nodes moving on to higher proposals (which carry the
  // same value).
  std::optional<AcceptedValue> Consensus() const { return consensus_; }

  // Every node's claims, ordered by NodeId.
  v1::PaxosState ToProto() const;

 private:
  // Records a consensus visible in the state, if none is recorded yet.
  void UpdateConsensus();

  NodeId self_;
  int quorum_;
  std::map<NodeId, NodeClaims> claims_;  // always holds self_
  std::optional<AcceptedValue> consensus_;
};

}  // namespace weave::ipam
