// weaver: the per-node Weave Net router daemon.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <thread>
#include <condition_variable>
#include <mutex>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "common/http/client.h"
#include "common/http/server.h"
#include "common/log.h"
#include "common/netlink/netlink.h"
#include "common/status_macros.h"
#include "ipam/ring_allocator.h"
#include "ipam/sqlite_store.h"
#include "router/api/server.h"
#include "router/api/service.h"
#include "router/cli/setup_cni.h"
#include "router/config.h"
#include "router/flags.h"
#include "router/http_routes.h"
#include "router/identity.h"
#include "router/ipam_channel.h"
#include "common/nft/linux_backend.h"
#include "router/net/bridge_netfilter.h"
#include "router/net/masquerade.h"
#include "router/net/mtu.h"
#include "router/kube/kube_sync.h"
#include "router/kube/peers.h"
#include "common/kube/client.h"
#include "common/kube/config.h"
#include "router/net/range_check.h"
#include "router/overlay/data_paths.h"
#include "router/overlay/overlay.h"
#include "router/pods/attacher.h"
#include "router/router.h"
#include "router/teardown.h"
#include "router/version_check.h"
#include "spdlog/spdlog.h"

namespace weave::router {
namespace {

// Blocked in every thread (threads inherit the mask), taken synchronously by sigwait.
sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

std::string Hostname() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "";
  return name;
}

constexpr char kPeerNameKey[] = "peer-name";

// --name wins; otherwise the name this node's store already holds, so that a node keeps its
// name (and its address ranges) whatever happens to its ids; otherwise one derived from the
// host's ids, remembered from then on.
absl::StatusOr<PeerName> ChoosePeerName(const RouterConfig& config, ipam::Store& store) {
  if (config.name) return *config.name;
  ASSIGN_OR_RETURN(std::optional<std::string> stored, store.GetMetadata(kPeerNameKey));
  if (stored) {
    absl::StatusOr<PeerName> name = PeerName::Parse(*stored);
    if (name.ok()) return *name;
    spdlog::warn("Ignoring the stored peer name \"{}\": {}", *stored, name.status().message());
  }
  std::optional<PeerName> name = PeerNameFromHostIds(ReadHostIds(config.host_root));
  if (!name) {
    name = RandomPeerName();
    spdlog::warn("No machine-id or product_uuid under {}; using random peer name {}",
                 config.host_root, name->ToString());
  }
  RETURN_IF_ERROR(store.SetMetadata(kPeerNameKey, name->ToString()));
  return *name;
}

mesh::MeshConfig MakeMeshConfig(const RouterConfig& config, PeerName name, uint64_t uid) {
  mesh::MeshConfig mesh;
  mesh.name = name;
  mesh.nickname = config.nickname;
  mesh.uid = uid;
  mesh.bind_host = config.host;
  mesh.port = config.port;
  mesh.password = config.password;
  mesh.trusted_subnets = config.trusted_subnets;
  mesh.conn_limit = config.conn_limit;
  mesh.discovery = config.peer_discovery;
  for (const net::HostPort& peer : config.peers) mesh.targets.push_back(peer.ToString());
  mesh.heartbeat = config.heartbeat;
  mesh.overlays = config.no_fastdp ? std::vector<std::string>{"sleeve"}
                                   : std::vector<std::string>{"fastdp", "sleeve"};
  return mesh;
}

overlay::OverlayConfig MakeOverlayConfig(const RouterConfig& config, PeerName name) {
  overlay::OverlayConfig overlay;
  overlay.self = name;
  overlay.bridge = kBridgeName;
  overlay.vxlan_device = absl::StrCat("vxlan-", config.port + 1);
  overlay.mtu = config.mtu;
  overlay.no_fastdp = config.no_fastdp;
  overlay.switching.heartbeat = config.overlay_heartbeat;
  overlay.switching.timeout = 5 * config.overlay_heartbeat;
  overlay.switching.fastdp_wait = 3 * config.overlay_heartbeat;
  overlay.switching.retry = config.fastdp_retry;
  return overlay;
}

overlay::DataPathsConfig MakeDataPathsConfig(const RouterConfig& config, PeerName name) {
  overlay::DataPathsConfig paths;
  paths.self = name;
  paths.bridge = kBridgeName;
  paths.fastdp = !config.no_fastdp;
  paths.vxlan_device = absl::StrCat("vxlan-", config.port + 1);
  paths.vxlan_port = config.port + 1;
  paths.bind_host = config.host;
  paths.sleeve_port = config.port;
  paths.mtu = config.mtu;
  return paths;
}

int Fail(const absl::Status& status) {
  spdlog::critical("{}", status.message());
  return 1;
}

// Bridge, masquerading and the pods attached before a restart. Failures here are fatal: a
// router that cannot attach pods must not report ready. The bridge's address comes later
// (ExposeWhenReady): it may have to wait for the ring.
absl::Status SetUpNetwork(const RouterConfig& config, PeerName name, netlink::Netlink& host,
                          Attacher& attacher, EndpointRegistry& endpoints,
                          Masquerade& masquerade) {
  ASSIGN_OR_RETURN(std::vector<netlink::Route> routes, host.ListRoutes());
  RETURN_IF_ERROR(CheckRangeIsFree(config.ipalloc_range, routes, kBridgeName));
  // Pods still get their network without it; policy then misses their bridged traffic.
  if (config.expect_npc) {
    if (absl::Status bridge_nf = EnsureBridgeNetfilter(); !bridge_nf.ok()) {
      spdlog::warn("{}", std::string(bridge_nf.message()));
    }
  }
  RETURN_IF_ERROR(attacher.EnsureBridge(name));
  RETURN_IF_ERROR(attacher.Restore());
  std::vector<net::Ipv4> local_pods;
  for (const v1::Endpoint& endpoint : endpoints.List()) {
    for (const std::string& address : endpoint.addresses()) {
      if (absl::StatusOr<net::Cidr> cidr = net::Cidr::Parse(address); cidr.ok()) {
        local_pods.push_back(cidr->address());
      }
    }
  }
  return masquerade.Install(local_pods);
}

// Gives the bridge its address once the ring allows it, retrying until done or the router
// stops (the allocator's Shutdown ends the wait); then the node's network is ready.
void ExposeWhenReady(const RouterConfig& config, Attacher& attacher, Router& router,
                     const std::atomic<bool>& stopping, KubeSync* kube_sync) {
  while (!stopping) {
    absl::StatusOr<net::Cidr> exposed = attacher.Expose(config.expose);
    if (exposed.ok()) {
      router.readiness().Set(kReadyNetwork, true);
      if (kube_sync != nullptr) {
        if (absl::Status marked = kube_sync->SetNetworkAvailable(); !marked.ok()) {
          spdlog::error("Kubernetes: marking node {} NetworkUnavailable=False: {}",
                        config.node_name, std::string(marked.message()));
        }
      }
      return;
    }
    if (stopping) return;
    spdlog::error("Giving the bridge an address: {}; retrying", exposed.status().message());
    absl::SleepFor(absl::Seconds(2));
  }
}

// KUBE_PEERS lists every node, this one included (the original left itself out): a target
// that is one of our own addresses on our port is dropped, and the default consensus size
// counts what remains plus this node.
std::set<std::string> OwnAddresses() {
  std::set<std::string> own;
  ifaddrs* addresses = nullptr;
  if (getifaddrs(&addresses) == 0) {
    for (ifaddrs* a = addresses; a != nullptr; a = a->ifa_next) {
      if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
      char ip[INET_ADDRSTRLEN] = {};
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, ip, sizeof(ip));
      own.insert(ip);
    }
    freeifaddrs(addresses);
  }
  return own;
}

