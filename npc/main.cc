// weave-npc: the NetworkPolicy controller (second container of the weave-net pod).
//
// Watches namespaces, pods and NetworkPolicies cluster-wide, compiles them into table
// `inet weave-npc` for this node's pods and applies every change as one nftables transaction
// (npc/controller.h); serves its metrics on --metrics-addr.
#include <malloc.h>
#include <signal.h>

#include <atomic>
#include <cstring>
#include <iostream>
#include <thread>

#include "CLI/CLI.hpp"
#include "common/config/values.h"
#include "common/http/server.h"
#include "common/kube/client.h"
#include "common/kube/config.h"
#include "common/kube/reflector.h"
#include "common/log.h"
#include "common/metrics/exposition.h"
#include "common/netlink/nflog.h"
#include "common/nft/linux_backend.h"
#include "npc/controller.h"
#include "npc/nflog/nflog.h"
#include "npc/router_endpoints.h"
#include "npc/router_report.h"
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

std::vector<weave::metrics::Family> NpcMetrics(
    const weave::npc::ControllerStatus& status,
    const std::vector<weave::npc::nflog::BlockedCount>& blocked) {
  using weave::metrics::Type;
  return {
      weave::npc::nflog::BlockedConnectionsFamily(blocked),
      {"weavenpc_enforcement_errors_total",
       "Rulesets the kernel refused (each is retried).", Type::kCounter,
       {{{}, static_cast<double>(status.sync_errors)}}},
      {"weavenpc_policies", "NetworkPolicies enforced (including unenforceable ones).",
       Type::kGauge, {{{}, static_cast<double>(status.policies)}}},
      {"weavenpc_unenforceable_policies",
       "NetworkPolicies that could not be read: isolating without allowing, or ignored.",
       Type::kGauge, {{{}, static_cast<double>(status.problems.size())}}},
      {"weavenpc_ruleset_syncs_total", "Transactions applied to table inet weave-npc.",
       Type::kCounter, {{{}, static_cast<double>(status.syncs)}}},
      {"weavenpc_last_sync_duration_seconds",
       "How long the last transaction took: compile, plan and the kernel's commit.",
       Type::kGauge, {{{}, absl::ToDoubleSeconds(status.last_sync_took)}}},
      {"weavenpc_denied_flows_deleted_total",
       "Conntrack entries deleted because a policy change denied their flow.", Type::kCounter,
       {{{}, static_cast<double>(status.flows_deleted)}}},
  };
}

// A sync that takes longer is logged with where the time went.
constexpr absl::Duration kSlowSync = absl::Seconds(1);

void LogSync(const weave::npc::ControllerStatus& status) {
  const auto ms = [](absl::Duration d) { return absl::ToInt64Milliseconds(d); };
  const weave::npc::ControllerStatus::Steps& steps = status.last_sync_steps;
  spdlog::info(
      "{} table inet {} ({} namespaces, {} pods, {} policies: {} chains, {} rules, {} sets, {} "
      "elements) in {} ms: compile {} ms, read the kernel's table {} ms, plan {} ms, kernel {} ms",
      status.syncs == 1 ? "applied" : "slow sync: applied", weave::npc::kTableName,
      status.namespaces, status.pods, status.policies, status.chains, status.rules, status.sets,
      status.elements, ms(status.last_sync_took), ms(steps.compile), ms(steps.dump),
      ms(steps.plan), ms(steps.apply));
}

// Applies model changes as they come; a refused transaction is retried after a pause.
void SyncLoop(weave::npc::Controller& controller, const std::atomic<bool>& stopping) {
  absl::Duration retry = absl::Seconds(1);
  while (!stopping.load()) {
    if (!controller.WaitPending(absl::Now() + absl::Milliseconds(200))) continue;
    const uint64_t syncs_before = controller.status().syncs;
    absl::Status status = controller.Sync();
    if (status.ok()) {
      retry = absl::Seconds(1);
      const weave::npc::ControllerStatus after = controller.status();
      if (after.syncs != syncs_before && (syncs_before == 0 || after.last_sync_took > kSlowSync)) {
        LogSync(after);
      }
      continue;
    }
    spdlog::error("{}; retrying in {}", std::string(status.message()),
                  absl::FormatDuration(retry));
    const absl::Time until = absl::Now() + retry;
    while (!stopping.load() && absl::Now() < until) absl::SleepFor(absl::Milliseconds(50));
    retry = std::min(retry * 2, absl::Seconds(30));
  }
}

