// weave: the debug CLI. Talks to the local router over its gRPC socket.
//
//   weave [--local] [--socket PATH] status [peers|connections|targets|ipam]
//   weave connect [--replace] <host[:port]>...   weave forget <host[:port]>...
//   weave rmpeer <name|nickname>
//   weave ipam-yield
//   weave report
//   weave ps
//   weave expose [CIDR]
//   weave setup-cni
//   weave reset
//   weave version
#include <filesystem>
#include <iostream>
#include <string>

#include <google/protobuf/util/json_util.h>

#include "CLI/CLI.hpp"
#include "common/config/values.h"
#include "common/netlink/netlink.h"
#include "common/nft/linux_backend.h"
#include "ipam/sqlite_store.h"
#include "router/net/masquerade.h"
#include "router/cli/client.h"
#include "router/cli/setup_cni.h"
#include "router/pods/attacher.h"
#include "router/teardown.h"
#include "router/config.h"
#include "router/status/render.h"

namespace {

int Fail(const absl::Status& status) {
  std::cerr << "weave: " << status.message() << std::endl;
  return 1;
}

int Status(weave::cli::RouterClient& client, const std::string& sub) {
  using namespace weave::status;
  std::string (*render)(const weave::v1::Status&) = nullptr;
  if (sub.empty()) {
    render = RenderStatus;
  } else if (sub == "peers") {
    render = RenderPeers;
  } else if (sub == "connections") {
    render = RenderConnections;
  } else if (sub == "targets") {
    render = RenderTargets;
  } else if (sub == "ipam") {
    render = RenderIpam;
  } else {
    std::cerr << "Invalid 'weave status' sub-command: " << sub << "\n"
              << "Usage: weave status [peers|connections|targets|ipam]" << std::endl;
    return 1;
  }
  absl::StatusOr<weave::v1::Status> status = client.GetStatus();
  if (!status.ok()) return Fail(status.status());
  if (sub.empty()) {
    // The top-level block is framed by blank lines, as the original printed it.
    std::cout << "\n" << RenderStatus(*status) << "\n";
  } else {
    std::cout << render(*status);
  }
  return 0;
}

int Report(weave::cli::RouterClient& client) {
  absl::StatusOr<weave::v1::Status> status = client.GetStatus();
  if (!status.ok()) return Fail(status.status());
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  if (auto result = google::protobuf::util::MessageToJsonString(*status, &json, options);
      !result.ok()) {
    return Fail(absl::InternalError(std::string(result.message())));
  }
  std::cout << json;
  return 0;
}

// "<container id (12)> <mac> <address>...", the bridge first as weave:expose.
int Ps(weave::cli::RouterClient& client) {
  absl::StatusOr<weave::v1::ListEndpointsResponse> endpoints = client.ListEndpoints();
  if (!endpoints.ok()) return Fail(endpoints.status());
  for (const weave::v1::Endpoint& e : endpoints->endpoints()) {
    std::cout << e.container_id().substr(0, 12) << " " << e.mac();
    for (const std::string& address : e.addresses()) std::cout << " " << address;
    std::cout << "\n";
  }
  return 0;
}

int Expose(weave::cli::RouterClient& client, const std::string& cidr) {
  weave::v1::ExposeRequest request;
  request.set_cidr(cidr);
  absl::StatusOr<weave::v1::ExposeResponse> exposed = client.Expose(request);
  if (!exposed.ok()) return Fail(exposed.status());
  std::cout << exposed->cidr() << std::endl;
  return 0;
}

// Through the router when it runs; otherwise directly, so that a node whose router is gone
// can still be cleaned.
int Reset(weave::cli::RouterClient& client, const std::string& db_prefix) {
  absl::StatusOr<weave::v1::ResetResponse> reset = client.Reset();
  if (reset.ok()) return 0;
  if (!absl::IsUnavailable(reset.status())) return Fail(reset.status());
  absl::StatusOr<std::unique_ptr<weave::netlink::Netlink>> host = weave::netlink::OpenNetlink();
  if (!host.ok()) return Fail(host.status());
  absl::Status links = weave::router::TeardownLinks(**host, weave::router::kBridgeName);
  absl::Status table = absl::OkStatus();
  if (auto backend = weave::nft::LinuxBackend::Open(); backend.ok()) {
    weave::nft::Transaction transaction;
    transaction.Add(
        weave::nft::DeleteTable{{weave::nft::Family::kInet, weave::router::kRouterTable}});
    table = (*backend)->Apply(transaction);
  } else {
    table = backend.status();
  }
  absl::Status store = weave::router::RemoveStore(weave::ipam::StorePath(db_prefix));
  if (!links.ok()) return Fail(links);
  if (!table.ok()) return Fail(table);
  if (!store.ok()) return Fail(store);
  return 0;
}

std::string SelfDirectory() {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "." : self.parent_path().string();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"weave: inspect and manage the local Weave Net router"};
  app.require_subcommand(1);
  std::string socket = weave::router::kDefaultSocket;
  bool local = false;
  app.add_option("--socket", socket, "The router's API socket")->envname("WEAVE_SOCKET");
  // Accepted for compatibility: the spec runs `weave --local status` inside the container.
  app.add_flag("--local", local, "Run in place (always the case)");

