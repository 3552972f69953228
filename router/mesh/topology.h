// The mesh topology: every peer's record, merged from gossip as a CRDT (a join of records
// ordered by version, then UID, then having a short id), plus our own record, which only we
// write.
//
// Merging the same updates in any order, any number of times, leaves the same records.
// Placeholders (uid 0) stand for peers named in some record's connections of which we have no
// record yet; they exist exactly while some record names them, so they too are a function of
// the merged records. Forgetting unreachable peers is a local decision, not part of the CRDT.
//
// Not thread-safe: the mesh guards a Topology with its own mutex.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "router/mesh/routes.h"
#include "weave/mesh.pb.h"

namespace weave::mesh {

class Topology {
 public:
  // `self.version` is raised to at least 1 and its connections are sorted. Aborts when self's
  // name or uid is 0 or its connections break SetLocalConnections' rules (a bug of ours).
  explicit Topology(PeerInfo self);

  PeerName self_name() const { return self_name_; }
  const PeerInfo& self() const;

  // Replaces our connection list (sorted inside); bumps our version if it differs. Returns true
  // if changed. At most one connection per remote and none to ourselves, else aborts: the
  // connection set the caller keeps must already be keyed by remote.
  bool SetLocalConnections(std::vector<ConnectionInfo> connections);

  // Sets our short id (12 bits; larger aborts), bumping our version when it changes.
  void SetShortId(uint16_t id);

  // Merges a received update. Returns the records that changed our view, in name order: what
  // to forward to our other neighbours. That includes our own record when we had to bump our
  // version past an old incarnation of ourselves (same name, other uid, version >= ours).
  // Records about ourselves are never taken; records with uid 0 carry nothing and are skipped.
  // A malformed update (a name 0 or wider than 48 bits, a short id wider than 12 bits, a record
  // listing itself as a connection, two records for one name, two connections to one remote in
  // a record) returns InvalidArgument with one line naming what was wrong, and changes nothing.
  absl::StatusOr<v1::TopologyUpdate> Merge(const v1::TopologyUpdate& update);

  v1::TopologyUpdate Encode() const;      // every record in name order, placeholders excluded
  v1::TopologyUpdate EncodeSelf() const;  // our record only

  std::vector<PeerInfo> Peers() const;        // sorted by name, self and placeholders included
  const PeerInfo* Find(PeerName name) const;  // nullptr when unknown; invalidated by any change

  // From self over symmetric links in any state, self included.
  std::set<PeerName> Reachable() const;

  // Removes the peers (never placeholders, never self) that have stayed unreachable for at
  // least `grace`, and returns their names in order. Merge has no clock, so a peer's
  // unreachable time starts at the first call here that finds it unreachable: call this
  // periodically and the grace holds to within one period. A peer seen reachable again (here or
  // after any Merge or SetLocalConnections) starts over. A forgotten peer that some remaining
  // record still names turns back into a placeholder.
  std::vector<PeerName> ForgetUnreachable(absl::Time now, absl::Duration grace);

  Routes ComputeRoutes() const;

 private:
  PeerInfo& mutable_self();
  void BumpVersion();
  // Whether `record` (valid) would replace what we hold for its name.
  bool Supersedes(const v1::PeerRecord& record) const;
  // Restores the invariants after any change: placeholders exactly for the names that records
  // list but we have no record of, and no unreachable-since time for a reachable peer.
  void Tidy();

  PeerName self_name_;
  std::map<PeerName, PeerInfo> peers_;  // self included
  std::map<PeerName, absl::Time> unreachable_since_;
};

}  // namespace weave::mesh