// After each change: forgets the flows the new rules refuse, on its own thread so that the next
// pod event is not held up by a sweep (a burst of changes is swept once, with its last table).
void SweepLoop(weave::npc::Controller& controller, const std::atomic<bool>& stopping) {
  absl::Time next = absl::InfinitePast();  // when the next sweep may start (SweepPause)
  while (!stopping.load()) {
    if (!controller.WaitSweepDue(absl::Now() + absl::Milliseconds(200))) continue;
    while (!stopping.load() && absl::Now() < next) {
      absl::SleepFor(std::min(next - absl::Now(), absl::Milliseconds(50)));
    }
    const absl::Time start = absl::Now();
    absl::StatusOr<int> deleted = controller.SweepFlows();
    const absl::Time end = absl::Now();
    next = end + weave::npc::SweepPause(end - start);
    // A sweep reads the whole table back (tens of MB with a large one) on this thread, whose
    // malloc arena would otherwise keep that peak: give the pages back.
    malloc_trim(0);
    if (!deleted.ok()) {
      spdlog::error("deleting the conntrack entries of denied flows: {}",
                    std::string(deleted.status().message()));
    } else if (*deleted > 0) {
      spdlog::info("deleted the conntrack entries of {} flow(s) that policy now denies",
                   *deleted);
    }
  }
}

}  // namespace

