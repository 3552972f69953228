// Peer records as values, and the routes every peer derives from them.
//
// A link A–B exists only when A's record lists B *and* B's lists A ("symmetric"): each side
// reports only its own half, so one record alone cannot prove the link works. The established
// variants further need both halves marked established (the data plane is up both ways).
//
// Routes come from breadth-first trees whose levels are expanded in name order. Because the
// algorithm is deterministic, peers that hold the same records build the same tree for a given
// root: forwarding a broadcast along the source's tree reaches every peer exactly once.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/peer_name.h"

namespace weave::mesh {

// One half of a link, as the peer holding it reports it.
struct ConnectionInfo {
  PeerName name;        // the remote peer
  std::string address;  // host:port of the remote as the holder sees it
  bool outbound = false;
  bool established = false;

  friend bool operator==(const ConnectionInfo&, const ConnectionInfo&) = default;
};

// What the mesh knows of one peer; the unit of the topology CRDT.
struct PeerInfo {
  PeerName name;
  std::string nickname;
  uint64_t uid = 0;  // random per process start; 0 = a placeholder we know only by name
  uint64_t version = 0;
  uint16_t short_id = 0;  // 12 bits
  bool has_short_id = false;
  std::vector<ConnectionInfo> connections;  // sorted by name, at most one per remote

  bool is_placeholder() const { return uid == 0; }

  friend bool operator==(const PeerInfo&, const PeerInfo&) = default;
};

struct Routes {
  // dest -> next hop (self -> self), over established symmetric links only. The data plane
  // uses these: a link that is not established cannot carry frames yet.
  std::map<PeerName, PeerName> unicast;
  // The same over symmetric links in any state; gossip uses these (TCP is up either way).
  std::map<PeerName, PeerName> unicast_all;
  // source -> the neighbours we forward its broadcasts to (our children in the source's tree),
  // in name order. Present, possibly empty, for every source we can reach, self included.
  std::map<PeerName, std::vector<PeerName>> broadcast;
  std::map<PeerName, std::vector<PeerName>> broadcast_all;

  friend bool operator==(const Routes&, const Routes&) = default;
};

// Pure: deterministic for a given set of records, in any order. `self` need not have a record
// (it then reaches only itself). Connections naming peers without a record are ignored.
Routes ComputeRoutes(const std::vector<PeerInfo>& peers, PeerName self);

// The peers reachable from `self` over symmetric links in any state, self included; the keys
// of ComputeRoutes(...).unicast_all, without the cost of the broadcast trees.
std::set<PeerName> ReachableFrom(const std::vector<PeerInfo>& peers, PeerName self);

}  // namespace weave::mesh