  std::string sub;
  CLI::App* status = app.add_subcommand("status", "Show the router's status");
  status->add_option("what", sub, "peers, connections, targets or ipam");
  CLI::App* report = app.add_subcommand("report", "Print the full status as JSON");
  CLI::App* version = app.add_subcommand("version", "Print the version");
  CLI::App* ps = app.add_subcommand("ps", "List attached containers with MAC and addresses");
  std::string expose_cidr;
  CLI::App* expose = app.add_subcommand("expose", "Give the bridge an address in the range");
  expose->add_option("cidr", expose_cidr, "Address or CIDR (default: allocate)")
      ->envname("WEAVE_EXPOSE_IP");
  std::vector<std::string> connect_peers;
  bool connect_replace = false;
  CLI::App* connect = app.add_subcommand("connect", "Add peers to connect to (host[:port])");
  connect->add_flag("--replace", connect_replace, "Replace the targets instead of adding");
  connect->add_option("peers", connect_peers, "host[:port] ...");
  std::vector<std::string> forget_peers;
  CLI::App* forget = app.add_subcommand("forget", "Stop connecting to peers (host[:port])");
  forget->add_option("peers", forget_peers, "host[:port] ...")->required();
  std::string rmpeer_name;
  CLI::App* rmpeer = app.add_subcommand("rmpeer", "Take over the address space of a dead peer");
  rmpeer->add_option("peer", rmpeer_name, "Peer name or nickname")->required();
  CLI::App* ipam_yield = app.add_subcommand(
      "ipam-yield", "After a split brain: drop this node's ring for the other side's");
  std::string db_prefix = "/weavedb/weave-net";
  CLI::App* reset = app.add_subcommand("reset", "Remove everything weave made on this node");
  reset->add_option("--db-prefix", db_prefix, "Path prefix of the router's store");

  std::string host_root = "/";
  weave::cli::SetupCniOptions cni;
  std::string hairpin = "true";
  CLI::App* setup_cni = app.add_subcommand("setup-cni", "Install the CNI plugin and config");
  setup_cni->add_option("--host-root", host_root, "Where the host's / is mounted")
      ->envname("HOST_ROOT");
  setup_cni->add_option("--cni-bin-dir", cni.bin_dir, "Default <host-root>/opt/cni/bin")
      ->envname("WEAVE_CNI_PLUGIN_DIR");
  setup_cni->add_option("--cni-conf-dir", cni.conf_dir, "Default <host-root>/etc/cni/net.d");
  setup_cni->add_option("--plugin-binary", cni.plugin_binary,
                        "The weave-net binary (default: beside this program)");
  setup_cni->add_option("--hairpin-mode", hairpin, "hairpinMode in the conflist")
      ->envname("HAIRPIN_MODE");
  CLI11_PARSE(app, argc, argv);

  weave::cli::RouterClient client(socket, absl::Seconds(5));
  if (status->parsed()) return Status(client, sub);
  if (report->parsed()) return Report(client);
  if (ps->parsed()) return Ps(client);
  if (expose->parsed()) return Expose(client, expose_cidr);
  if (reset->parsed()) return Reset(client, db_prefix);
  if (connect->parsed()) {
    weave::v1::ConnectRequest request;
    for (const std::string& peer : connect_peers) request.add_peers(peer);
    request.set_replace(connect_replace);
    absl::StatusOr<weave::v1::ConnectResponse> done = client.Connect(request);
    return done.ok() ? 0 : Fail(done.status());
  }
  if (ipam_yield->parsed()) {
    absl::StatusOr<weave::v1::YieldRingResponse> done = client.YieldRing();
    if (!done.ok()) return Fail(done.status());
    std::cout << done->message() << std::endl;
    return 0;
  }
  if (rmpeer->parsed()) {
    weave::v1::RemovePeerRequest request;
    request.set_peer(rmpeer_name);
    absl::StatusOr<weave::v1::RemovePeerResponse> done = client.RemovePeer(request);
    if (!done.ok()) return Fail(done.status());
    std::cout << done->message() << std::endl;
    return 0;
  }
  if (forget->parsed()) {
    weave::v1::ForgetRequest request;
    for (const std::string& peer : forget_peers) request.add_peers(peer);
    absl::StatusOr<weave::v1::ForgetResponse> done = client.Forget(request);
    return done.ok() ? 0 : Fail(done.status());
  }
  if (setup_cni->parsed()) {
    std::string root = host_root == "/" ? "" : host_root;
    if (cni.bin_dir.empty()) cni.bin_dir = root + "/opt/cni/bin";
    if (cni.conf_dir.empty()) cni.conf_dir = root + "/etc/cni/net.d";
    if (cni.plugin_binary.empty()) cni.plugin_binary = SelfDirectory() + "/weave-net";
    absl::StatusOr<bool> on = weave::config::ParseBool({"--hairpin-mode", "HAIRPIN_MODE"}, hairpin);
    if (!on.ok()) return Fail(on.status());
    cni.hairpin = *on;
    if (absl::Status done = weave::cli::SetupCni(cni); !done.ok()) return Fail(done);
    return 0;
  }
  if (version->parsed()) {
    std::cout << "weave " << WEAVE_VERSION << std::endl;
    return 0;
  }
  return 1;
}
