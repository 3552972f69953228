// weave-npc end to end on one node: the real binary watches the fake API server (test/kube) and
// keeps table inet weave-npc in the node's network namespace in step with the namespaces, pods
// and NetworkPolicies there; a policy it cannot read is reported and leaves the others' rules
// as they were; its table outlives it and a new weave-npc takes it over.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "test/harness/file_util.h"
#include "test/harness/netns_cluster.h"
#include "test/harness/status_assertions.h"
#include "test/harness/subprocess.h"
#include "test/harness/wait_for.h"

namespace weave::testing {
namespace {

using nlohmann::json;

constexpr char kToken[] = "npc-test-token";
constexpr int kApiPort = 6443;

json Pod(const std::string& name, const std::string& ip, const std::string& app) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"namespace", "x"}, {"name", name}, {"labels", {{"app", app}}}}},
          {"spec",
           {{"nodeName", "node1"},
            {"containers",
             {{{"name", "c"}, {"ports", {{{"name", "http"}, {"containerPort", 8080}}}}}}}}},
          {"status", {{"phase", "Running"}, {"podIP", ip}}}};
}

json Policy(const std::string& name, const json& spec) {
  return {{"apiVersion", "networking.k8s.io/v1"},
          {"kind", "NetworkPolicy"},
          {"metadata", {{"namespace", "x"}, {"name", name}}},
          {"spec", spec}};
}

class NpcNode {
 public:
  NpcNode() {
    ASSIGN_OR_REQUIRE(cluster_, NetnsCluster::Create(1));
    api_dir_ = cluster_->work_dir() + "/apiserver";
    std::filesystem::create_directories(api_dir_);
    json seed = json::array();
    seed.push_back({{"apiVersion", "v1"},
                    {"kind", "Namespace"},
                    {"metadata",
                     {{"name", "x"}, {"labels", {{"kubernetes.io/metadata.name", "x"}}}}}});
    seed.push_back(Pod("a", "10.32.0.2", "web"));
    seed.push_back(Pod("b", "10.32.0.3", "client"));
    seed.push_back(Policy("allow-http", json::parse(R"({
        "podSelector": {"matchLabels": {"app": "web"}},
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "client"}}}],
                     "ports": [{"port": "http"}]}]})")));
    std::ofstream(api_dir_ + "/seed.json") << seed.dump();
    ASSIGN_OR_REQUIRE(api_, node().Start("fake-apiserver",
                                         {FAKE_APISERVER_PATH, "--dir", api_dir_, "--listen-host",
                                          node().address(), "--port", std::to_string(kApiPort),
                                          "--ip", node().address(), "--token", kToken, "--seed",
                                          api_dir_ + "/seed.json", "--quiet"}));
    REQUIRE_OK(WaitFor([&] { return std::filesystem::exists(api_dir_ + "/kubeconfig"); },
                       absl::Seconds(20), "the fake API server to listen"));
  }

  NetnsNode& node() { return cluster_->node(1); }

  Process* StartNpc() {
    Process* npc = nullptr;
    ASSIGN_OR_REQUIRE(npc, node().Start("weave-npc", {WEAVE_NPC_PATH, "--kubeconfig",
                                                      api_dir_ + "/kubeconfig", "--node-name",
                                                      "node1", "--metrics-addr",
                                                      "127.0.0.1:6781", "--socket",
                                                      node().socket_path()}));
    return npc;
  }

  // The API: `method` on `path` with an optional JSON body.
  void Api(const std::string& method, const std::string& path, const std::string& body = "") {
    std::vector<std::string> argv = {
        "curl", "-sf", "--cacert", api_dir_ + "/ca.crt", "-H",
        absl::StrCat("Authorization: Bearer ", kToken), "-H", "Content-Type: application/json",
        "-X", method, absl::StrCat("https://", node().address(), ":", kApiPort, path)};
    if (!body.empty()) {
      argv.push_back("-d");
      argv.push_back(body);
    }
    CHECK_OK(node().Exec(argv)->ToStatus());
  }

  std::string Table() {
    absl::StatusOr<CommandResult> result =
        node().Exec({"nft", "list", "table", "inet", "weave-npc"});
    return result.ok() && result->exit.success() ? result->stdout_data : "";
  }

  std::string Metrics() {
    absl::StatusOr<CommandResult> result =
        node().Exec({"curl", "-sf", "http://127.0.0.1:6781/metrics"});
    return result.ok() && result->exit.success() ? result->stdout_data : "";
  }

 private:
  std::unique_ptr<NetnsCluster> cluster_;
  std::string api_dir_;
  Process* api_ = nullptr;
};

