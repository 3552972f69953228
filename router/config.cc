#include "router/config.h"

#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/config/values.h"
#include "common/status_macros.h"

namespace weave::router {
namespace {

using config::Setting;

constexpr Setting kPort{"--port", ""};
constexpr Setting kPeers{"peers", "KUBE_PEERS"};
constexpr Setting kName{"--name", ""};
constexpr Setting kHttpAddr{"--http-addr", "WEAVE_HTTP_ADDR"};
constexpr Setting kMetricsAddr{"--metrics-addr", "WEAVE_METRICS_ADDR"};
constexpr Setting kStatusAddr{"--status-addr", "WEAVE_STATUS_ADDR"};
constexpr Setting kRange{"--ipalloc-range", "IPALLOC_RANGE"};
constexpr Setting kInit{"--ipalloc-init", "IPALLOC_INIT"};
constexpr Setting kConnLimit{"--conn-limit", "CONN_LIMIT"};
constexpr Setting kMtu{"--mtu", "WEAVE_MTU"};
constexpr Setting kNoFastdp{"--no-fastdp", "WEAVE_NO_FASTDP"};
constexpr Setting kFastdpRetry{"--fastdp-retry", "WEAVE_FASTDP_RETRY"};
constexpr Setting kOverlayHeartbeat{"--overlay-heartbeat", "WEAVE_OVERLAY_HEARTBEAT"};
constexpr Setting kTrusted{"--trusted-subnets", "WEAVE_TRUSTED_SUBNETS"};
constexpr Setting kExpectNpc{"--expect-npc", "EXPECT_NPC"};
constexpr Setting kNoMasqLocal{"--no-masq-local", "NO_MASQ_LOCAL"};
constexpr Setting kExpose{"--expose", "WEAVE_EXPOSE_IP"};
constexpr Setting kHairpin{"--hairpin-mode", "HAIRPIN_MODE"};
constexpr Setting kSocket{"--socket", "WEAVE_SOCKET"};
constexpr Setting kPasswordFile{"--password-file", "WEAVE_PASSWORD_FILE"};
constexpr Setting kHost{"--host", ""};
constexpr Setting kCheckpointUrl{"--checkpoint-url", "CHECKPOINT_URL"};
constexpr Setting kHeartbeat{"--heartbeat", "WEAVE_HEARTBEAT"};

// The smallest MTU IPv4 requires every link to carry (RFC 791), the largest an IP packet.
constexpr int kMinMtu = 576;
constexpr int kMaxMtu = 65535;

absl::StatusOr<http::ListenAddress> ParseListen(Setting setting, const std::string& value) {
  absl::StatusOr<http::ListenAddress> address = http::ListenAddress::Parse(value);
  if (!address.ok()) {
    return config::InvalidValue(setting, value, "host:port, such as 127.0.0.1:6784");
  }
  return address;
}

// Empty means off, as the original treated an unset variable.
absl::StatusOr<bool> ParseOptionalBool(Setting setting, const std::string& value,
                                       bool if_empty) {
  if (value.empty()) return if_empty;
  return config::ParseBool(setting, value);
}

absl::StatusOr<std::vector<net::HostPort>> ParsePeers(const RouterFlags& flags,
                                                      uint16_t port) {
  std::vector<std::string> texts = flags.peers;
  if (texts.empty()) texts = config::SplitList(flags.kube_peers);
  std::vector<net::HostPort> peers;
  for (const std::string& text : texts) {
    absl::StatusOr<net::HostPort> peer = net::HostPort::Parse(text, port);
    if (!peer.ok()) {
      return config::InvalidValue(kPeers, text, "host or host:port (port 1..65535)");
    }
    peers.push_back(*peer);
  }
  return peers;
}

absl::StatusOr<net::Cidr> ParseRange(const std::string& value) {
  constexpr char kForm[] = "an IPv4 network in CIDR form such as 10.32.0.0/12, prefix /1 to /30";
  ASSIGN_OR_RETURN(net::Cidr range, config::ParseCidr(kRange, value, kForm));
  if (range.prefix_length() < 1 || range.prefix_length() > 30) {
    return config::InvalidValue(kRange, value, kForm);
  }
  if (!range.IsNetwork()) {
    return config::InvalidValue(
        kRange, value,
        absl::StrCat("a network address without host bits, such as ", range.Network().ToString()));
  }
  return range;
}

// An address (the range's prefix length is used) or a CIDR, inside the range.
absl::StatusOr<std::optional<net::Cidr>> ParseExpose(const std::string& value,
                                                     const net::Cidr& range) {
  if (value.empty()) return std::nullopt;
  std::string expected =
      absl::StrCat("an address inside IPALLOC_RANGE ", range.ToString(),
                   ", optionally with its prefix length, such as ",
                   net::Cidr(net::Ipv4(range.network().value() + 1), range.prefix_length())
                       .ToString());
  net::Cidr cidr;
  if (value.find('/') == std::string::npos) {
    absl::StatusOr<net::Ipv4> ip = net::Ipv4::Parse(value);
    if (!ip.ok()) return config::InvalidValue(kExpose, value, expected);
    cidr = net::Cidr(*ip, range.prefix_length());
  } else {
    ASSIGN_OR_RETURN(cidr, config::ParseCidr(kExpose, value, expected));
  }
  bool usable = range.Contains(cidr.address()) && cidr.address() != range.network() &&
                cidr.address() != range.last() && cidr.prefix_length() >= range.prefix_length();
  if (!usable) return config::InvalidValue(kExpose, value, expected);
  return cidr;
}

absl::StatusOr<ipam::InitMode> ParseInit(const std::string& value, size_t num_peers) {
  absl::StatusOr<ipam::InitMode> mode = ipam::ParseInitMode(value);
  if (!mode.ok()) return config::InvalidValue(kInit, value, ipam::kInitModeForms);
  // The design counts every node, this one included: a 2-node cluster needs both.
  if (mode->kind == ipam::InitMode::Kind::kConsensus && mode->consensus_size == 0) {
    mode->consensus_size = static_cast<int>(num_peers) + 1;
  }
  return mode;
}

// The secret as Kubernetes mounts it: the whole file, without a trailing newline. The
// password itself never appears in an error.
absl::StatusOr<std::string> ReadPasswordFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return config::InvalidValue(kPasswordFile, path, "a readable file holding the password");
  std::string password((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) {
    password.pop_back();
  }
  if (password.empty()) {
    return config::InvalidValue(kPasswordFile, path, "a file holding a non-empty password");
  }
  return password;
}

}  // namespace

absl::StatusOr<RouterConfig> ResolveRouterConfig(const RouterFlags& flags,
                                                 const std::string& hostname) {
  RouterConfig c;
  if (flags.socket.empty() || flags.socket[0] != '/') {
    return config::InvalidValue(kSocket, flags.socket, "an absolute path to a unix socket");
  }
  c.socket_path = flags.socket;
  ASSIGN_OR_RETURN(int64_t port,
                   config::ParseInteger(kPort, flags.port, 1, 65535, "a port number 1..65535"));
  c.port = static_cast<uint16_t>(port);
  ASSIGN_OR_RETURN(c.peers, ParsePeers(flags, c.port));
  if (!flags.name.empty()) {
    absl::StatusOr<PeerName> name = PeerName::Parse(flags.name);
    if (!name.ok()) {
      return config::InvalidValue(kName, flags.name, "a MAC address such as 42:8e:e8:c4:52:1b");
    }
    c.name = *name;
  }
  c.nickname = flags.nickname.empty() ? hostname : flags.nickname;
  c.password = flags.password;
  if (c.password.empty() && !flags.password_file.empty()) {
    ASSIGN_OR_RETURN(c.password, ReadPasswordFile(flags.password_file));
  }
  if (!net::Ipv4::Parse(flags.host).ok()) {
    return config::InvalidValue(kHost, flags.host, "an IPv4 address to listen on, such as 0.0.0.0");
  }
  c.host = flags.host;
  if (!absl::ParseDuration(flags.heartbeat, &c.heartbeat) || c.heartbeat < absl::Milliseconds(100) ||
      c.heartbeat > absl::Minutes(5)) {
    return config::InvalidValue(kHeartbeat, flags.heartbeat, "a duration from 100ms to 5m, such as 10s");
  }
  c.db_prefix = flags.db_prefix;
  ASSIGN_OR_RETURN(c.http_addr, ParseListen(kHttpAddr, flags.http_addr));
  ASSIGN_OR_RETURN(c.metrics_addr, ParseListen(kMetricsAddr, flags.metrics_addr));
  if (!flags.status_addr.empty()) {
    ASSIGN_OR_RETURN(c.status_addr, ParseListen(kStatusAddr, flags.status_addr));
  }
  ASSIGN_OR_RETURN(c.ipalloc_range, ParseRange(flags.ipalloc_range));
  ASSIGN_OR_RETURN(c.ipalloc_init, ParseInit(flags.ipalloc_init, c.peers.size()));
  ASSIGN_OR_RETURN(int64_t conn_limit,
                   config::ParseInteger(kConnLimit, flags.conn_limit, 0, 100000,
                                        "a whole number, 0 or more (0 means unlimited)"));
  c.conn_limit = static_cast<uint32_t>(conn_limit);
  if (flags.mtu == "auto") {
    c.mtu_auto = true;  // resolved from the underlay at start (router/net/mtu.h)
  } else {
    ASSIGN_OR_RETURN(int64_t mtu, config::ParseInteger(
                                      kMtu, flags.mtu, kMinMtu, kMaxMtu,
                                      absl::StrCat("a whole number of bytes from ", kMinMtu,
                                                   " to ", kMaxMtu, ", or auto (default 1376)")));
    c.mtu = static_cast<int>(mtu);
  }
  ASSIGN_OR_RETURN(c.no_fastdp, ParseOptionalBool(kNoFastdp, flags.no_fastdp, false));
  if (!absl::ParseDuration(flags.fastdp_retry, &c.fastdp_retry) ||
      c.fastdp_retry < absl::Seconds(1) || c.fastdp_retry > absl::Minutes(30)) {
    return config::InvalidValue(kFastdpRetry, flags.fastdp_retry,
                                "a duration from 1s to 30m, such as 30s");
  }
  if (!absl::ParseDuration(flags.overlay_heartbeat, &c.overlay_heartbeat) ||
      c.overlay_heartbeat < absl::Milliseconds(100) || c.overlay_heartbeat > absl::Seconds(30)) {
    return config::InvalidValue(kOverlayHeartbeat, flags.overlay_heartbeat,
                                "a duration from 100ms to 30s, such as 1s");
  }
  for (const std::string& text : config::SplitList(flags.trusted_subnets)) {
    ASSIGN_OR_RETURN(net::Cidr subnet,
                     config::ParseCidr(kTrusted, text,
                                       "comma-separated CIDRs such as 10.0.0.0/8,192.168.0.0/16"));
    c.trusted_subnets.push_back(subnet.Network());
  }
  ASSIGN_OR_RETURN(c.expect_npc, ParseOptionalBool(kExpectNpc, flags.expect_npc, true));
  // As in the original 2.8, masquerading of local traffic is off unless set to 0.
  ASSIGN_OR_RETURN(c.no_masq_local, ParseOptionalBool(kNoMasqLocal, flags.no_masq_local, true));
  ASSIGN_OR_RETURN(c.expose, ParseExpose(flags.expose, c.ipalloc_range));
  ASSIGN_OR_RETURN(c.hairpin, ParseOptionalBool(kHairpin, flags.hairpin_mode, true));
  c.kubeconfig = flags.kubeconfig;
  c.node_name = flags.node_name.empty() ? c.nickname : flags.node_name;
  c.kube_sa_dir = flags.kube_sa_dir;
  c.host_root = flags.host_root.empty() ? "/" : flags.host_root;
  // Any non-empty value disables the version check, as the original's checkpoint library did.
  c.checkpoint_disable = !flags.checkpoint_disable.empty();
  if (!flags.checkpoint_url.empty() && flags.checkpoint_url.rfind("http://", 0) != 0 &&
      flags.checkpoint_url.rfind("https://", 0) != 0) {
    return config::InvalidValue(kCheckpointUrl, flags.checkpoint_url,
                                "an http:// or https:// URL");
  }
  c.checkpoint_url = flags.checkpoint_url;
  c.peer_discovery = !flags.no_discovery;
  c.log_level = flags.log_level;
  c.print_peer_name = flags.print_peer_name;
  c.setup_cni = flags.setup_cni;
  std::string root = c.host_root == "/" ? "" : c.host_root;
  c.cni_bin_dir = flags.cni_bin_dir.empty() ? root + "/opt/cni/bin" : flags.cni_bin_dir;
  c.cni_conf_dir = flags.cni_conf_dir.empty() ? root + "/etc/cni/net.d" : flags.cni_conf_dir;
  c.cni_plugin = flags.cni_plugin;
  return c;
}

}  // namespace weave::router
