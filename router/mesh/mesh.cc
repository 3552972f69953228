#include "router/mesh/mesh.h"

#include <sys/socket.h>

#include <algorithm>
#include <deque>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "spdlog/spdlog.h"

namespace weave::mesh {
namespace {

constexpr char kTopologyChannel[] = "topology";
// Accepts are rate limited like the original's: bursts of 20, then one per 50 ms.
constexpr double kAcceptBurst = 20;
constexpr absl::Duration kAcceptRefill = absl::Milliseconds(50);
// The loop wakes at least this often, and never more often than the floor.
constexpr absl::Duration kLoopMax = absl::Seconds(1);
constexpr absl::Duration kLoopFloor = absl::Milliseconds(200);
// CONN_LIMIT is kept by dropping redundant connections no sooner than this after they came up.
constexpr absl::Duration kTrimGrace = absl::Seconds(3);

double Jitter() {
  static thread_local std::mt19937_64 generator{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(generator);
}

std::string NameNick(PeerName name, const std::string& nickname) {
  return absl::StrCat(name.ToString(), "(", nickname, ")");
}

// Whether `target` stays reachable from `self` when the link self–`without` is gone; links
// count when both ends list each other.
bool ReachableWithout(const std::vector<PeerInfo>& peers, PeerName self, PeerName without,
                      PeerName target) {
  std::map<PeerName, const PeerInfo*> by_name;
  for (const PeerInfo& peer : peers) by_name[peer.name] = &peer;
  auto linked = [&](PeerName a, PeerName b) {
    auto it = by_name.find(b);
    if (it == by_name.end()) return false;
    for (const ConnectionInfo& c : it->second->connections) {
      if (c.name == a) return true;
    }
    return false;
  };
  std::set<PeerName> seen = {self};
  std::deque<PeerName> queue = {self};
  while (!queue.empty()) {
    PeerName at = queue.front();
    queue.pop_front();
    if (at == target) return true;
    auto it = by_name.find(at);
    if (it == by_name.end()) continue;
    for (const ConnectionInfo& c : it->second->connections) {
      bool excluded = (at == self && c.name == without) || (at == without && c.name == self);
      if (excluded || seen.count(c.name) || !linked(at, c.name)) continue;
      seen.insert(c.name);
      queue.push_back(c.name);
    }
  }
  return false;
}

v1::Message GossipMessage(v1::Gossip::Kind kind, const std::string& channel, PeerName source,
                          std::string payload) {
  v1::Message message;
  v1::Gossip* gossip = message.mutable_gossip();
  gossip->set_kind(kind);
  gossip->set_channel(channel);
  gossip->set_source(source.value());
  gossip->set_payload(std::move(payload));
  return message;
}

LocalIdentity MakeLocalIdentity(const MeshConfig& config) {
  LocalIdentity local;
  local.name = config.name;
  local.nickname = config.nickname;
  local.uid = config.uid;
  local.listen_port = config.port;
  local.password = config.password;
  local.trusted_subnets = config.trusted_subnets;
  local.overlays = config.overlays;
  return local;
}

PeerInfo SelfInfo(const MeshConfig& config) {
  PeerInfo self;
  self.name = config.name;
  self.nickname = config.nickname;
  self.uid = config.uid;
  self.version = 1;
  self.short_id = static_cast<uint16_t>(Jitter() * 4096) & 0xfff;
  self.has_short_id = true;
  return self;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Mesh>> Mesh::Start(MeshConfig config) {
  ASSIGN_OR_RETURN(Fd listener, Listen(config.bind_host, config.port));
  std::unique_ptr<Mesh> mesh(new Mesh(std::move(config), std::move(listener)));
  {
    std::lock_guard<std::mutex> lock(mesh->mu_);
    mesh->maker_.AddTargets(mesh->config_.targets);
  }
  mesh->accept_thread_ = std::thread([m = mesh.get()] { m->AcceptLoop(); });
  mesh->loop_thread_ = std::thread([m = mesh.get()] { m->Loop(); });
  spdlog::info("Listening for peers on TCP {}:{}; communication between peers is {}",
               mesh->config_.bind_host, mesh->config_.port,
               mesh->config_.password.empty() ? "unencrypted" : "encrypted");
  return mesh;
}

Mesh::Mesh(MeshConfig config, Fd listener)
    : config_(std::move(config)),
      local_(MakeLocalIdentity(config_)),
      listener_(std::move(listener)),
      topology_(SelfInfo(config_)),
      maker_(config_.backoff, Jitter),
      channels_(config_.channels) {
  routes_ = topology_.ComputeRoutes();
}

Mesh::~Mesh() { Stop(); }

void Mesh::Stop() {
  std::vector<ConnectionPtr> open;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    wake_.notify_all();
    // Peers hear why, after what is already queued for them (a last ring update, say); a
    // peer that does not take it within the grace is cut off below.
    for (const auto& [name, registered] : connections_) {
      registered.connection->Refuse(v1::Refusal::SHUTDOWN, "the peer is stopping");
    }
    wake_.wait_for(lock, std::chrono::seconds(2), [&] { return connections_.empty(); });
    open.assign(live_.begin(), live_.end());
  }
  shutdown(listener_.get(), SHUT_RDWR);
  for (const ConnectionPtr& connection : open) connection->Shutdown();
  if (accept_thread_.joinable()) accept_thread_.join();
  if (loop_thread_.joinable()) loop_thread_.join();
  std::map<std::thread::id, std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(threads_mu_);
    threads.swap(threads_);
  }
  for (auto& [id, thread] : threads) thread.join();
}

void Mesh::Spawn(std::function<void()> body) {
  std::lock_guard<std::mutex> lock(threads_mu_);
  std::thread thread([this, body = std::move(body)] {
    body();
    std::lock_guard<std::mutex> done(threads_mu_);
    finished_.push_back(std::this_thread::get_id());
  });
  threads_.emplace(thread.get_id(), std::move(thread));
}

void Mesh::AcceptLoop() {
  double tokens = kAcceptBurst;
  absl::Time refilled = absl::Now();
  while (true) {
    absl::Time now = absl::Now();
    tokens = std::min(kAcceptBurst, tokens + (now - refilled) / kAcceptRefill);
    refilled = now;
    if (tokens < 1) {
      absl::SleepFor(kAcceptRefill * (1 - tokens));
      continue;
    }
    int fd = accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      spdlog::error("Accepting peer connections: {}", strerror(errno));
      absl::SleepFor(absl::Milliseconds(100));
      continue;
    }
    tokens -= 1;
    auto connection = std::make_shared<Connection>(Fd(fd), /*outbound=*/false, "");
    Spawn([this, connection] { Serve(connection); });
  }
}

void Mesh::Dial(std::string target) {
  absl::StatusOr<net::HostPort> address = net::HostPort::Parse(target, config_.port);
  absl::StatusOr<Fd> fd = address.ok()
                              ? mesh::Dial(address->host, address->port, config_.handshake_timeout)
                              : absl::StatusOr<Fd>(address.status());
  if (!fd.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    dialling_--;
    maker_.Failed(target, fd.status().message(), absl::Now());
    spdlog::debug("Connection to {} failed: {}", target, fd.status().message());
    return;
  }
  Serve(std::make_shared<Connection>(std::move(*fd), /*outbound=*/true, target));
}

void Mesh::Serve(ConnectionPtr connection) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      if (connection->outbound()) dialling_--;
      return;
    }
    live_.insert(connection);
  }
  absl::Status handshake =
      connection->Handshake(local_, absl::Now() + config_.handshake_timeout);
  if (absl::IsDeadlineExceeded(handshake)) {
    handshake = absl::DeadlineExceededError(absl::StrCat(
        "handshake not completed within ", absl::FormatDuration(config_.handshake_timeout)));
  }
  absl::Status registered = handshake;
  std::optional<std::pair<v1::Refusal::Code, std::string>> refusal;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (connection->outbound()) dialling_--;
    if (handshake.ok()) {
      registered = Register(connection);
      if (!registered.ok() && absl::IsResourceExhausted(registered)) {
        refusal = {v1::Refusal::LIMIT, std::string(registered.message())};
      } else if (!registered.ok() && absl::IsAlreadyExists(registered)) {
        refusal = {v1::Refusal::DUPLICATE, std::string(registered.message())};
      }
    } else if (connection->outbound()) {
      maker_.Failed(connection->target(), handshake.message(), absl::Now());
    }
  }
  if (!handshake.ok()) {
    std::string who = connection->outbound()
                          ? absl::StrCat("Connection to ", connection->target())
                          : absl::StrCat("Connection from ", connection->remote_address());
    spdlog::warn("{} refused: {}", who, handshake.message());
  } else if (refusal) {
    connection->Refuse(refusal->first, refusal->second);
  } else if (registered.ok()) {
    ServeRegistered(connection);
  }
  connection->Shutdown();
  connection->Close();
  std::lock_guard<std::mutex> lock(mu_);
  live_.erase(connection);
}