void DropOwnAddresses(RouterConfig& config, bool consensus_size_given) {
  const std::set<std::string> own = OwnAddresses();
  std::erase_if(config.peers, [&](const net::HostPort& peer) {
    return peer.port == config.port && own.count(peer.host);
  });
  if (config.ipalloc_init.kind == ipam::InitMode::Kind::kConsensus && !consensus_size_given) {
    config.ipalloc_init.consensus_size = static_cast<int>(config.peers.size()) + 1;
  }
}

// WEAVE_MTU=auto: the pods' MTU from the interfaces that reach the peers.
absl::Status ResolveAutoMtu(RouterConfig& config) {
  ASSIGN_OR_RETURN(std::unique_ptr<netlink::Netlink> host, netlink::OpenNetlink());
  std::vector<net::Ipv4> peers;
  for (const net::HostPort& peer : config.peers) {
    if (absl::StatusOr<net::Ipv4> ip = net::Ipv4::Parse(peer.host); ip.ok()) peers.push_back(*ip);
  }
  ASSIGN_OR_RETURN(config.mtu, AutoMtu(*host, peers));
  spdlog::info("WEAVE_MTU=auto: pods get MTU {} (the underlay's less {} for VXLAN)", config.mtu,
               kVxlanOverhead);
  return absl::OkStatus();
}

