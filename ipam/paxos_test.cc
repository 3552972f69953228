#include "ipam/paxos.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <initializer_list>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace weave::ipam {
namespace {

NodeId Node(uint64_t name) { return NodeId{PeerName(name), name * 100}; }

std::vector<PeerName> Names(std::initializer_list<uint64_t> names) {
  std::vector<PeerName> result;
  for (uint64_t name : names) result.push_back(PeerName(name));
  return result;
}

// The claims `from` holds about `about`, as if gossiped by a peer that knew only those.
v1::PaxosState Claims(const Paxos& from, std::initializer_list<NodeId> about) {
  v1::PaxosState all = from.ToProto();
  v1::PaxosState some;
  for (const v1::NodeClaims& claims : all.claims()) {
    for (const NodeId& node : about) {
      if (claims.node().name() == node.name.value() && claims.node().uid() == node.uid) {
        *some.add_claims() = claims;
      }
    }
  }
  return some;
}

// Delivers `from`'s claims about itself to `to`, which then thinks.
void Tell(const Paxos& from, NodeId from_id, Paxos& to) {
  REQUIRE(to.Merge(Claims(from, {from_id})).ok());
  to.Think();
}

// How many of the claims hold an accepted value that `origin` first chose.
int CountOrigin(const v1::PaxosState& state, const ProposalId& origin) {
  int count = 0;
  for (const v1::NodeClaims& claims : state.claims()) {
    const v1::ProposalId& theirs = claims.accepted_value().origin();
    if (theirs.round() == origin.round &&
        theirs.proposer().name() == origin.proposer.name.value() &&
        theirs.proposer().uid() == origin.proposer.uid) {
      ++count;
    }
  }
  return count;
}

TEST_CASE("A lone node with quorum 1 decides at once", "[ipam][paxos]") {
  Paxos paxos(Node(1), 1);
  CHECK(paxos.quorum() == 1);
  CHECK(paxos.known() == 1);
  CHECK_FALSE(paxos.Think());
  CHECK_FALSE(paxos.Consensus().has_value());

  paxos.Propose();
  CHECK(paxos.Think());
  CHECK_FALSE(paxos.Think());
  REQUIRE(paxos.Consensus().has_value());
  CHECK(paxos.Consensus()->value == Names({1}));
  CHECK(paxos.Consensus()->origin == ProposalId{1, Node(1)});
}

TEST_CASE("The quorum counts every node of the consensus", "[ipam][paxos]") {
  CHECK(Paxos::QuorumFor(1) == 1);
  CHECK(Paxos::QuorumFor(2) == 2);
  CHECK(Paxos::QuorumFor(3) == 2);
  CHECK(Paxos::QuorumFor(4) == 3);
  CHECK(Paxos::QuorumFor(7) == 4);
}

TEST_CASE("A proposal is accepted once a quorum promised it", "[ipam][paxos]") {
  Paxos a(Node(1), 2), b(Node(2), 2), c(Node(3), 2);
  a.Propose();
  CHECK(a.Think() == false);  // promised to itself already; one promise is not a quorum
  CHECK_FALSE(a.Consensus().has_value());

  REQUIRE(*b.Merge(a.ToProto()));
  CHECK(b.known() == 2);
  CHECK(b.Think());  // promises a's proposal
  CHECK_FALSE(b.Think());
  CHECK_FALSE(b.Consensus().has_value());

  REQUIRE(*a.Merge(b.ToProto()));
  CHECK(a.Think());                        // accepts its own proposal with the names it knows
  CHECK_FALSE(a.Consensus().has_value());  // one acceptance

  REQUIRE(*b.Merge(a.ToProto()));
  CHECK(b.Think());  // accepts what a accepted
  REQUIRE(b.Consensus().has_value());
  CHECK(b.Consensus()->value == Names({1, 2}));
  CHECK(b.Consensus()->origin == ProposalId{1, Node(1)});

  // A node that took no part learns the outcome from the state alone.
  REQUIRE(*c.Merge(b.ToProto()));
  CHECK(c.Consensus() == b.Consensus());
  CHECK(c.known() == 3);

  // Hearing the same again changes nothing.
  CHECK_FALSE(*c.Merge(b.ToProto()));
  CHECK_FALSE(*b.Merge(a.ToProto()));
}

TEST_CASE("Two nodes with quorum 2 decide only when both are up", "[ipam][paxos]") {
  Paxos a(Node(1), 2), b(Node(2), 2);
  for (int i = 0; i < 100; ++i) {
    a.Propose();
    a.Think();
  }
  CHECK_FALSE(a.Consensus().has_value());

  Tell(a, Node(1), b);
  Tell(b, Node(2), a);
  Tell(a, Node(1), b);
  Tell(b, Node(2), a);
  REQUIRE(a.Consensus().has_value());
  CHECK(a.Consensus() == b.Consensus());
  CHECK(a.Consensus()->value == Names({1, 2}));
  CHECK(a.Consensus()->origin.round == 100);
}

TEST_CASE("The highest of rival proposals is the one promised", "[ipam][paxos]") {
  Paxos a(Node(1), 2), b(Node(2), 2), c(Node(3), 2);
  a.Propose();
  b.Propose();  // the same round; b's name ranks it higher
  Tell(b, Node(2), c);
  Tell(a, Node(1), c);  // too low: c keeps its promise to b
  Tell(c, Node(3), a);  // a sees the higher proposal and gives up its own
  CHECK_FALSE(a.Consensus().has_value());
  Tell(c, Node(3), b);  // b has two promises
  Tell(b, Node(2), a);
  REQUIRE(a.Consensus().has_value());
  CHECK(a.Consensus()->origin == ProposalId{1, Node(2)});
  CHECK(a.Consensus()->value == Names({2, 3}));  // b had heard only of c
}

// A history that is legal under the rules, in which a quorum holds acceptances of different
// proposals that all carry one value (first chosen by proposal 1 of node 1), yet a later proposal
// rightly carries another value to a quorum. Counting acceptances by origin would decide both.
TEST_CASE("Consensus counts acceptances of one proposal and not of one origin", "[ipam][paxos]") {
  const int kQuorum = 3;
  Paxos a(Node(1), kQuorum), b(Node(2), kQuorum), c(Node(3), kQuorum), d(Node(4), kQuorum),
      e(Node(5), kQuorum);
  std::vector<const Paxos*> all = {&a, &b, &c, &d, &e};

  // Node 1's proposal: promised by 1, 2, 3; accepted by 1 and 2, with the names 1 knows.
  a.Propose();
  a.Think();
  Tell(a, Node(1), b);
  Tell(a, Node(1), c);
  Tell(b, Node(2), a);
  Tell(c, Node(3), a);
  REQUIRE(a.ToProto().claims(0).accepted().round() == 1);
  Tell(a, Node(1), b);
  const AcceptedValue first{Names({1, 2, 3}), ProposalId{1, Node(1)}};

  // Node 4 has heard of none of it: its proposal (same round, higher name) is promised by 3, 4
  // and 5, none of which accepted anything, so it takes the names 4 knows.
  d.Propose();
  d.Think();
  Tell(d, Node(4), c);
  Tell(d, Node(4), e);
  Tell(c, Node(3), d);
  Tell(e, Node(5), d);
  const AcceptedValue second{Names({3, 4, 5}), ProposalId{1, Node(4)}};

  // Node 5 proposes round 2, promised by 1, 3 and 5: the highest earlier acceptance among them
  // is node 1's, so the value passes on with its origin. Only 3 hears of the acceptance.
  e.Propose();
  e.Think();
  Tell(e, Node(5), a);
  Tell(e, Node(5), c);
  Tell(a, Node(1), e);
  Tell(c, Node(3), e);
  Tell(e, Node(5), c);

  Paxos watcher(Node(9), kQuorum);
  for (const Paxos* node : all) REQUIRE(watcher.Merge(node->ToProto()).ok());
  const v1::PaxosState mixed = watcher.ToProto();
  // 1 and 2 accepted proposal 1, 3 and 5 accepted proposal 2: four acceptances of one origin...
  CHECK(CountOrigin(mixed, first.origin) == 4);
  // ... but no proposal has a quorum, so nothing is decided.
  CHECK_FALSE(watcher.Consensus().has_value());

  // Node 4 hears of round 2 and proposes round 3, promised by 1, 2 and 4. Its own acceptance of
  // its first proposal is the highest among them, so the second value is the one carried.
  Tell(a, Node(1), d);
  d.Propose();
  d.Think();
  Tell(d, Node(4), a);
  Tell(d, Node(4), b);
  Tell(a, Node(1), d);
  Tell(b, Node(2), d);
  Tell(d, Node(4), a);
  Tell(d, Node(4), b);
  Tell(a, Node(1), d);
  Tell(b, Node(2), d);
  REQUIRE(d.Consensus().has_value());
  CHECK(*d.Consensus() == second);

  for (const Paxos* node : all) REQUIRE(watcher.Merge(node->ToProto()).ok());
  CHECK(watcher.Consensus() == second);
  for (const Paxos* node : all) {
    if (node->Consensus().has_value()) CHECK(*node->Consensus() == second);
  }
}

// Hand-written claims for the Merge tests.
v1::NodeClaims Claim(NodeId node, uint64_t promise_round, NodeId promiser, uint64_t accepted_round,
                     NodeId acceptor, std::vector<uint64_t> value, uint64_t origin_round,
                     NodeId origin) {
  v1::NodeClaims claims;
  claims.mutable_node()->set_name(node.name.value());
  claims.mutable_node()->set_uid(node.uid);
  auto set = [](v1::ProposalId* proposal, uint64_t round, NodeId proposer) {
    proposal->set_round(round);
    proposal->mutable_proposer()->set_name(proposer.name.value());
    proposal->mutable_proposer()->set_uid(proposer.uid);
  };
  set(claims.mutable_promise(), promise_round, promiser);
  if (accepted_round != 0) {
    set(claims.mutable_accepted(), accepted_round, acceptor);
    set(claims.mutable_accepted_value()->mutable_origin(), origin_round, origin);
  }
  for (uint64_t name : value) claims.mutable_accepted_value()->add_value(name);
  return claims;
}

v1::NodeClaims Promised(NodeId node, uint64_t round, NodeId proposer) {
  return Claim(node, round, proposer, 0, {}, {}, 0, {});
}

v1::NodeClaims Accepted(NodeId node, uint64_t round, NodeId proposer, std::vector<uint64_t> value) {
  return Claim(node, round, proposer, round, proposer, std::move(value), round, proposer);
}

v1::PaxosState State(std::initializer_list<v1::NodeClaims> claims) {
  v1::PaxosState state;
  for (const v1::NodeClaims& entry : claims) *state.add_claims() = entry;
  return state;
}

TEST_CASE("Merge keeps the later promise and the later acceptance of each node", "[ipam][paxos]") {
  Paxos paxos(Node(1), 2);
  REQUIRE(*paxos.Merge(State({Promised(Node(2), 3, Node(2))})));
  CHECK(paxos.known() == 2);
  // Older news about node 2 changes nothing.
  CHECK_FALSE(*paxos.Merge(State({Promised(Node(2), 2, Node(3))})));
  CHECK_FALSE(*paxos.Merge(State({Promised(Node(2), 3, Node(2))})));
  // Newer news does.
  REQUIRE(*paxos.Merge(State({Accepted(Node(2), 4, Node(3), {2, 3})})));
  const v1::NodeClaims& two = paxos.ToProto().claims(1);
  CHECK(two.promise().round() == 4);
  CHECK(two.accepted().round() == 4);
  CHECK(two.accepted_value().value_size() == 2);

  // Claims about ourselves are ignored: only we say what we promised.
  CHECK_FALSE(*paxos.Merge(State({Promised(Node(1), 9, Node(3))})));
  CHECK(paxos.ToProto().claims(0).promise().round() == 0);

  // Thinking adopts the highest promise seen and accepts the matching acceptance.
  CHECK(paxos.Think());
  REQUIRE(paxos.Consensus().has_value());  // nodes 1 and 2 accepted round 4 of node 3
  CHECK(paxos.Consensus()->value == Names({2, 3}));

  // The next proposal numbers above every round seen.
  paxos.Propose();
  CHECK(paxos.ToProto().claims(0).promise().round() == 5);
}

TEST_CASE("Merge rejects malformed state and changes nothing", "[ipam][paxos]") {
  const NodeId n2 = Node(2), n3 = Node(3);
  Paxos paxos(Node(1), 2);
  REQUIRE(*paxos.Merge(State({Accepted(n2, 1, n2, {2})})));
  const std::string before = paxos.ToProto().SerializeAsString();

  auto with_node = [](v1::NodeClaims claims, uint64_t name, uint64_t uid) {
    claims.mutable_node()->set_name(name);
    claims.mutable_node()->set_uid(uid);
    return claims;
  };
  const v1::NodeClaims valid = Promised(n3, 1, n3);
  v1::NodeClaims round_zero_proposer = valid;
  round_zero_proposer.mutable_promise()->set_round(0);
  v1::NodeClaims value_without_acceptance = valid;
  value_without_acceptance.mutable_accepted_value()->add_value(3);
  v1::NodeClaims origin_without_acceptance = valid;
  *origin_without_acceptance.mutable_accepted_value()->mutable_origin() = valid.promise();
  v1::NodeClaims no_origin = Accepted(n3, 1, n3, {3});
  no_origin.mutable_accepted_value()->clear_origin();

  const std::vector<std::pair<const char*, v1::PaxosState>> garbage = {
      {"node name 0", State({with_node(valid, 0, 5)})},
      {"node uid 0", State({with_node(valid, 3, 0)})},
      {"node name over 48 bits", State({with_node(valid, 1ULL << 48, 5)})},
      {"node listed twice", State({valid, Promised(n3, 2, n3)})},
      {"proposer uid 0", State({Promised(n3, 1, NodeId{PeerName(3), 0})})},
      {"proposer name 0", State({Promised(n3, 1, NodeId{PeerName(0), 7})})},
      {"round 0 with a proposer", State({round_zero_proposer})},
      {"round over the limit", State({Promised(n3, Paxos::kMaxRound + 1, n3)})},
      {"accepted above the promise", State({Claim(n3, 1, n3, 2, n3, {3}, 2, n3)})},
      {"accepted without a promise", State({Claim(n3, 0, {}, 2, n3, {3}, 2, n3)})},
      {"accepted an empty value", State({Accepted(n3, 1, n3, {})})},
      {"accepted a value without origin", State({no_origin})},
      {"origin above the acceptance", State({Claim(n3, 2, n3, 2, n3, {3}, 3, n3)})},
      {"value without acceptance", State({value_without_acceptance})},
      {"origin without acceptance", State({origin_without_acceptance})},
      {"unsorted value", State({Accepted(n3, 1, n3, {3, 2})})},
      {"duplicate names in the value", State({Accepted(n3, 1, n3, {3, 3})})},
      {"name 0 in the value", State({Accepted(n3, 1, n3, {0, 3})})},
      {"two values for one proposal",
       State({Accepted(n3, 1, n3, {3}), Accepted(Node(4), 1, n3, {4})})},
      {"a value differing from the one known", State({Accepted(n3, 1, n2, {3})})},
      {"garbage after valid claims", State({valid, with_node(valid, 0, 5)})},
  };
  for (const auto& [what, state] : garbage) {
    INFO(what);
    absl::StatusOr<bool> merged = paxos.Merge(state);
    CHECK(merged.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(paxos.ToProto().SerializeAsString() == before);
    CHECK(paxos.known() == 2);
  }
  CHECK(*paxos.Merge(State({valid})));
}

// Peers gossiping Paxos state through a network that loses, duplicates and reorders messages and
// can be partitioned. Every step checks that no two nodes ever decided differently.
class SimulatedNetwork {
 public:
  struct Faults {
    double loss = 0;
    double duplication = 0;
    double partial = 0;  // the chance that a message carries only some of the sender's claims
  };

  SimulatedNetwork(int size, int quorum, uint64_t seed)
      : rng_(seed), up_(size, true), group_(size, 0) {
    std::set<uint64_t> names;
    while (static_cast<int>(names.size()) < size) names.insert(Uniform(1, 0xffffffffffffULL));
    nodes_.reserve(size);
    for (uint64_t name : names) {
      nodes_.emplace_back(NodeId{PeerName(name), Uniform(1, ~0ULL)}, quorum);
    }
    // Names are drawn sorted; shuffle so that node 0 is not always the lowest.
    std::shuffle(nodes_.begin(), nodes_.end(), rng_);
  }

  int size() const { return static_cast<int>(nodes_.size()); }
  std::vector<int> All() const {
    std::vector<int> all(size());
    for (int i = 0; i < size(); ++i) all[i] = i;
    return all;
  }
  bool Decided(int i) const { return nodes_[i].Consensus().has_value(); }
  int DecidedCount(const std::vector<int>& nodes) const {
    return static_cast<int>(
        std::count_if(nodes.begin(), nodes.end(), [&](int i) { return Decided(i); }));
  }
  // Empty while every decision agrees; otherwise describes the first disagreement.
  const std::string& disagreement() const { return disagreement_; }
  int merge_errors() const { return merge_errors_; }

  uint64_t Uniform(uint64_t low, uint64_t high) {
    return std::uniform_int_distribution<uint64_t>(low, high)(rng_);
  }
  bool Chance(double probability) {
    return std::uniform_real_distribution<double>(0, 1)(rng_) < probability;
  }

  void set_faults(Faults faults) { faults_ = faults; }
  void SetUp(int i, bool up) { up_[i] = up; }
  // Nodes in different groups cannot reach each other; messages in flight between them are lost.
  void SetGroups(std::vector<int> group) { group_ = std::move(group); }
  void Heal() { std::fill(group_.begin(), group_.end(), 0); }
  void RandomPartition() {
    int groups = static_cast<int>(Uniform(1, 3));
    for (int& group : group_) group = static_cast<int>(Uniform(0, groups - 1));
  }

  void Propose(int i) {
    if (!up_[i]) return;
    nodes_[i].Propose();
    nodes_[i].Think();
    Gossip(i);
    Check(i);
  }

  // One event: a proposal by an undecided node (with `propose_chance`), a periodic gossip, or
  // the delivery of a message in flight, picked at random from all of them.
  void Step(double propose_chance) {
    if (Chance(propose_chance)) {
      int i = static_cast<int>(Uniform(0, size() - 1));
      if (!Decided(i)) Propose(i);
    } else if (in_flight_.empty() || Chance(0.1)) {
      Gossip(static_cast<int>(Uniform(0, size() - 1)));
    } else {
      DeliverOne();
    }
  }

  void Run(int steps, double propose_chance) {
    for (int step = 0; step < steps && disagreement_.empty(); ++step) Step(propose_chance);
  }

  // Runs until every node of `nodes` has decided; false if that takes over `max_steps`.
  bool RunUntilDecided(const std::vector<int>& nodes, int max_steps, double propose_chance) {
    for (int step = 0; step < max_steps && disagreement_.empty(); ++step) {
      if (DecidedCount(nodes) == static_cast<int>(nodes.size())) return true;
      Step(propose_chance);
    }
    return DecidedCount(nodes) == static_cast<int>(nodes.size());
  }

 private:
  struct Message {
    int from;
    int to;
    v1::PaxosState state;
  };

  bool Connected(int a, int b) const { return up_[a] && up_[b] && group_[a] == group_[b]; }

  void Gossip(int from) {
    if (!up_[from]) return;
    const v1::PaxosState full = nodes_[from].ToProto();
    for (int to = 0; to < size(); ++to) {
      if (to == from || !Connected(from, to) || Chance(faults_.loss)) continue;
      v1::PaxosState state = full;
      if (Chance(faults_.partial)) {
        // Some claims only, as a peer that knew less would have sent.
        v1::PaxosState some;
        for (const v1::NodeClaims& claims : full.claims()) {
          if (Chance(0.5)) *some.add_claims() = claims;
        }
        state = std::move(some);
      }
      in_flight_.push_back({from, to, state});
      if (Chance(faults_.duplication)) in_flight_.push_back({from, to, state});
    }
  }

  void DeliverOne() {
    std::swap(in_flight_[Uniform(0, in_flight_.size() - 1)], in_flight_.back());
    Message message = std::move(in_flight_.back());
    in_flight_.pop_back();
    if (!Connected(message.from, message.to)) return;
    Paxos& to = nodes_[message.to];
    absl::StatusOr<bool> changed = to.Merge(message.state);
    if (!changed.ok()) {
      ++merge_errors_;
      return;
    }
    if (*changed && to.Think()) Gossip(message.to);
    Check(message.to);
  }

  void Check(int i) {
    std::optional<AcceptedValue> decided = nodes_[i].Consensus();
    if (!decided.has_value() || !disagreement_.empty()) return;
    if (decided->value.empty() || !std::is_sorted(decided->value.begin(), decided->value.end())) {
      disagreement_ = "a decided value is empty or unsorted";
    } else if (!agreed_.has_value()) {
      agreed_ = decided;
    } else if (*agreed_ != *decided) {
      disagreement_ = "node " + std::to_string(i) + " decided a value of round " +
                      std::to_string(decided->origin.round) + " after another of round " +
                      std::to_string(agreed_->origin.round);
    }
  }

  std::mt19937_64 rng_;
  std::vector<Paxos> nodes_;
  std::vector<bool> up_;
  std::vector<int> group_;
  Faults faults_;
  std::vector<Message> in_flight_;
  std::optional<AcceptedValue> agreed_;
  std::string disagreement_;
  int merge_errors_ = 0;
};

constexpr int kSeeds = 200;
constexpr int kSizes[] = {1, 2, 3, 5, 7};
constexpr int kMaxSteps = 100000;
// Undecided nodes propose again rarely compared with message latency, as real retry timers do;
// proposals that chase each other faster than a round can complete never finish.
constexpr double kRetryChance = 0.002;

SimulatedNetwork::Faults RandomFaults(SimulatedNetwork& network) {
  return {.loss = network.Chance(0.2) ? 0 : 0.6 * network.Uniform(0, 100) / 100,
          .duplication = 0.3 * network.Uniform(0, 100) / 100,
          .partial = 0.5 * network.Uniform(0, 100) / 100};
}

// Several nodes propose at once (at least one).
void SimultaneousProposals(SimulatedNetwork& network, const std::vector<int>& nodes) {
  network.Propose(nodes[network.Uniform(0, nodes.size() - 1)]);
  for (int i : nodes) {
    if (network.Chance(0.5)) network.Propose(i);
  }
}

// Lets every node decide over a now reliable network; no two decisions may differ.
void ExpectAllDecideAlike(SimulatedNetwork& network) {
  const bool all_decided = network.RunUntilDecided(network.All(), kMaxSteps, kRetryChance);
  REQUIRE(network.disagreement() == "");
  REQUIRE(network.merge_errors() == 0);
  REQUIRE(all_decided);
}

// Re-partitions the network at random `epochs` times, running `steps` events in each, then heals
// it and has every node decide.
void ChurnThenHeal(SimulatedNetwork& network, int epochs, int steps, double propose_chance) {
  network.set_faults(RandomFaults(network));
  SimultaneousProposals(network, network.All());
  for (int epoch = 0; epoch < epochs; ++epoch) {
    network.RandomPartition();
    network.Run(steps, propose_chance);
  }
  network.Heal();
  network.set_faults({});
  ExpectAllDecideAlike(network);
}

TEST_CASE("Simulated gossip never decides two values and decides once healed", "[ipam][paxos]") {
  int runs = 0;
  for (int size : kSizes) {
    for (int quorum : {Paxos::QuorumFor(size), size}) {
      for (int seed = 0; seed < kSeeds; ++seed) {
        CAPTURE(size, quorum, seed);
        SimulatedNetwork network(size, quorum, seed * 1000 + size * 10 + quorum);
        ChurnThenHeal(network, 6, 300, 0.02);
        ++runs;
      }
    }
  }
  CHECK(runs == 2 * 5 * kSeeds);
}

// Rival proposals and partitions faster than a round completes: the interleavings in which stale
// acceptances of several proposals coexist.
TEST_CASE("Simulated gossip under heavy churn never decides two values", "[ipam][paxos]") {
  for (int size : {3, 5, 7}) {
    for (int seed = 0; seed < kSeeds; ++seed) {
      CAPTURE(size, seed);
      SimulatedNetwork network(size, Paxos::QuorumFor(size), seed * 1000 + size + 300);
      ChurnThenHeal(network, 30, 60, 0.1);
    }
  }
}

TEST_CASE("With quorum N and all nodes connected all decide despite loss", "[ipam][paxos]") {
  for (int size : kSizes) {
    for (int seed = 0; seed < kSeeds; ++seed) {
      CAPTURE(size, seed);
      SimulatedNetwork network(size, size, seed * 1000 + size + 500);
      network.set_faults(RandomFaults(network));
      SimultaneousProposals(network, network.All());
      ExpectAllDecideAlike(network);
    }
  }
}

TEST_CASE("A partitioned minority never decides and the majority does", "[ipam][paxos]") {
  for (int size : {2, 3, 5, 7}) {
    const int quorum = Paxos::QuorumFor(size);
    for (int seed = 0; seed < kSeeds; ++seed) {
      CAPTURE(size, seed);
      SimulatedNetwork network(size, quorum, seed * 1000 + size + 700);
      // Two nodes cannot spare one: both sides are then minorities.
      const int minority_size = size == 2 ? 1 : static_cast<int>(network.Uniform(1, size - quorum));
      std::vector<int> minority, majority, group(size, 0);
      for (int i = 0; i < size; ++i) {
        if (i < minority_size) {
          group[i] = 1;
          minority.push_back(i);
        } else {
          majority.push_back(i);
        }
      }
      network.SetGroups(group);
      network.set_faults(RandomFaults(network));
      SimultaneousProposals(network, network.All());
      network.Run(2000, 0.02);
      network.set_faults({});
      if (static_cast<int>(majority.size()) >= quorum) {
        REQUIRE(network.RunUntilDecided(majority, kMaxSteps, kRetryChance));
      } else {
        network.Run(5000, 0.02);
        REQUIRE(network.DecidedCount(majority) == 0);
      }
      REQUIRE(network.DecidedCount(minority) == 0);

      network.Heal();
      ExpectAllDecideAlike(network);
    }
  }
}

TEST_CASE("Late joiners come to the value the others agreed on", "[ipam][paxos]") {
  for (int size : {3, 5, 7}) {
    const int quorum = Paxos::QuorumFor(size);
    for (int seed = 0; seed < kSeeds; ++seed) {
      CAPTURE(size, seed);
      SimulatedNetwork network(size, quorum, seed * 1000 + size + 900);
      const int late = static_cast<int>(network.Uniform(1, size - quorum));
      std::vector<int> early;
      for (int i = 0; i < size; ++i) {
        if (i < late) {
          network.SetUp(i, false);
        } else {
          early.push_back(i);
        }
      }
      network.set_faults(RandomFaults(network));
      SimultaneousProposals(network, early);
      REQUIRE(network.RunUntilDecided(early, kMaxSteps, kRetryChance));
      REQUIRE(network.DecidedCount(network.All()) == static_cast<int>(early.size()));

      for (int i = 0; i < late; ++i) network.SetUp(i, true);
      // A latecomer may propose too: its proposal must carry the agreed value.
      if (network.Chance(0.5)) network.Propose(0);
      ExpectAllDecideAlike(network);
    }
  }
}

TEST_CASE("A two-node cluster with one node up never decides", "[ipam][paxos]") {
  for (int seed = 0; seed < kSeeds; ++seed) {
    CAPTURE(seed);
    SimulatedNetwork network(2, 2, seed + 1100);
    network.SetUp(1, false);
    network.set_faults(RandomFaults(network));
    network.Propose(0);
    network.Run(3000, 0.05);
    REQUIRE(network.DecidedCount(network.All()) == 0);

    network.SetUp(1, true);
    ExpectAllDecideAlike(network);
  }
}

}  // namespace
}  // namespace weave::ipam