absl::Status Mesh::Register(const ConnectionPtr& connection) {
  const RemoteIdentity& remote = connection->remote();
  const absl::Time now = absl::Now();
  const std::string key = connection->outbound() ? connection->target()
                                                 : connection->dial_address();
  if (remote.name == config_.name) {
    if (remote.uid == config_.uid) {
      spdlog::info("{} is ourselves; not connecting to it again", connection->remote_address());
      if (connection->outbound()) maker_.NeverRetry(key, "connection to ourselves");
      return absl::FailedPreconditionError("connection to ourselves");
    }
    spdlog::error(
        "Peer name collision: {} has our name {}; give every node its own machine-id or "
        "--name. Not connecting to it again",
        connection->remote_address(), config_.name.ToString());
    if (connection->outbound()) maker_.NeverRetry(key, "peer name collision");
    return absl::FailedPreconditionError("peer name collision");
  }
  auto existing = connections_.find(remote.name);
  if (existing != connections_.end()) {
    // Both ends see both connections and keep the same one: the lower uid.
    if (existing->second.connection->uid() <= connection->uid()) {
      if (connection->outbound()) maker_.Connected(key, remote.name, now);
      return absl::AlreadyExistsError("duplicate connection");
    }
    existing->second.connection->Refuse(v1::Refusal::DUPLICATE, "duplicate connection");
    existing->second = {connection, false, now};
  } else if (!AdmitLocked(remote.name)) {
    if (connection->outbound()) {
      maker_.Failed(key, absl::StrCat("connection limit reached (", config_.conn_limit, ")"),
                    now);
    }
    spdlog::info("Not keeping the connection with {} at {}: connection limit reached ({})",
                 NameNick(remote.name, remote.nickname), connection->remote_address(),
                 config_.conn_limit);
    return absl::ResourceExhaustedError(
        absl::StrCat("connection limit reached (", config_.conn_limit, ")"));
  } else {
    connections_[remote.name] = {connection, false, now};
  }
  maker_.Connected(key, remote.name, now);
  spdlog::info("Connected to {} at {} ({}, {}{})", NameNick(remote.name, remote.nickname),
               connection->outbound() ? connection->target() : connection->remote_address(),
               connection->outbound() ? "outbound" : "inbound",
               connection->encrypted() ? "encrypted" : "unencrypted",
               connection->trusted() ? ", trusted" : "");
  LocalConnectionsChangedLocked();
  return absl::OkStatus();
}