// The block of `chain NAME { ... }` in nft's listing, or "" if absent.
std::string ChainBlock(const std::string& table, const std::string& name) {
  const size_t start = table.find(absl::StrCat("\tchain ", name, " {"));
  if (start == std::string::npos) return "";
  const size_t end = table.find("\n\t}", start);
  return table.substr(start, end - start);
}

TEST_CASE("weave-npc keeps table inet weave-npc in step with the API", "[netns][npc]") {
  NpcNode n;
  Process* npc = n.StartNpc();
  std::string table;
  REQUIRE_OK(WaitFor(
      [&] {
        table = n.Table();
        return absl::StrContains(table, "10.32.0.2 . tcp . 8080") &&
               absl::StrContains(table, "chain in.x.allow-http {");
      },
      absl::Seconds(20), "the policy's rules with x/a's named port in the kernel"));
  INFO(table);
  CHECK(absl::StrContains(table, "ip saddr @in.x.allow-http.0 ip daddr . meta l4proto . th dport "
                                 "@in.x.allow-http.0.np accept"));
  const std::string allow_http = ChainBlock(table, "in.x.allow-http");

  // A policy with an invalid selector: reported, isolating what it selects, allowing nothing,
  // and the other policy's rules exactly as they were.
  n.Api("POST", "/_fake/objects", json::array({Policy("broken", json::parse(R"({
      "podSelector": {"matchLabels": {"app": "client"}},
      "ingress": [{"from": [{"podSelector": {"matchExpressions":
          [{"key": "app", "operator": "Near", "values": ["web"]}]}}]}]})"))})
                                      .dump());
  REQUIRE_OK(WaitFor(
      [&] {
        table = n.Table();
        return absl::StrContains(n.Metrics(), "weavenpc_unenforceable_policies 1") &&
               absl::StrContains(table, "chain in.x.broken {");
      },
      absl::Seconds(20), "the broken policy to be reported and to isolate x/b"));
  CHECK(ChainBlock(table, "in.x.allow-http") == allow_http);
  CHECK(ChainBlock(table, "in.x.broken") == "\tchain in.x.broken {");
  CHECK(absl::StrContains(ReadFileOrEmpty(npc->log_path()),
                          "NetworkPolicy x/broken: spec.ingress[0].from[0].podSelector"));

  // A pod goes: its address leaves the sets; nothing else changes.
  n.Api("DELETE", "/api/v1/namespaces/x/pods/a");
  REQUIRE_OK(WaitFor([&] { return !absl::StrContains(n.Table(), "10.32.0.2"); },
                     absl::Seconds(20), "x/a's address to leave the sets"));

  // weave-npc stops: its table stays (policy holds while it restarts); the next one takes it
  // over and follows the API again.
  REQUIRE_OK(npc->Stop(absl::Seconds(10)).status());
  const std::string kept = n.Table();
  CHECK(absl::StrContains(kept, "chain in.x.broken {"));
  npc = n.StartNpc();
  REQUIRE_OK(WaitFor([&] { return absl::StrContains(n.Metrics(), "weavenpc_ruleset_syncs_total"); },
                     absl::Seconds(20), "the new weave-npc to serve its metrics"));
  n.Api("DELETE", "/apis/networking.k8s.io/v1/namespaces/x/networkpolicies/broken");
  REQUIRE_OK(WaitFor(
      [&] {
        table = n.Table();
        return !table.empty() && !absl::StrContains(table, "in.x.broken") &&
               absl::StrContains(n.Metrics(), "weavenpc_unenforceable_policies 0");
      },
      absl::Seconds(20), "the deleted policy's chain and sets to go"));
  CHECK(ChainBlock(table, "in.x.allow-http") == allow_http);
}

}  // namespace
}  // namespace weave::testing