// Kubernetes, when the router runs in a cluster (KUBERNETES_SERVICE_HOST) or has a kubeconfig.
struct KubeSetup {
  std::unique_ptr<kube::Client> client;
  bool peers_from_nodes = false;  // KUBE_PEERS was empty: the Nodes' addresses are the targets
};

absl::StatusOr<KubeSetup> ConnectKubernetes(RouterConfig& config, bool consensus_size_given) {
  KubeSetup setup;
  const kube::Environment env = kube::Environment::FromProcess();
  if (config.kubeconfig.empty() && env.kubernetes_service_host.empty()) return setup;
  ASSIGN_OR_RETURN(kube::Config kube_config,
                   kube::LoadConfig(config.kubeconfig, env, config.kube_sa_dir));
  ASSIGN_OR_RETURN(setup.client, kube::NewClient(kube_config));
  if (!config.peers.empty()) return setup;
  setup.peers_from_nodes = true;
  // The Nodes decide the consensus size, so they are listed before the ring starts. An API
  // server that does not answer is retried for a minute; then the router exits (and is
  // restarted) rather than seed a ring on its own.
  const absl::Time deadline = absl::Now() + absl::Minutes(1);
  absl::Duration delay = absl::Seconds(1);
  absl::StatusOr<kube::ObjectList> nodes = setup.client->List("/api/v1/nodes");
  while (!nodes.ok()) {
    if (absl::Now() + delay > deadline) return nodes.status();
    spdlog::warn("Kubernetes: {}; retrying in {}", std::string(nodes.status().message()),
                 absl::FormatDuration(delay));
    absl::SleepFor(delay);
    delay = std::min(delay * 2, absl::Seconds(10));
    nodes = setup.client->List("/api/v1/nodes");
  }
  const std::set<std::string> own = OwnAddresses();
  for (const std::string& address : NodeAddresses(nodes->items)) {
    if (!own.count(address)) config.peers.push_back({address, config.port});
  }
  if (config.ipalloc_init.kind == ipam::InitMode::Kind::kConsensus && !consensus_size_given) {
    config.ipalloc_init.consensus_size =
        std::max(1, static_cast<int>(nodes->items.size()));
  }
  spdlog::info("Kubernetes: {} node(s); peers from their addresses: {}", nodes->items.size(),
               config.peers.size());
  return setup;
}