void Mesh::ServeRegistered(const ConnectionPtr& connection) {
  connection->StartWriter();
  // A new neighbour gets everything we know, on every channel.
  std::vector<std::pair<std::string, GossipHandler*>> channels;
  {
    std::lock_guard<std::mutex> lock(mu_);
    connection->Send(GossipMessage(v1::Gossip::GOSSIP, kTopologyChannel, config_.name,
                                   topology_.Encode().SerializeAsString()));
    channels.assign(channels_.begin(), channels_.end());
  }
  for (const auto& [name, handler] : channels) {
    std::string state = handler->FullState();
    if (!state.empty()) {
      connection->Send(GossipMessage(v1::Gossip::GOSSIP, name, config_.name, std::move(state)));
    }
  }
  std::string reason;
  while (true) {
    absl::StatusOr<v1::Message> message = connection->Receive(absl::Now() + 3 * config_.heartbeat);
    if (!message.ok()) {
      reason = absl::IsDeadlineExceeded(message.status())
                   ? absl::StrCat("no heartbeat for ", absl::FormatDuration(3 * config_.heartbeat))
                   : std::string(message.status().message());
      break;
    }
    if (message->has_refusal()) {
      reason = message->refusal().reason().substr(0, 200);
      break;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = connections_.find(connection->remote().name);
      if (it != connections_.end() && it->second.connection == connection &&
          !it->second.established) {
        it->second.established = true;
        LocalConnectionsChangedLocked();
      }
    }
    Dispatch(connection, *message);
  }
  Unregister(connection, reason);
}

