#include "router/flags.h"

#include "CLI/CLI.hpp"

namespace weave::router {

void AddRouterFlags(CLI::App& app, RouterFlags* f) {
  app.add_option("peers", f->peers, "Peers to connect to (host or host:port)");
  app.add_option("--kube-peers", f->kube_peers, "Peers, separated by spaces or commas")
      ->envname("KUBE_PEERS");
  app.add_option("--socket", f->socket, "Unix socket of the gRPC API")->envname("WEAVE_SOCKET");
  app.add_option("--port", f->port, "Mesh port (TCP control, UDP sleeve)");
  app.add_option("--name", f->name, "Peer name (a MAC address); derived from the host if unset");
  app.add_option("--nickname", f->nickname, "Peer nickname (default: the host name)")
      ->envname("HOSTNAME");
  app.add_option("--password", f->password, "Network password: enables encryption")
      ->envname("WEAVE_PASSWORD");
  app.add_option("--password-file", f->password_file,
                 "File holding the network password (a mounted Kubernetes secret)")
      ->envname("WEAVE_PASSWORD_FILE");
  app.add_option("--host", f->host, "Address to listen on for peers (default all)");
  app.add_option("--heartbeat", f->heartbeat,
                 "Mesh heartbeat interval; a peer silent for three is disconnected")
      ->envname("WEAVE_HEARTBEAT");
  app.add_option("--db-prefix", f->db_prefix, "Path prefix of the store (<prefix>data.db)");
  app.add_option("--http-addr", f->http_addr, "Local status address (readiness probe)")
      ->envname("WEAVE_HTTP_ADDR");
  app.add_option("--metrics-addr", f->metrics_addr, "Prometheus metrics address")
      ->envname("WEAVE_METRICS_ADDR");
  app.add_option("--status-addr", f->status_addr, "Read-only status address (default off)")
      ->envname("WEAVE_STATUS_ADDR");
  app.add_option("--ipalloc-range", f->ipalloc_range, "Range of pod addresses (CIDR)")
      ->envname("IPALLOC_RANGE");
  app.add_option("--ipalloc-init", f->ipalloc_init, "consensus[=N], seed=<names> or observer")
      ->envname("IPALLOC_INIT");
  app.add_option("--conn-limit", f->conn_limit, "Soft limit on peer connections (0: none)")
      ->envname("CONN_LIMIT");
  app.add_option("--mtu", f->mtu, "MTU of pod interfaces")->envname("WEAVE_MTU");
  app.add_flag("--no-fastdp{1}", f->no_fastdp, "Never use the kernel VXLAN data path")
      ->envname("WEAVE_NO_FASTDP");
  app.add_option("--fastdp-retry", f->fastdp_retry,
                 "After a fallback to sleeve, how often fastdp is tried again")
      ->envname("WEAVE_FASTDP_RETRY");
  app.add_option("--overlay-heartbeat", f->overlay_heartbeat,
                 "Data-path heartbeat interval; a path silent for five is given up")
      ->envname("WEAVE_OVERLAY_HEARTBEAT");
  app.add_option("--trusted-subnets", f->trusted_subnets,
                 "Comma-separated CIDRs whose peers need no data-plane encryption")
      ->envname("WEAVE_TRUSTED_SUBNETS");
  app.add_flag("--expect-npc{1}", f->expect_npc,
               "Block new connections to pods until weave-npc has synced (0 disables)")
      ->envname("EXPECT_NPC");
  app.add_flag("--no-masq-local{1}", f->no_masq_local,
               "Keep the client's address for traffic to local pods (0 disables)")
      ->envname("NO_MASQ_LOCAL");
  app.add_option("--expose", f->expose, "Bridge address (default: allocated)")
      ->envname("WEAVE_EXPOSE_IP");
  app.add_option("--kubeconfig", f->kubeconfig, "kubeconfig (default: in-cluster)")
      ->envname("KUBECONFIG");
  app.add_option("--node-name", f->node_name, "Kubernetes node name")->envname("HOSTNAME");
  app.add_option("--kube-service-account-dir", f->kube_sa_dir,
                 "Where the in-cluster token and CA are (tests point it elsewhere)");
  app.add_option("--host-root", f->host_root, "Where the host's /etc and /sys are mounted")
      ->envname("HOST_ROOT");
  app.add_option("--hairpin-mode", f->hairpin_mode, "Hairpin on pod veths by default")
      ->envname("HAIRPIN_MODE");
  app.add_option("--checkpoint-disable", f->checkpoint_disable, "Disable the version check")
      ->envname("CHECKPOINT_DISABLE");
  app.add_option("--checkpoint-url", f->checkpoint_url,
                 "Version-check service to ask for the latest release (default: none)")
      ->envname("CHECKPOINT_URL");
  app.add_option("--log-level", f->log_level, "debug, info, warning or error");
  app.add_flag("--setup-cni", f->setup_cni,
               "Install the CNI plugin and 10-weave.conflist at start (as weave setup-cni)");
  app.add_option("--cni-bin-dir", f->cni_bin_dir, "CNI plugin directory")
      ->envname("WEAVE_CNI_PLUGIN_DIR");
  app.add_option("--cni-conf-dir", f->cni_conf_dir, "CNI configuration directory");
  app.add_option("--cni-plugin", f->cni_plugin, "The weave-net binary (default: beside weaver)");
  app.add_flag("--no-discovery", f->no_discovery, "Do not connect to peers learned by gossip");
  app.add_flag("--print-peer-name", f->print_peer_name, "Print this peer's name and exit");
}

}  // namespace weave::router