// A node whose peer the cluster removed (and whose space another peer took) comes back as a new
// peer: its stored ring and allocations would otherwise claim addresses now handed out again.
absl::Status StartCleanIfRemoved(kube::Client& client, PeerName name, ipam::Store& store) {
  absl::StatusOr<bool> removed = PeerRemovedFromCluster(client, name);
  if (!removed.ok()) {
    spdlog::warn("Kubernetes: checking whether this peer was removed: {}",
                 std::string(removed.status().message()));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(bool has_ring, ipam::RingAllocator::HasStoredRing(&store));
  if (!*removed || !has_ring) return absl::OkStatus();
  spdlog::warn("Peer {} was removed from the cluster and its address space reclaimed; "
               "starting clean as a new peer",
               name.ToString());
  return ipam::RingAllocator::ForgetStored(&store);
}

int Run(const RouterConfig& config, kube::Client* kube_client, bool peers_from_nodes) {
  absl::StatusOr<std::unique_ptr<ipam::SqliteStore>> store =
      ipam::SqliteStore::Open(ipam::StorePath(config.db_prefix));
  if (!store.ok()) return Fail(store.status());
  absl::StatusOr<PeerName> chosen = ChoosePeerName(config, **store);
  if (!chosen.ok()) return Fail(chosen.status());
  const PeerName name = *chosen;
  if (config.print_peer_name) {
    std::cout << name.ToString() << std::endl;
    return 0;
  }
  if (config.setup_cni) {
    std::string plugin = config.cni_plugin;
    if (plugin.empty()) {
      std::error_code ec;
      plugin = (std::filesystem::read_symlink("/proc/self/exe", ec).parent_path() / "weave-net")
                   .string();
    }
    cli::SetupCniOptions cni{plugin, config.cni_bin_dir, config.cni_conf_dir, config.hairpin};
    if (absl::Status installed = cli::SetupCni(cni); !installed.ok()) return Fail(installed);
    spdlog::info("Installed the CNI plugin in {} and its config in {}", config.cni_bin_dir,
                 config.cni_conf_dir);
  }
  if (kube_client != nullptr) {
    if (absl::Status clean = StartCleanIfRemoved(*kube_client, name, **store); !clean.ok()) {
      return Fail(clean);
    }
  }
  absl::StatusOr<std::unique_ptr<netlink::Netlink>> host = netlink::OpenNetlink();
  if (!host.ok()) return Fail(host.status());
  const uint64_t uid = RandomPeerUid();
  IpamChannel ipam_channel(name);
  absl::StatusOr<std::unique_ptr<ipam::RingAllocator>> allocator = ipam::RingAllocator::Create(
      {config.ipalloc_range, name, uid, config.nickname, config.ipalloc_init}, store->get(),
      &ipam_channel);
  if (!allocator.ok()) return Fail(allocator.status());
  ipam_channel.set_allocator(allocator->get());

  absl::StatusOr<std::unique_ptr<nft::LinuxBackend>> nft_backend = nft::LinuxBackend::Open();
  if (!nft_backend.ok()) return Fail(nft_backend.status());
  Masquerade masquerade(nft_backend->get(),
                        {config.ipalloc_range, config.no_masq_local, config.expect_npc});
  NpcStatus npc(config.expect_npc ? &masquerade : nullptr);

  Router router(config, name, uid, allocator->get());
  router.set_npc(&npc);
  std::unique_ptr<VersionChecker> version_checker;
  if (!config.checkpoint_url.empty() && !config.checkpoint_disable) {
    version_checker = std::make_unique<VersionChecker>(
        config.checkpoint_url, WEAVE_VERSION, absl::Hours(6),
        [](const std::string& url) { return http::Get(url, absl::Seconds(10)); });
    router.set_version_checker(version_checker.get());
  }
  EndpointRegistry endpoints;
  std::unique_ptr<PodNamespaceOpener> opener = NewLinuxPodNamespaceOpener();
  // The reaper deletes pod veths off the CNI DEL path, on its own socket.
  absl::StatusOr<std::unique_ptr<netlink::Netlink>> reaper = netlink::OpenNetlink();
  if (!reaper.ok()) return Fail(reaper.status());
  Attacher attacher({kBridgeName, config.mtu, config.hairpin}, host->get(), opener.get(),
                    allocator->get(), &endpoints, &masquerade, std::move(*reaper));
  spdlog::info("weaver {} starting: peer {}({}), range {}, ipalloc-init {}, targets {}",
               WEAVE_VERSION, name.ToString(), config.nickname, config.ipalloc_range.ToString(),
               config.ipalloc_init.ToString(), config.peers.size());

  std::atomic<bool> reset = false;
  RouterService service(&router, &attacher, allocator->get(), &endpoints, [&] {
    if (absl::Status removed = masquerade.Remove(); !removed.ok()) {
      spdlog::error("Removing table inet {}: {}", kRouterTable, removed);
    }
    reset = true;
    kill(getpid(), SIGTERM);  // wakes the sigwait below
  });
  absl::StatusOr<std::unique_ptr<ApiServer>> api = ApiServer::Start(config.socket_path, &service);
  if (!api.ok()) return Fail(api.status());
  router.readiness().Set(kReadyApi, true);

  StatusSource source = [&router] { return router.Status(); };
  std::vector<std::unique_ptr<http::Server>> listeners;
  auto listen = [&](const char* what, const http::ListenAddress& address,
                    std::vector<http::Route> routes) {
    absl::StatusOr<std::unique_ptr<http::Server>> server =
        http::Server::Start(what, address, std::move(routes));
    if (!server.ok()) return server.status();
    listeners.push_back(std::move(*server));
    return absl::OkStatus();
  };
  absl::Status started = listen("status", config.http_addr, StatusRoutes(source));
  if (started.ok()) started = listen("metrics", config.metrics_addr, MetricsRoutes(source));
  if (started.ok() && config.status_addr) {
    started = listen("status", *config.status_addr, StatusRoutes(source));
  }
  if (started.ok()) {
    started = SetUpNetwork(config, name, **host, attacher, endpoints, masquerade);
  }
  overlay::Overlay overlay(MakeOverlayConfig(config, name), host->get());
  absl::StatusOr<std::unique_ptr<overlay::LinuxDataPaths>> paths =
      absl::UnknownError("not started");
  if (started.ok()) {
    paths = overlay::LinuxDataPaths::Start(MakeDataPathsConfig(config, name), **host, &overlay);
    started = paths.status();
  }
  if (started.ok() && (*paths)->has_fastdp()) started = overlay.Adopt(absl::Now());
  absl::StatusOr<std::unique_ptr<mesh::Mesh>> mesh = absl::UnknownError("not started");
  if (started.ok()) {
    mesh::MeshConfig mesh_config = MakeMeshConfig(config, name, uid);
    mesh_config.channels[kIpamChannel] = &ipam_channel;
    mesh_config.channels[overlay::kOverlayChannel] = &overlay;
    mesh_config.overlay_status = [&overlay](PeerName peer) { return overlay.LinkStatus(peer); };
    mesh = mesh::Mesh::Start(std::move(mesh_config));
    started = mesh.status();
  }
  if (!started.ok()) {
    service.Shutdown();
    (*allocator)->Shutdown();
    return Fail(started);
  }
  router.set_mesh(mesh->get());
  router.set_overlay(&overlay);
  ipam_channel.set_mesh(mesh->get());
  overlay::MeshAdapter overlay_mesh(mesh->get());
  overlay.Attach(&overlay_mesh, paths->get());
  std::atomic<bool> stopping = false;
  std::unique_ptr<KubeSync> kube_sync;
  if (kube_client != nullptr) {
    KubeSyncHooks hooks;
    if (peers_from_nodes) {
      hooks.set_peers = [&, own = OwnAddresses()](const std::vector<std::string>& addresses) {
        std::vector<std::string> targets;
        for (const std::string& address : addresses) {
          if (!own.count(address)) targets.push_back(absl::StrCat(address, ":", config.port));
        }
        if (absl::Status set = (*mesh)->Connect(targets, /*replace=*/true); !set.ok()) {
          spdlog::warn("Kubernetes: peers from the Nodes: {}", std::string(set.message()));
        }
      };
    }
    hooks.remove_peer = [&](const std::string& peer) { return (*allocator)->RemovePeer(peer); };
    kube_sync = std::make_unique<KubeSync>(kube_client, config.node_name, name, peers_from_nodes,
                                           std::move(hooks));
    if (absl::Status registered = kube_sync->Register(); !registered.ok()) {
      spdlog::error("Kubernetes: listing this peer in ConfigMap kube-system/weave-net: {}",
                    std::string(registered.message()));
    }
    kube_sync->Start();
  }
  std::thread expose(
      [&] { ExposeWhenReady(config, attacher, router, stopping, kube_sync.get()); });
  // IPAM's retries (consensus rounds, space requests) and free-space reports.
  std::mutex tick_mu;
  std::condition_variable tick_cv;
  std::thread ticker([&] {
    std::unique_lock lock(tick_mu);
    while (!tick_cv.wait_for(lock, std::chrono::seconds(1), [&] { return stopping.load(); })) {
      (*allocator)->Tick();
    }
  });
  // The overlay follows the mesh's connections, heartbeats and decides each link's path.
  std::thread overlay_loop([&] {
    std::unique_lock lock(tick_mu);
    while (!tick_cv.wait_for(lock, std::chrono::milliseconds(100),
                             [&] { return stopping.load(); })) {
      lock.unlock();
      overlay.Tick(absl::Now());
      lock.lock();
    }
  });
  spdlog::info("Serving the API on unix://{}, status on http://{}, metrics on http://{}",
               config.socket_path, config.http_addr.ToString(), config.metrics_addr.ToString());

  sigset_t signals = TerminationSignals();
  int signal = 0;
  sigwait(&signals, &signal);
  // A rolling update sends SIGTERM: pods keep working while the next router starts, so
  // bridge, veths, tables and address ownership stay; only the listeners close.
  if (!reset) {
    spdlog::info("Received {}; closing listeners, leaving network state in place",
                 strsignal(signal));
  }
  {
    std::lock_guard lock(tick_mu);
    stopping = true;
  }
  tick_cv.notify_all();
  (*allocator)->Shutdown();
  expose.join();
  ticker.join();
  overlay_loop.join();
  service.Shutdown();
  for (auto& listener : listeners) listener->Stop();
  (*api)->Stop();
  if (kube_sync) kube_sync->Stop();
  router.set_mesh(nullptr);
  router.set_overlay(nullptr);
  router.set_npc(nullptr);
  ipam_channel.set_mesh(nullptr);
  overlay.Attach(nullptr, nullptr);
  (*mesh)->Stop();
  // The VXLAN device and its entries stay (pods keep talking across the restart); the sleeve's
  // port goes with this process.
  (*paths)->Stop();
  if (reset) {
    allocator->reset();
    store->reset();
    if (absl::Status removed = RemoveStore(ipam::StorePath(config.db_prefix)); !removed.ok()) {
      return Fail(removed);
    }
    spdlog::info("Reset done: bridge, pod interfaces and store removed");
  }
  spdlog::info("Stopped");
  return 0;
}

}  // namespace
}  // namespace weave::router