void Mesh::Unregister(const ConnectionPtr& connection, const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  const RemoteIdentity& remote = connection->remote();
  auto it = connections_.find(remote.name);
  if (it == connections_.end() || it->second.connection != connection) return;
  connections_.erase(it);
  terminations_++;
  wake_.notify_all();  // Stop waits for connections to drain
  const std::string key = connection->outbound() ? connection->target()
                                                 : connection->dial_address();
  maker_.Disconnected(key, reason, absl::Now());
  if (!stopping_) {
    spdlog::info("Connection to {} at {} terminated: {}", NameNick(remote.name, remote.nickname),
                 connection->outbound() ? connection->target() : connection->remote_address(),
                 reason);
  }
  LocalConnectionsChangedLocked();
}

void Mesh::Dispatch(const ConnectionPtr& from, v1::Message& message) {
  if (message.has_gossip()) DispatchGossip(from, message.gossip());
  // Heartbeats need nothing beyond having arrived.
}

void Mesh::DispatchGossip(const ConnectionPtr& from, const v1::Gossip& gossip) {
  const PeerName sender = from->remote().name;
  const PeerName source(gossip.source());
  if (gossip.channel() == kTopologyChannel) {
    v1::TopologyUpdate update;
    if (!update.ParseFromString(gossip.payload())) {
      spdlog::warn("Ignoring a malformed topology update from {}", sender.ToString());
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    absl::StatusOr<v1::TopologyUpdate> delta = topology_.Merge(update);
    if (!delta.ok()) {
      spdlog::warn("Ignoring a topology update from {}: {}", sender.ToString(),
                   delta.status().message());
      return;
    }
    if (delta->peers_size() == 0) return;
    SendToNeighboursLocked(GossipMessage(v1::Gossip::GOSSIP, kTopologyChannel, config_.name,
                                         delta->SerializeAsString()),
                           sender);
    TopologyChangedLocked();
    return;
  }
  GossipHandler* handler = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = channels_.find(gossip.channel());
    if (it != channels_.end()) handler = it->second;
  }
  switch (gossip.kind()) {
    case v1::Gossip::GOSSIP: {
      if (handler == nullptr) return;  // nobody here understands it: cannot merge or relay
      absl::StatusOr<std::string> delta = handler->OnGossip(sender, gossip.payload());
      if (!delta.ok()) {
        spdlog::warn("Ignoring {} gossip from {}: {}", gossip.channel(), sender.ToString(),
                     delta.status().message());
        return;
      }
      if (delta->empty()) return;
      std::lock_guard<std::mutex> lock(mu_);
      SendToNeighboursLocked(
          GossipMessage(v1::Gossip::GOSSIP, gossip.channel(), config_.name, std::move(*delta)),
          sender);
      return;
    }
    case v1::Gossip::BROADCAST: {
      if (handler != nullptr && source != config_.name) {
        if (absl::Status handled = handler->OnBroadcast(source, gossip.payload()); !handled.ok()) {
          spdlog::warn("Ignoring {} broadcast from {}: {}", gossip.channel(), source.ToString(),
                       handled.message());
        }
      }
      v1::Message forward;
      *forward.mutable_gossip() = gossip;
      std::lock_guard<std::mutex> lock(mu_);
      auto hops = routes_.broadcast_all.find(source);
      if (hops == routes_.broadcast_all.end()) return;
      for (PeerName hop : hops->second) {
        if (hop != sender) SendLocked(hop, forward);
      }
      return;
    }
    case v1::Gossip::UNICAST: {
      const PeerName destination(gossip.destination());
      if (destination == config_.name) {
        if (handler == nullptr) return;
        if (absl::Status handled = handler->OnUnicast(source, gossip.payload()); !handled.ok()) {
          spdlog::warn("Ignoring {} message from {}: {}", gossip.channel(), source.ToString(),
                       handled.message());
        }
        return;
      }
      v1::Message forward;
      *forward.mutable_gossip() = gossip;
      std::lock_guard<std::mutex> lock(mu_);
      auto hop = routes_.unicast_all.find(destination);
      if (hop != routes_.unicast_all.end()) SendLocked(hop->second, forward);
      return;
    }
    default:
      spdlog::warn("Ignoring gossip of unknown kind {} from {}", static_cast<int>(gossip.kind()),
                   sender.ToString());
  }
}

