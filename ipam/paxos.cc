#include "ipam/paxos.h"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "spdlog/spdlog.h"

namespace weave::ipam {
namespace {

constexpr uint64_t kMaxPeerName = 0xffffffffffffULL;

std::string Describe(const NodeId& node) {
  return absl::StrCat(node.name.ToString(), "/", node.uid);
}

std::string Describe(const ProposalId& proposal) {
  return absl::StrCat("round ", proposal.round, " of ", Describe(proposal.proposer));
}

absl::StatusOr<PeerName> NameFromProto(uint64_t name) {
  if (name == 0 || name > kMaxPeerName) {
    return absl::InvalidArgumentError(absl::StrCat("invalid peer name ", name));
  }
  return PeerName(name);
}

absl::StatusOr<NodeId> NodeFromProto(const v1::NodeId& proto) {
  ASSIGN_OR_RETURN(PeerName name, NameFromProto(proto.name()));
  if (proto.uid() == 0) {
    return absl::InvalidArgumentError(absl::StrCat("node ", name.ToString(), " has uid 0"));
  }
  return NodeId{name, proto.uid()};
}

absl::StatusOr<ProposalId> ProposalFromProto(const v1::ProposalId& proto) {
  if (proto.round() == 0) {
    if (proto.proposer().name() != 0 || proto.proposer().uid() != 0) {
      return absl::InvalidArgumentError("a proposal of round 0 names a proposer");
    }
    return ProposalId{};
  }
  if (proto.round() > Paxos::kMaxRound) {
    return absl::InvalidArgumentError(absl::StrCat("proposal round ", proto.round(), " too high"));
  }
  ASSIGN_OR_RETURN(NodeId proposer, NodeFromProto(proto.proposer()));
  return ProposalId{proto.round(), proposer};
}

absl::StatusOr<AcceptedValue> ValueFromProto(const v1::AcceptedValue& proto) {
  AcceptedValue value;
  ASSIGN_OR_RETURN(value.origin, ProposalFromProto(proto.origin()));
  for (uint64_t name : proto.value()) {
    ASSIGN_OR_RETURN(PeerName peer, NameFromProto(name));
    if (!value.value.empty() && peer <= value.value.back()) {
      return absl::InvalidArgumentError("accepted value is not sorted without duplicates");
    }
    value.value.push_back(peer);
  }
  return value;
}

// A node's claims, checked against what a node can have claimed.
absl::StatusOr<std::pair<NodeId, NodeClaims>> ClaimsFromProto(const v1::NodeClaims& proto) {
  ASSIGN_OR_RETURN(NodeId node, NodeFromProto(proto.node()));
  NodeClaims claims;
  ASSIGN_OR_RETURN(claims.promise, ProposalFromProto(proto.promise()));
  ASSIGN_OR_RETURN(claims.accepted, ProposalFromProto(proto.accepted()));
  ASSIGN_OR_RETURN(claims.accepted_value, ValueFromProto(proto.accepted_value()));
  auto invalid = [&node](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("node ", Describe(node), ": ", what));
  };
  if (claims.accepted > claims.promise) return invalid("accepted a proposal above its promise");
  if (claims.accepted.IsZero()) {
    if (!claims.accepted_value.value.empty() || !claims.accepted_value.origin.IsZero()) {
      return invalid("a value without an accepted proposal");
    }
  } else {
    if (claims.accepted_value.value.empty()) return invalid("accepted an empty value");
    if (claims.accepted_value.origin.IsZero() || claims.accepted_value.origin > claims.accepted) {
      return invalid("accepted a value whose origin is not at or below the proposal");
    }
  }
  return std::make_pair(node, std::move(claims));
}

v1::NodeId NodeToProto(const NodeId& node) {
  v1::NodeId proto;
  proto.set_name(node.name.value());
  proto.set_uid(node.uid);
  return proto;
}

v1::ProposalId ProposalToProto(const ProposalId& proposal) {
  v1::ProposalId proto;
  proto.set_round(proposal.round);
  if (!proposal.IsZero()) *proto.mutable_proposer() = NodeToProto(proposal.proposer);
  return proto;
}

}  // namespace

Paxos::Paxos(NodeId self, int quorum) : self_(self), quorum_(quorum) {
  if (self.name.value() == 0 || self.uid == 0 || quorum < 1) {
    spdlog::critical("IPAM: consensus node {} configured with quorum {}", Describe(self), quorum);
    std::abort();
  }
  claims_[self_] = NodeClaims{};
}

