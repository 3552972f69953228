// weave-npc: the NetworkPolicy controller (second container of the weave-net pod).
//
// This build parses and validates its configuration and serves its metrics endpoint; the
// policy watch, compiler and nftables applier arrive with the weave-npc issues.
#include <signal.h>

#include <cstring>
#include <iostream>

#include "CLI/CLI.hpp"
#include "common/config/values.h"
#include "common/http/server.h"
#include "common/log.h"
#include "common/metrics/exposition.h"
#include "spdlog/spdlog.h"

namespace {

struct NpcFlags {
  std::string socket = "/run/weave/weave.sock";
  std::string metrics_addr = "0.0.0.0:6781";
  std::string allow_mcast = "true";
  std::string use_legacy_netpol = "false";
  std::string kubeconfig;
  std::string node_name;
  std::string log_level = "info";
};

int Fail(const absl::Status& status) {
  spdlog::critical("{}", status.message());
  return 1;
}

std::vector<weave::metrics::Family> NpcMetrics() {
  using weave::metrics::Type;
  return {
      {"weavenpc_blocked_connections_total", "Connections blocked by Weave NPC.", Type::kCounter,
       {}},
      {"weavenpc_enforcement_errors_total", "Errors while enforcing policy.", Type::kCounter,
       {{{}, 0}}},
  };
}

}  // namespace

int main(int argc, char** argv) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  CLI::App app{"weave-npc: the Weave Net NetworkPolicy controller"};
  NpcFlags f;
  app.add_option("--socket", f.socket, "The router's API socket")->envname("WEAVE_SOCKET");
  app.add_option("--metrics-addr", f.metrics_addr, "Prometheus metrics address");
  app.add_option("--allow-mcast", f.allow_mcast, "Allow all multicast traffic")
      ->expected(0, 1)
      ->default_str("true");
  app.add_option("--use-legacy-netpol", f.use_legacy_netpol,
                 "Namespace-annotation isolation (net.beta.kubernetes.io/network-policy)");
  app.add_option("--kubeconfig", f.kubeconfig, "kubeconfig (default: in-cluster)")
      ->envname("KUBECONFIG");
  app.add_option("--node-name", f.node_name, "This node's name")->envname("HOSTNAME");
  app.add_option("--log-level", f.log_level, "debug, info, warning or error");
  CLI11_PARSE(app, argc, argv);
  if (absl::Status logging = weave::InitLogging(f.log_level); !logging.ok()) {
    std::cerr << "weave-npc: " << logging.message() << std::endl;
    return 1;
  }
  auto allow_mcast = weave::config::ParseBool({"--allow-mcast", ""}, f.allow_mcast);
  if (!allow_mcast.ok()) return Fail(allow_mcast.status());
  auto legacy = weave::config::ParseBool({"--use-legacy-netpol", ""}, f.use_legacy_netpol);
  if (!legacy.ok()) return Fail(legacy.status());
  auto address = weave::http::ListenAddress::Parse(f.metrics_addr);
  if (!address.ok()) {
    return Fail(weave::config::InvalidValue({"--metrics-addr", ""}, f.metrics_addr,
                                            "host:port, such as 0.0.0.0:6781"));
  }
  auto metrics = weave::http::Server::Start(
      "metrics", *address, {{"/metrics", [](const weave::http::Request&) {
                               return weave::http::Response{
                                   200, weave::metrics::kContentType,
                                   weave::metrics::RenderText(NpcMetrics())};
                             }}});
  if (!metrics.ok()) return Fail(metrics.status());
  spdlog::info("weave-npc {} started: node {}, allow-mcast {}, legacy netpol {}, metrics on {}",
               WEAVE_VERSION, f.node_name, *allow_mcast, *legacy, address->ToString());
  spdlog::warn("this build does not watch or enforce NetworkPolicy yet");
  int signal = 0;
  sigwait(&signals, &signal);
  spdlog::info("Received {}; stopping", strsignal(signal));
  (*metrics)->Stop();
  return 0;
}