bool Mesh::MayDialLocked(std::optional<PeerName> last_peer) const {
  if (last_peer && connections_.count(*last_peer)) return false;
  if (config_.conn_limit == 0) return true;
  const size_t count = connections_.size() + dialling_;
  if (count < config_.conn_limit) return true;
  if (count >= config_.conn_limit + 1) return false;
  // One over the limit, only to reach a part of the network we cannot reach otherwise.
  return !last_peer || !topology_.Reachable().count(*last_peer);
}

bool Mesh::AdmitLocked(PeerName remote) const {
  if (config_.conn_limit == 0 || connections_.size() < config_.conn_limit) return true;
  return connections_.size() < config_.conn_limit + 1 && !topology_.Reachable().count(remote);
}

void Mesh::LocalConnectionsChangedLocked() {
  std::vector<ConnectionInfo> links;
  for (const auto& [name, registered] : connections_) {
    // The address others may dial (discovery): the remote's listening port, either way.
    links.push_back({name, registered.connection->dial_address(),
                     registered.connection->outbound(), registered.established});
  }
  if (!topology_.SetLocalConnections(std::move(links))) return;
  SendToNeighboursLocked(GossipMessage(v1::Gossip::GOSSIP, kTopologyChannel, config_.name,
                                       topology_.EncodeSelf().SerializeAsString()),
                         PeerName());
  TopologyChangedLocked();
}

void Mesh::TopologyChangedLocked() {
  routes_ = topology_.ComputeRoutes();
  // Short ids must be unique among reachable peers: the lower name keeps a contested one.
  const PeerInfo& self = topology_.self();
  std::set<uint16_t> used;
  bool contested = false;
  for (const PeerInfo& peer : topology_.Peers()) {
    if (peer.name == self.name || !peer.has_short_id) continue;
    used.insert(peer.short_id);
    if (peer.short_id == self.short_id && peer.name < self.name) contested = true;
  }
  if (contested && used.size() < 4096) {
    uint16_t id = self.short_id;
    while (used.count(id)) id = static_cast<uint16_t>(Jitter() * 4096) & 0xfff;
    topology_.SetShortId(id);
    SendToNeighboursLocked(GossipMessage(v1::Gossip::GOSSIP, kTopologyChannel, config_.name,
                                         topology_.EncodeSelf().SerializeAsString()),
                           PeerName());
  }
  if (config_.discovery) {
    std::set<std::string> discovered;
    for (const PeerInfo& peer : topology_.Peers()) {
      for (const ConnectionInfo& c : peer.connections) {
        if (c.name == config_.name || connections_.count(c.name) || c.address.empty()) continue;
        if (net::HostPort::Parse(c.address).ok()) discovered.insert(c.address);
      }
    }
    maker_.SetDiscovered(discovered);
  }
  wake_.notify_all();
}

void Mesh::SendLocked(PeerName to, const v1::Message& message) {
  auto it = connections_.find(to);
  if (it != connections_.end()) it->second.connection->Send(message);
}

void Mesh::SendToNeighboursLocked(const v1::Message& message, PeerName except) {
  for (const auto& [name, registered] : connections_) {
    if (name != except) registered.connection->Send(message);
  }
}

void Mesh::TrimLocked(absl::Time now) {
  if (config_.conn_limit == 0 || connections_.size() <= config_.conn_limit) return;
  std::vector<PeerInfo> peers = topology_.Peers();
  for (const auto& [name, registered] : connections_) {
    if (!registered.established || now - registered.since < kTrimGrace) continue;
    if (!ReachableWithout(peers, config_.name, name, name)) continue;
    spdlog::info("Dropping the connection to {}: {} is reachable through other peers and "
                 "the connection limit is {}",
                 NameNick(name, registered.connection->remote().nickname), name.ToString(),
                 config_.conn_limit);
    registered.connection->Refuse(
        v1::Refusal::LIMIT, absl::StrCat("connection limit reached (", config_.conn_limit,
                                         "): dropping a redundant connection"));
    return;  // one per round: the topology must catch up before the next
  }
}