void Paxos::Propose() {
  uint64_t highest = 0;
  for (const auto& [node, claims] : claims_) {
    highest = std::max({highest, claims.promise.round, claims.accepted.round});
  }
  if (highest >= kMaxRound) return;
  claims_[self_].promise = ProposalId{highest + 1, self_};
}

absl::StatusOr<bool> Paxos::Merge(const v1::PaxosState& received) {
  std::vector<std::pair<NodeId, NodeClaims>> incoming;
  std::set<NodeId> seen;
  // Each proposal has one value, fixed by its proposer; anything else is corruption.
  std::map<ProposalId, const AcceptedValue*> values;
  for (const auto& [node, claims] : claims_) {
    if (!claims.accepted.IsZero()) values.emplace(claims.accepted, &claims.accepted_value);
  }
  incoming.reserve(received.claims_size());
  for (const v1::NodeClaims& proto : received.claims()) {
    ASSIGN_OR_RETURN(auto entry, ClaimsFromProto(proto));
    if (!seen.insert(entry.first).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("node ", Describe(entry.first), " is listed twice"));
    }
    incoming.push_back(std::move(entry));
  }
  for (const auto& [node, claims] : incoming) {
    if (claims.accepted.IsZero()) continue;
    auto [it, added] = values.emplace(claims.accepted, &claims.accepted_value);
    if (!added && *it->second != claims.accepted_value) {
      return absl::InvalidArgumentError(
          absl::StrCat("two different values for the proposal ", Describe(claims.accepted)));
    }
  }

  bool changed = false;
  for (auto& [node, theirs] : incoming) {
    if (node == self_) continue;
    auto [it, added] = claims_.try_emplace(node, theirs);
    if (added) {
      changed = true;
      continue;
    }
    NodeClaims& ours = it->second;
    if (theirs.promise > ours.promise) {
      ours.promise = theirs.promise;
      changed = true;
    }
    if (theirs.accepted > ours.accepted) {
      ours.accepted = theirs.accepted;
      ours.accepted_value = std::move(theirs.accepted_value);
      changed = true;
    }
  }
  UpdateConsensus();
  return changed;
}

bool Paxos::Think() {
  NodeClaims& ours = claims_.at(self_);
  const NodeClaims before = ours;

  for (const auto& [node, claims] : claims_) ours.promise = std::max(ours.promise, claims.promise);

  if (!ours.promise.IsZero() && ours.promise.proposer == self_ && ours.accepted != ours.promise) {
    int promised = 0;
    const NodeClaims* latest = nullptr;  // the promiser that accepted the highest proposal
    for (const auto& [node, claims] : claims_) {
      if (claims.promise != ours.promise) continue;
      ++promised;
      if (!claims.accepted.IsZero() && (latest == nullptr || claims.accepted > latest->accepted)) {
        latest = &claims;
      }
    }
    if (promised >= quorum_) {
      if (latest != nullptr) {
        ours.accepted_value = latest->accepted_value;
      } else {
        ours.accepted_value = AcceptedValue{{}, ours.promise};
        for (const auto& [node, claims] : claims_) {
          // The map is ordered by name first: equal names (incarnations) are adjacent.
          if (ours.accepted_value.value.empty() || ours.accepted_value.value.back() != node.name) {
            ours.accepted_value.value.push_back(node.name);
          }
        }
      }
      ours.accepted = ours.promise;
    }
  }

  if (ours.accepted != ours.promise) {
    for (const auto& [node, claims] : claims_) {
      if (claims.accepted == ours.promise) {
        ours.accepted = claims.accepted;
        ours.accepted_value = claims.accepted_value;
        break;
      }
    }
  }

  UpdateConsensus();
  return ours != before;
}

void Paxos::UpdateConsensus() {
  if (consensus_.has_value()) return;
  std::map<ProposalId, int> acceptances;
  for (const auto& [node, claims] : claims_) {
    if (claims.accepted.IsZero()) continue;
    if (++acceptances[claims.accepted] >= quorum_) {
      consensus_ = claims.accepted_value;
      return;
    }
  }
}

v1::PaxosState Paxos::ToProto() const {
  v1::PaxosState proto;
  for (const auto& [node, claims] : claims_) {
    v1::NodeClaims* entry = proto.add_claims();
    *entry->mutable_node() = NodeToProto(node);
    *entry->mutable_promise() = ProposalToProto(claims.promise);
    *entry->mutable_accepted() = ProposalToProto(claims.accepted);
    v1::AcceptedValue* value = entry->mutable_accepted_value();
    for (PeerName name : claims.accepted_value.value) value->add_value(name.value());
    *value->mutable_origin() = ProposalToProto(claims.accepted_value.origin);
  }
  return proto;
}

}  // namespace weave::ipam
