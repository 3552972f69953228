// weaver's configuration: every flag with its environment variable (names and defaults from
// the design's interface table and the spec), and the validation that turns the raw text
// into typed values. A bad value stops the router with one line naming the variable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/http/server.h"
#include "common/net/ip.h"
#include "common/peer_name.h"
#include "ipam/init_mode.h"

namespace weave::router {

inline constexpr char kDefaultSocket[] = "/run/weave/weave.sock";
inline constexpr uint16_t kDefaultMeshPort = 6783;

// The text exactly as given on the command line or in the environment (flag wins).
struct RouterFlags {
  std::string socket = kDefaultSocket;
  std::vector<std::string> peers;  // positional; when empty, KUBE_PEERS
  std::string kube_peers;
  std::string port = "6783";
  std::string name;
  std::string nickname;
  std::string password;
  std::string password_file;  // the Kubernetes secret mounted as a file
  std::string host = "0.0.0.0";  // mesh listen address
  std::string heartbeat = "10s";
  std::string db_prefix = "/weavedb/weave-net";
  std::string http_addr = "127.0.0.1:6784";
  std::string metrics_addr = "0.0.0.0:6782";
  std::string status_addr;
  std::string ipalloc_range = "10.32.0.0/12";
  std::string ipalloc_init;
  std::string conn_limit = "30";
  std::string mtu = "1376";
  std::string no_fastdp;
  std::string fastdp_retry = "30s";
  std::string overlay_heartbeat = "1s";
  std::string trusted_subnets;
  std::string expect_npc = "1";
  std::string no_masq_local = "1";
  std::string expose;
  std::string kubeconfig;
  std::string node_name;
  std::string kube_sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
  std::string host_root = "/";
  std::string hairpin_mode = "true";
  std::string checkpoint_disable;
  std::string checkpoint_url;
  std::string log_level = "info";
  std::string cni_bin_dir;   // with --setup-cni
  std::string cni_conf_dir;
  std::string cni_plugin;
  bool setup_cni = false;
  bool no_discovery = false;
  bool print_peer_name = false;
};

struct RouterConfig {
  std::string socket_path;
  std::vector<net::HostPort> peers;  // targets, with the mesh port when none was given
  uint16_t port = kDefaultMeshPort;
  std::optional<PeerName> name;  // unset: derived from the host
  std::string nickname;
  std::string password;  // secret: never logged or reported, only "Encryption: enabled"
  std::string host = "0.0.0.0";  // mesh listen address
  // Mesh heartbeat; a peer silent for three is disconnected.
  absl::Duration heartbeat = absl::Seconds(10);
  std::string db_prefix;
  http::ListenAddress http_addr;
  http::ListenAddress metrics_addr;
  std::optional<http::ListenAddress> status_addr;
  net::Cidr ipalloc_range;
  ipam::InitMode ipalloc_init;  // consensus size resolved: peers + 1 unless given
  uint32_t conn_limit = 30;  // 0 = unlimited
  int mtu = 1376;
  // WEAVE_MTU=auto: `mtu` is set at start from the underlay's MTU (router/net/mtu.h).
  bool mtu_auto = false;
  bool no_fastdp = false;
  // After a fallback to sleeve, fastdp is tried again this often.
  absl::Duration fastdp_retry = absl::Seconds(30);
  // Data-path heartbeats (fastdp and sleeve); a path unheard for five is given up.
  absl::Duration overlay_heartbeat = absl::Seconds(1);
  std::vector<net::Cidr> trusted_subnets;
  bool expect_npc = true;
  bool no_masq_local = true;
  std::optional<net::Cidr> expose;  // unset: allocate from IPAM
  std::string kubeconfig;
  std::string node_name;
  std::string kube_sa_dir;  // the in-cluster service account's token and CA
  std::string host_root;
  bool hairpin = true;
  bool checkpoint_disable = false;
  // The operator's own version-check service; none by default (the original's is gone).
  std::string checkpoint_url;
  bool peer_discovery = true;
  std::string log_level;
  bool print_peer_name = false;
  // Install the CNI plugin and 10-weave.conflist at start (as `weave setup-cni` does).
  bool setup_cni = false;
  std::string cni_bin_dir;   // default <host-root>/opt/cni/bin
  std::string cni_conf_dir;  // default <host-root>/etc/cni/net.d
  std::string cni_plugin;    // the weave-net binary; default beside weaver
};

// Validates every value; the first bad one is returned as InvalidArgument with one line.
// `hostname` is the nickname when neither --nickname nor HOSTNAME is set.
absl::StatusOr<RouterConfig> ResolveRouterConfig(const RouterFlags& flags,
                                                 const std::string& hostname);

}  // namespace weave::router