void Mesh::Loop() {
  absl::Time next_heartbeat = absl::Now() + config_.heartbeat;
  absl::Time next_gossip = absl::Now() + config_.gossip_interval;
  absl::Time next_trim = absl::Now() + kTrimGrace * (1 + Jitter());
  while (true) {
    std::vector<std::string> dials;
    std::vector<std::pair<std::string, GossipHandler*>> full_gossip;
    std::vector<std::thread> finished;
    {
      std::unique_lock<std::mutex> lock(mu_);
      absl::Time now = absl::Now();
      absl::Time next = std::min({maker_.NextDue(), next_heartbeat, now + kLoopMax});
      next = std::max(next, now + kLoopFloor);
      wake_.wait_for(lock, absl::ToChronoNanoseconds(next - now));
      if (stopping_) return;
      now = absl::Now();
      dials = maker_.Due(now, [&](absl::string_view, std::optional<PeerName> last_peer) {
        if (!MayDialLocked(last_peer)) return false;
        dialling_++;
        return true;
      });
      if (now >= next_heartbeat) {
        v1::Message heartbeat;
        heartbeat.mutable_heartbeat();
        SendToNeighboursLocked(heartbeat, PeerName());
        next_heartbeat = now + config_.heartbeat;
      }
      if (now >= next_gossip) {
        SendToNeighboursLocked(GossipMessage(v1::Gossip::GOSSIP, kTopologyChannel, config_.name,
                                             topology_.Encode().SerializeAsString()),
                               PeerName());
        full_gossip.assign(channels_.begin(), channels_.end());
        next_gossip = now + config_.gossip_interval;
      }
      if (!topology_.ForgetUnreachable(now, config_.forget_after).empty()) {
        TopologyChangedLocked();
      }
      if (now >= next_trim) {
        TrimLocked(now);
        next_trim = now + kTrimGrace * (0.5 + Jitter());
      }
    }
    {
      std::lock_guard<std::mutex> lock(threads_mu_);
      for (std::thread::id id : finished_) {
        auto it = threads_.find(id);
        if (it == threads_.end()) continue;
        finished.push_back(std::move(it->second));
        threads_.erase(it);
      }
      finished_.clear();
    }
    for (std::thread& thread : finished) thread.join();
    for (std::string& target : dials) {
      Spawn([this, target = std::move(target)]() mutable { Dial(std::move(target)); });
    }
    for (const auto& [name, handler] : full_gossip) Gossip(name, handler->FullState());
  }
}

void Mesh::AddChannel(const std::string& channel, GossipHandler* handler) {
  std::lock_guard<std::mutex> lock(mu_);
  channels_[channel] = handler;
}

void Mesh::Gossip(const std::string& channel, const std::string& payload) {
  if (payload.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  SendToNeighboursLocked(GossipMessage(v1::Gossip::GOSSIP, channel, config_.name, payload),
                         PeerName());
}

void Mesh::Broadcast(const std::string& channel, const std::string& payload) {
  std::lock_guard<std::mutex> lock(mu_);
  auto hops = routes_.broadcast_all.find(config_.name);
  if (hops == routes_.broadcast_all.end()) return;
  v1::Message message = GossipMessage(v1::Gossip::BROADCAST, channel, config_.name, payload);
  for (PeerName hop : hops->second) SendLocked(hop, message);
}

absl::Status Mesh::Unicast(const std::string& channel, PeerName destination,
                           const std::string& payload) {
  std::lock_guard<std::mutex> lock(mu_);
  auto hop = routes_.unicast_all.find(destination);
  if (hop == routes_.unicast_all.end() || destination == config_.name) {
    return absl::UnavailableError(absl::StrCat("peer ", destination.ToString(),
                                               " is not reachable"));
  }
  v1::Message message = GossipMessage(v1::Gossip::UNICAST, channel, config_.name, payload);
  message.mutable_gossip()->set_destination(destination.value());
  SendLocked(hop->second, message);
  return absl::OkStatus();
}

absl::Status Mesh::Connect(const std::vector<std::string>& peers, bool replace) {
  std::vector<std::string> targets;
  std::vector<std::string> bad;
  for (const std::string& peer : peers) {
    absl::StatusOr<net::HostPort> address = net::HostPort::Parse(peer, config_.port);
    if (address.ok()) {
      targets.push_back(address->ToString());
    } else {
      bad.push_back(std::string(address.status().message()));
    }
  }
  if (!bad.empty()) return absl::InvalidArgumentError(absl::StrJoin(bad, "; "));
  std::lock_guard<std::mutex> lock(mu_);
  if (replace) {
    std::vector<std::string> old;
    for (const std::string& target : maker_.DirectTargets()) {
      if (std::find(targets.begin(), targets.end(), target) == targets.end()) {
        old.push_back(target);
      }
    }
    maker_.ForgetTargets(old);
  }
  maker_.AddTargets(targets);
  wake_.notify_all();
  return absl::OkStatus();
}

absl::Status Mesh::Forget(const std::vector<std::string>& peers) {
  std::vector<std::string> targets;
  for (const std::string& peer : peers) {
    absl::StatusOr<net::HostPort> address = net::HostPort::Parse(peer, config_.port);
    if (!address.ok()) return address.status();
    targets.push_back(address->ToString());
  }
  std::lock_guard<std::mutex> lock(mu_);
  maker_.ForgetTargets(targets);
  return absl::OkStatus();
}

std::string Mesh::ConnectionInfoLocked(const Connection& connection,
                                      const std::string& overlay) const {
  std::string info;
  if (!config_.password.empty()) {
    info = absl::StrFormat("%-11s ", connection.trusted() ? "unencrypted" : "encrypted");
  }
  if (!overlay.empty()) absl::StrAppend(&info, absl::StrFormat("%-6s ", overlay));
  return absl::StrCat(info, NameNick(connection.remote().name, connection.remote().nickname));
}

std::vector<Neighbour> Mesh::Neighbours() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Neighbour> out;
  for (const auto& [name, registered] : connections_) {
    const Connection& c = *registered.connection;
    out.push_back({name, c.remote().nickname, c.uid(), c.remote_ip(), c.remote().listen_port,
                   c.encrypted(), c.trusted(), c.remote().overlays,
                   c.encrypted() && !c.trusted() ? c.data_key() : std::nullopt});
  }
  return out;
}