// Reports to the router at once after every sync (a new pod waits at the router's gate for the
// report that names it enforced), and every 10 s regardless (a restarted router learns at
// once). Runs until `stopping`.
void ReportLoop(weave::npc::Controller& controller, weave::npc::RouterReporter& reporter,
                const std::atomic<bool>& stopping) {
  uint64_t reported_syncs = 0;
  absl::Time last_report = absl::InfinitePast();
  absl::Time last_complaint = absl::InfinitePast();
  bool gate_open = false;
  while (!stopping.load()) {
    controller.WaitSynced(reported_syncs, absl::Now() + absl::Milliseconds(200));
    const weave::npc::ControllerStatus status = controller.status();
    if (!status.ready) continue;
    if (status.syncs == reported_syncs && absl::Now() - last_report < absl::Seconds(10)) continue;
    absl::StatusOr<bool> open = reporter.Report(status);
    last_report = absl::Now();
    if (!open.ok()) {
      if (absl::Now() - last_complaint > absl::Minutes(1)) {
        spdlog::warn("{} (with EXPECT_NPC=1 it keeps new connections to local pods blocked "
                     "until it hears of the first sync)",
                     std::string(open.status().message()));
        last_complaint = absl::Now();
      }
      absl::SleepFor(absl::Milliseconds(500));  // the router is away: do not spin
      continue;
    }
    reported_syncs = status.syncs;
    if (*open && !gate_open) spdlog::info("the router's policy gate is open");
    gate_open = *open;
  }
}

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
  if (f.node_name.empty()) {
    return Fail(absl::InvalidArgumentError(
        "weave-npc needs this node's name: set --node-name or HOSTNAME"));
  }
  const weave::kube::Environment env = weave::kube::Environment::FromProcess();
  if (f.kubeconfig.empty() && env.kubernetes_service_host.empty()) {
    return Fail(absl::FailedPreconditionError(
        "weave-npc needs the Kubernetes API: run it in a pod (KUBERNETES_SERVICE_HOST) or give "
        "--kubeconfig"));
  }
  auto kube_config = weave::kube::LoadConfig(f.kubeconfig, env);
  if (!kube_config.ok()) return Fail(kube_config.status());
  auto client = weave::kube::NewClient(*kube_config);
  if (!client.ok()) return Fail(client.status());
  auto backend = weave::nft::LinuxBackend::Open();
  if (!backend.ok()) return Fail(backend.status());

  std::unique_ptr<weave::npc::FlowSweeper> sweeper;
  if (auto conntrack = weave::netlink::conntrack::Conntrack::Open(); conntrack.ok()) {
    sweeper = std::make_unique<weave::npc::ConntrackSweeper>(std::move(*conntrack));
  } else {
    spdlog::error("established flows will outlive the policies that deny them: {}",
                  std::string(conntrack.status().message()));
  }
  using weave::npc::Controller;
  Controller controller(backend->get(),
                        {.node = f.node_name, .allow_mcast = *allow_mcast, .legacy_netpol = *legacy},
                        sweeper.get());
  // Blocked connections: the spec's line for each (rate-limited), with pod and policy names
  // where known.
  using weave::npc::nflog::Direction;
  weave::npc::nflog::BlockedConnectionLog blocked(
      {},
      {.pod = [&controller](weave::net::Ipv4 address) { return controller.PodAt(address); },
       .policies =
           [&controller](const std::string& pod, Direction direction) {
             return controller.PoliciesSelecting(pod, direction == Direction::kIngress);
           }},
      absl::Now, [](const std::string& line) { spdlog::warn("{}", line); });
  auto nflog = weave::netlink::nflog::NflogReader::Open();
  if (nflog.ok()) {
    if (absl::Status started =
            (*nflog)->Start([&blocked](const weave::netlink::nflog::LoggedPacket& packet) {
              return blocked.RecordIpv4(packet.payload, packet.prefix);
            });
        !started.ok()) {
      return Fail(started);
    }
  } else {
    // Policy is enforced all the same; only the log lines and the counter are missing.
    spdlog::error("blocked connections will not be logged: {}",
                  std::string(nflog.status().message()));
  }

  auto metrics = weave::http::Server::Start(
      "metrics", *address, {{"/metrics", [&controller, &blocked](const weave::http::Request&) {
                               return weave::http::Response{
                                   200, weave::metrics::kContentType,
                                   weave::metrics::RenderText(NpcMetrics(
                                       controller.status(), blocked.counters().Snapshot()))};
                             }}});
  if (!metrics.ok()) return Fail(metrics.status());

  Controller::Handler namespaces(&controller, Controller::Kind::kNamespace);
  Controller::Handler pods(&controller, Controller::Kind::kPod);
  Controller::Handler policies(&controller, Controller::Kind::kPolicy);
  std::vector<std::unique_ptr<weave::kube::Reflector>> watches;
  watches.push_back(
      std::make_unique<weave::kube::Reflector>(client->get(), "/api/v1/namespaces", &namespaces));
  watches.push_back(
      std::make_unique<weave::kube::Reflector>(client->get(), "/api/v1/pods", &pods));
  watches.push_back(std::make_unique<weave::kube::Reflector>(
      client->get(), "/apis/networking.k8s.io/v1/networkpolicies", &policies));
  std::atomic<bool> stopping{false};
  std::thread sync([&] { SyncLoop(controller, stopping); });
  std::thread sweep([&] { SweepLoop(controller, stopping); });
  weave::npc::RouterReporter reporter(f.socket);
  std::thread report([&] { ReportLoop(controller, reporter, stopping); });
  weave::npc::EndpointWatcher endpoints(f.socket, &controller);
  endpoints.Start();
  std::thread flush([&] {
    while (!stopping.load()) {
      for (int i = 0; i < 50 && !stopping.load(); ++i) absl::SleepFor(absl::Milliseconds(100));
      blocked.Flush();
    }
  });
  for (auto& watch : watches) watch->Start();
  spdlog::info("weave-npc {} started: node {}, allow-mcast {}, legacy netpol {}, metrics on {}",
               WEAVE_VERSION, f.node_name, *allow_mcast, *legacy, address->ToString());

  int signal = 0;
  sigwait(&signals, &signal);
  spdlog::info("Received {}; stopping (table inet {} stays: policy holds while weave-npc is away)",
               strsignal(signal), weave::npc::kTableName);
  for (auto& watch : watches) watch->Stop();
  endpoints.Stop();
  stopping = true;
  sync.join();
  sweep.join();
  flush.join();
  report.join();
  if (nflog.ok()) (*nflog)->Stop();
  (*metrics)->Stop();
  return 0;
}