int main(int argc, char** argv) {
  sigset_t signals = weave::router::TerminationSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  CLI::App app{"weaver: the Weave Net router"};
  weave::router::RouterFlags flags;
  weave::router::AddRouterFlags(app, &flags);
  CLI11_PARSE(app, argc, argv);
  if (absl::Status logging = weave::InitLogging(flags.log_level); !logging.ok()) {
    std::cerr << "weaver: " << logging.message() << std::endl;
    return 1;
  }
  absl::StatusOr<weave::router::RouterConfig> config =
      weave::router::ResolveRouterConfig(flags, weave::router::Hostname());
  if (!config.ok()) return weave::router::Fail(config.status());
  weave::router::DropOwnAddresses(*config, flags.ipalloc_init.find('=') != std::string::npos);
  absl::StatusOr<weave::router::KubeSetup> kube = weave::router::ConnectKubernetes(
      *config, flags.ipalloc_init.find('=') != std::string::npos);
  if (!kube.ok()) return weave::router::Fail(kube.status());
  if (config->mtu_auto) {
    absl::Status resolved = weave::router::ResolveAutoMtu(*config);
    if (!resolved.ok()) return weave::router::Fail(resolved);
  }
  return weave::router::Run(*config, kube->client.get(), kube->peers_from_nodes);
}
