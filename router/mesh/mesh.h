// The mesh: this peer's connections to the others over TCP, the topology they gossip, the
// routes computed from it, and named gossip channels for other parts of the router (IPAM).
//
// Threads: one accepts (rate limited), one per connection reads (the handshake included) and
// one per connection writes; a loop thread dials due targets, sends heartbeats and periodic
// gossip, forgets long-unreachable peers and keeps CONN_LIMIT. All shared state sits behind
// one mutex, which is never held while talking to a socket or calling a channel's handler.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <functional>
#include <memory>
#include <optional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/net/ip.h"
#include "common/peer_name.h"
#include "router/mesh/connection.h"
#include "router/mesh/connection_maker.h"
#include "router/mesh/topology.h"
#include "weave/router.pb.h"

namespace weave::mesh {

// A live connection as the data plane needs it.
struct Neighbour {
  PeerName name;
  std::string nickname;
  uint64_t connection_uid = 0;
  std::string remote_ip;
  uint16_t listen_port = 0;  // the remote's mesh port, also its sleeve UDP port
  bool encrypted = false;
  bool trusted = false;  // both ends trust each other's address (--trusted-subnets)
  std::vector<std::string> overlays;  // what the remote offers, e.g. fastdp sleeve
  // The data plane's key when the link's pod traffic must be sealed (encrypted, not trusted).
  std::optional<crypto::Key32> data_key;
};

// What the data plane says about a connection in `weave status connections`.
struct OverlayLinkStatus {
  std::string overlay;  // "fastdp", "sleeve"; "" while none works (the connection is pending)
  std::map<std::string, std::string> attrs;  // e.g. mtu
};

struct MeshConfig {
  PeerName name;
  std::string nickname;
  uint64_t uid = 0;
  std::string bind_host = "0.0.0.0";
  uint16_t port = 6783;
  std::string password;  // empty: unencrypted
  std::vector<net::Cidr> trusted_subnets;
  uint32_t conn_limit = 30;  // 0: unlimited
  bool discovery = true;
  std::vector<std::string> targets;  // host:port
  // A heartbeat goes out this often; a connection silent for three of them is closed.
  absl::Duration heartbeat = absl::Seconds(10);
  absl::Duration handshake_timeout = absl::Seconds(10);
  absl::Duration gossip_interval = absl::Seconds(30);
  // Peers unreachable this long are forgotten.
  absl::Duration forget_after = absl::Minutes(1);
  BackoffOptions backoff;
  // Channels known from the start, so that the first connections already carry their state.
  std::map<std::string, class GossipHandler*> channels;
  // Data-plane modes this peer offers, in preference order (the handshake carries them).
  std::vector<std::string> overlays;
  // When set, a connection is established only once its overlay works, and status shows the
  // overlay. Called with the mesh's lock held: it must not call into the mesh.
  std::function<std::optional<OverlayLinkStatus>(PeerName)> overlay_status;
};

// A gossip channel's owner (IPAM's ring, later). Called on connection threads, never with the
// mesh's lock held, so it may call back into the mesh.
class GossipHandler {
 public:
  virtual ~GossipHandler() = default;
  // Merges a neighbour's gossip; returns what was new to us (forwarded to our other
  // neighbours) or "" when nothing was. An error drops the message (and is logged).
  virtual absl::StatusOr<std::string> OnGossip(PeerName sender, absl::string_view payload) = 0;
  virtual absl::Status OnBroadcast(PeerName source, absl::string_view payload) = 0;
  virtual absl::Status OnUnicast(PeerName source, absl::string_view payload) = 0;
  // Our whole state, for a new neighbour and the periodic gossip; "" when there is none.
  virtual std::string FullState() = 0;
};

class Mesh {
 public:
  static absl::StatusOr<std::unique_ptr<Mesh>> Start(MeshConfig config);
  ~Mesh();

  // Closes every connection and the listener and joins every thread. Idempotent.
  void Stop();

  // Registers a channel before or after start; `handler` must outlive the mesh.
  void AddChannel(const std::string& channel, GossipHandler* handler);
  // Sends to every neighbour.
  void Gossip(const std::string& channel, const std::string& payload);
  // Delivers to every reachable peer along our broadcast tree.
  void Broadcast(const std::string& channel, const std::string& payload);
  // Delivers to one peer along the unicast routes; Unavailable when it is unreachable.
  absl::Status Unicast(const std::string& channel, PeerName destination,
                       const std::string& payload);

  // `weave connect`: adds targets (or replaces the list). InvalidArgument for a bad address.
  absl::Status Connect(const std::vector<std::string>& peers, bool replace);
  // `weave forget`: drops targets; NotFound naming the ones that were not targets.
  absl::Status Forget(const std::vector<std::string>& peers);

  // Peers, connections, targets and routes for `weave status`/`report`.
  void FillStatus(::weave::v1::RouterStatus* router) const;
  std::set<PeerName> ReachablePeers() const;
  // The registered connections (one per peer), handshake done.
  std::vector<Neighbour> Neighbours() const;
  Routes CurrentRoutes() const;

 private:
  explicit Mesh(MeshConfig config, Fd listener);
  using ConnectionPtr = std::shared_ptr<Connection>;

  void AcceptLoop();
  void Loop();
  void Spawn(std::function<void()> body);
  void Dial(std::string target);
  void Serve(ConnectionPtr connection);
  void ServeRegistered(const ConnectionPtr& connection);
  absl::Status Register(const ConnectionPtr& connection);
  void Unregister(const ConnectionPtr& connection, const std::string& reason);
  void Dispatch(const ConnectionPtr& from, v1::Message& message);
  void DispatchGossip(const ConnectionPtr& from, const v1::Gossip& gossip);

  // With mu_ held.
  bool MayDialLocked(std::optional<PeerName> last_peer) const;
  bool AdmitLocked(PeerName remote) const;
  void LocalConnectionsChangedLocked();
  void TopologyChangedLocked();
  void SendLocked(PeerName to, const v1::Message& message);
  void SendToNeighboursLocked(const v1::Message& message, PeerName except);
  void TrimLocked(absl::Time now);
  std::string ConnectionInfoLocked(const Connection& connection,
                                  const std::string& overlay) const;

  const MeshConfig config_;
  const LocalIdentity local_;
  Fd listener_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  Topology topology_;
  Routes routes_;
  ConnectionMaker maker_;
  struct Registered {
    ConnectionPtr connection;
    bool established = false;
    absl::Time since;
  };
  std::map<PeerName, Registered> connections_;
  std::set<ConnectionPtr> live_;  // every open connection, handshaking ones included
  size_t dialling_ = 0;
  std::map<std::string, GossipHandler*> channels_;
  uint64_t terminations_ = 0;

  std::mutex threads_mu_;
  std::map<std::thread::id, std::thread> threads_;
  std::vector<std::thread::id> finished_;
  std::thread accept_thread_;
  std::thread loop_thread_;
};

}  // namespace weave::mesh