void Mesh::FillStatus(::weave::v1::RouterStatus* router) const {
  std::lock_guard<std::mutex> lock(mu_);
  router->clear_peers();
  std::map<PeerName, std::string> nicknames;
  std::vector<PeerInfo> peers = topology_.Peers();
  for (const PeerInfo& peer : peers) nicknames[peer.name] = peer.nickname;
  for (const PeerInfo& peer : peers) {
    ::weave::v1::Peer* out = router->add_peers();
    out->set_name(peer.name.ToString());
    out->set_nickname(peer.nickname);
    out->set_uid(peer.uid);
    out->set_short_id(peer.short_id);
    out->set_version(peer.version);
    for (const ConnectionInfo& c : peer.connections) {
      ::weave::v1::PeerConnection* link = out->add_connections();
      link->set_name(c.name.ToString());
      link->set_nickname(nicknames[c.name]);
      link->set_address(c.address);
      link->set_outbound(c.outbound);
      link->set_established(c.established);
    }
  }
  for (const auto& [name, registered] : connections_) {
    const Connection& connection = *registered.connection;
    ::weave::v1::Connection* out = router->add_connections();
    out->set_address(connection.outbound() ? connection.target() : connection.remote_address());
    out->set_outbound(connection.outbound());
    bool established = registered.established;
    std::string overlay;
    if (config_.overlay_status) {
      std::optional<OverlayLinkStatus> link = config_.overlay_status(name);
      if (link) {
        overlay = link->overlay;
        out->mutable_attrs()->insert(link->attrs.begin(), link->attrs.end());
      }
      established = established && !overlay.empty();
    }
    out->set_state(established ? "established" : "pending");
    out->set_info(ConnectionInfoLocked(connection, overlay));
    out->set_overlay(overlay);
    out->set_encrypted(!config_.password.empty() && !connection.trusted());
    (*out->mutable_attrs())["name"] = NameNick(name, connection.remote().nickname);
  }
  for (const TargetStatus& target : maker_.Status()) {
    ::weave::v1::Connection* out = router->add_connections();
    out->set_address(target.address);
    out->set_outbound(true);
    out->set_state(target.state);
    out->set_info(target.info);
  }
  router->clear_targets();
  for (const std::string& target : maker_.DirectTargets()) router->add_targets(target);
  router->set_termination_count(terminations_);
  for (const auto& [dest, via] : routes_.unicast) {
    ::weave::v1::UnicastRoute* route = router->add_unicast_routes();
    route->set_dest(dest.ToString());
    route->set_via(via.ToString());
  }
  for (const auto& [source, hops] : routes_.broadcast) {
    ::weave::v1::BroadcastRoute* route = router->add_broadcast_routes();
    route->set_source(source.ToString());
    for (PeerName hop : hops) route->add_via(hop.ToString());
  }
}

std::set<PeerName> Mesh::ReachablePeers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return topology_.Reachable();
}

Routes Mesh::CurrentRoutes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return routes_;
}

}  // namespace weave::mesh
