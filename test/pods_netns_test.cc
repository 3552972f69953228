// Pods on one node, end to end: the real weaver in a node namespace, pods attached by
// invoking the real weave-net binary exactly as kubelet does (CNI environment + stdin JSON).
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <set>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"
#include "test/harness/netns_cluster.h"
#include "test/harness/status_assertions.h"
#include "test/harness/subprocess.h"
#include "test/harness/wait_for.h"
#include "test/weaver_fixture.h"
#include "weave/router.grpc.pb.h"

namespace weave::testing {
namespace {

using nlohmann::json;

struct Pod {
  std::string id;
  std::string netns;  // path
  std::string ns_name;
  std::string address;  // without prefix, once attached
};

class OneNode {
 public:
  OneNode() {
    ASSIGN_OR_REQUIRE(cluster_, NetnsCluster::Create(1));
    StartRouter();
  }

  NetnsNode& node() { return cluster_->node(1); }
  NetnsCluster& cluster() { return *cluster_; }
  Process* router() { return router_; }

  void StartRouter() { router_ = StartWeaver(node()); }

  absl::StatusOr<CommandResult> Weave(std::vector<std::string> args) {
    return WeaveCli(node(), args);
  }

  Pod NewPod(const std::string& id) {
    ASSIGN_OR_REQUIRE(std::string path, cluster_->AddPodNamespace(id));
    return Pod{id, path, std::filesystem::path(path).filename().string(), ""};
  }

  std::string Config(const std::string& version = "1.0.0") {
    return json{{"cniVersion", version},
                {"name", "weave"},
                {"type", "weave-net"},
                {"socket", node().socket_path()}}
        .dump();
  }

  // Runs the plugin as kubelet does; from the test's namespace, like kubelet on the host.
  CommandResult Cni(const std::string& command, const Pod& pod, const std::string& config,
                    Environment extra = {}) {
    CommandOptions options;
    options.env = {{"CNI_COMMAND", command},
                   {"CNI_CONTAINERID", pod.id},
                   {"CNI_NETNS", pod.netns},
                   {"CNI_IFNAME", "eth0"},
                   {"CNI_PATH", std::filesystem::path(WEAVE_NET_PATH).parent_path().string()},
                   {"CNI_ARGS", absl::StrCat("IgnoreUnknown=1;K8S_POD_NAMESPACE=default;"
                                             "K8S_POD_NAME=pod-", pod.id)}};
    options.env.insert(options.env.end(), extra.begin(), extra.end());
    options.stdin_data = config;
    ASSIGN_OR_REQUIRE(CommandResult result,
                      RunCommand({WEAVE_NET_PATH}, absl::Seconds(30), options));
    return result;
  }

  void Add(Pod& pod) {
    CommandResult result = Cni("ADD", pod, Config());
    INFO(result.stdout_data << result.stderr_data);
    REQUIRE(result.exit.success());
    json parsed = json::parse(result.stdout_data);
    REQUIRE(parsed["cniVersion"] == "1.0.0");
    std::string cidr = parsed["ips"][0]["address"];
    pod.address = cidr.substr(0, cidr.find('/'));
  }

  bool Ping(const std::string& from_ns, const std::string& address) {
    auto result = RunCommand({"ip", "netns", "exec", from_ns, "ping", "-c1", "-W2", address},
                             absl::Seconds(10));
    return result.ok() && result->exit.success();
  }

  std::vector<std::string> VethsOnNode() {
    auto links = node().Exec({"ip", "-o", "link", "show"});
    std::vector<std::string> veths;
    if (!links.ok()) return veths;
    for (absl::string_view line : absl::StrSplit(links->stdout_data, '\n')) {
      if (absl::StrContains(line, "vethwepl")) veths.emplace_back(line);
    }
    return veths;
  }

 private:
  std::unique_ptr<NetnsCluster> cluster_;
  Process* router_ = nullptr;
};

TEST_CASE("ten pods on one node reach each other and the host, then DEL cleans up",
          "[netns]") {
  OneNode t;
  std::vector<Pod> pods;
  std::set<std::string> addresses;
  for (int i = 1; i <= 10; ++i) {
    pods.push_back(t.NewPod(absl::StrCat("p", i)));
    t.Add(pods.back());
    addresses.insert(pods.back().address);
  }
  CHECK(addresses.size() == 10);
  CHECK_FALSE(addresses.count("10.32.0.1"));  // the bridge's

  for (const Pod& from : pods) {
    for (const Pod& to : pods) {
      if (&from != &to) CHECK(t.Ping(from.ns_name, to.address));
    }
    CHECK(t.Ping(from.ns_name, "10.32.0.1"));             // the host, through the bridge
    CHECK(t.Ping(from.ns_name, t.node().address()));       // the host's own address
    CHECK(t.Ping(t.node().name(), from.address));          // host to pod
  }

  // Pod side: eth0 with the MTU and a default route via the bridge.
  auto link = RunCommand({"ip", "-n", pods[0].ns_name, "-o", "link", "show", "eth0"},
                         absl::Seconds(5));
  REQUIRE(link.ok());
  CHECK_THAT(link->stdout_data, Catch::Contains("mtu 1376"));
  auto route = RunCommand({"ip", "-n", pods[0].ns_name, "route", "show", "default"},
                          absl::Seconds(5));
  REQUIRE(route.ok());
  CHECK_THAT(route->stdout_data, Catch::Contains("default via 10.32.0.1 dev eth0"));

  for (const Pod& pod : pods) {
    CommandResult check = t.Cni("CHECK", pod,
                                json{{"cniVersion", "1.0.0"},
                                     {"name", "weave"},
                                     {"type", "weave-net"},
                                     {"socket", t.node().socket_path()},
                                     {"prevResult",
                                      {{"cniVersion", "1.0.0"},
                                       {"ips", {{{"address", pod.address + "/12"}}}}}}}
                                    .dump());
    INFO(check.stdout_data);
    CHECK(check.exit.success());
  }
  ASSIGN_OR_REQUIRE(CommandResult ps, t.Weave({"ps"}));
  CHECK(std::count(ps.stdout_data.begin(), ps.stdout_data.end(), '\n') == 11);
  CHECK_THAT(ps.stdout_data, Catch::StartsWith("weave:expose "));

  for (const Pod& pod : pods) {
    CommandResult del = t.Cni("DEL", pod, t.Config());
    INFO(del.stdout_data);
    CHECK(del.exit.success());
  }
  // DEL returns before the kernel has unregistered the veth (~30 ms each); the address is
  // released once it is gone.
  CHECK_OK(WaitFor([&] { return t.VethsOnNode().empty(); }, absl::Seconds(10),
                   "every pod veth to be deleted"));
  CHECK_OK(WaitFor(
      [&] {
        auto ipam = t.Weave({"status", "ipam"});
        return ipam.ok() && absl::StrContains(ipam->stdout_data, "(1 active)");  // the bridge
      },
      absl::Seconds(10), "every pod address to be released"));
  // DEL again (kubelet retries) still succeeds.
  CHECK(t.Cni("DEL", pods[0], t.Config()).exit.success());
}

TEST_CASE("after kill -9 of the router pods keep their addresses and new pods get new ones",
          "[netns]") {
  OneNode t;
  std::vector<Pod> old_pods;
  for (int i = 1; i <= 3; ++i) {
    old_pods.push_back(t.NewPod(absl::StrCat("old", i)));
    t.Add(old_pods.back());
  }
  REQUIRE_OK(t.router()->Signal(SIGKILL));
  REQUIRE_OK(t.router()->Wait(absl::Seconds(10)));
  CHECK(t.Ping(old_pods[0].ns_name, old_pods[1].address));  // the data path does not need us
  t.StartRouter();

  std::set<std::string> addresses;
  for (const Pod& pod : old_pods) addresses.insert(pod.address);
  for (int i = 1; i <= 10; ++i) {
    Pod pod = t.NewPod(absl::StrCat("new", i));
    t.Add(pod);
    CHECK(addresses.insert(pod.address).second);
  }
  CHECK(addresses.size() == 13);
  CHECK(t.Ping(old_pods[2].ns_name, old_pods[0].address));
  // The restarted router still knows the old pods.
  ASSIGN_OR_REQUIRE(CommandResult ps, t.Weave({"ps"}));
  CHECK_THAT(ps.stdout_data, Catch::Contains("old1"));
}

TEST_CASE("bad input gives the CNI error and leaves nothing behind", "[netns]") {
  OneNode t;
  Pod pod = t.NewPod("bad");
  auto error_code = [](const CommandResult& result) {
    json parsed = json::parse(result.stdout_data, nullptr, false);
    return parsed.is_object() && parsed.contains("code") ? parsed["code"].get<int>() : -1;
  };
  CommandResult malformed = t.Cni("ADD", pod, "{not json");
  CHECK_FALSE(malformed.exit.success());
  CHECK(error_code(malformed) == 6);

  CommandResult version = t.Cni("ADD", pod, t.Config("9.9.9"));
  CHECK_FALSE(version.exit.success());
  CHECK(error_code(version) == 1);

  Pod no_netns = pod;
  no_netns.netns = "";
  CommandResult missing = t.Cni("ADD", no_netns, t.Config());
  CHECK_FALSE(missing.exit.success());
  CHECK(error_code(missing) == 4);
  CHECK_THAT(missing.stdout_data, Catch::Contains("CNI_NETNS"));

  Pod gone = pod;
  gone.netns = "/run/netns/does-not-exist";
  CommandResult no_such = t.Cni("ADD", gone, t.Config());
  CHECK_FALSE(no_such.exit.success());
  CHECK(error_code(no_such) > 0);

  CHECK(t.VethsOnNode().empty());
  ASSIGN_OR_REQUIRE(CommandResult ipam, t.Weave({"status", "ipam"}));
  CHECK_THAT(ipam.stdout_data, Catch::Contains("(1 active)"));
  // The router keeps serving.
  t.Add(pod);
  CHECK(t.Ping(pod.ns_name, "10.32.0.1"));

  // Router down: 11, try again later, naming the socket.
  REQUIRE_OK(t.router()->Stop(absl::Seconds(10)));
  Pod later = t.NewPod("later");
  CommandResult down = t.Cni("ADD", later, t.Config());
  CHECK(error_code(down) == 11);
  CHECK_THAT(down.stdout_data, Catch::Contains(t.node().socket_path()));
}

TEST_CASE("the endpoint stream shows every ADD and DEL", "[netns]") {
  OneNode t;
  auto channel = grpc::CreateChannel("unix://" + t.node().socket_path(),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::Router::NewStub(channel);
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<v1::EndpointEvent>> reader =
      stub->WatchEndpoints(&context, v1::WatchEndpointsRequest());
  v1::EndpointEvent event;
  REQUIRE(reader->Read(&event));
  CHECK(event.type() == v1::EndpointEvent::SYNCED);  // no pods yet

  Pod a = t.NewPod("a");
  Pod b = t.NewPod("b");
  t.Add(a);
  t.Add(b);
  REQUIRE(t.Cni("DEL", a, t.Config()).exit.success());
  std::vector<std::pair<int, std::string>> seen;
  for (int i = 0; i < 3 && reader->Read(&event); ++i) {
    seen.emplace_back(event.type(), event.endpoint().container_id());
    if (event.type() == v1::EndpointEvent::ADDED) {
      CHECK(event.endpoint().pod_namespace() == "default");
      CHECK(event.endpoint().pod_name() == "pod-" + event.endpoint().container_id());
      CHECK_FALSE(event.endpoint().mac().empty());
      CHECK(event.endpoint().addresses_size() == 1);
    }
  }
  CHECK(seen == std::vector<std::pair<int, std::string>>{{v1::EndpointEvent::ADDED, "a"},
                                                         {v1::EndpointEvent::ADDED, "b"},
                                                         {v1::EndpointEvent::REMOVED, "a"}});
  context.TryCancel();
}

TEST_CASE("weave reset leaves no link and no store behind", "[netns]") {
  OneNode t;
  Pod pod = t.NewPod("r1");
  t.Add(pod);
  std::string store = t.node().db_prefix() + "data.db";
  CHECK(std::filesystem::exists(store));
  ASSIGN_OR_REQUIRE(CommandResult table, t.node().Exec({"nft", "list", "table", "inet", "weave"}));
  CHECK_THAT(table.stdout_data, Catch::Contains(pod.address));  // in the local-pods set
  ASSIGN_OR_REQUIRE(CommandResult reset, t.Weave({"reset"}));
  CHECK(reset.exit.success());
  ASSIGN_OR_REQUIRE(ExitStatus exit, t.router()->Wait(absl::Seconds(10)));
  CHECK(exit.success());
  auto bridge = t.node().Exec({"ip", "link", "show", "weave"});
  REQUIRE(bridge.ok());
  CHECK_FALSE(bridge->exit.success());
  CHECK(t.VethsOnNode().empty());
  CHECK_FALSE(std::filesystem::exists(store));
  ASSIGN_OR_REQUIRE(CommandResult no_table,
                    t.node().Exec({"nft", "list", "table", "inet", "weave"}));
  CHECK_FALSE(no_table.exit.success());
  // Without a router, reset still works (and is idempotent).
  ASSIGN_OR_REQUIRE(CommandResult again,
                    t.Weave({"reset", "--db-prefix", t.node().db_prefix()}));
  CHECK(again.exit.success());
}

}  // namespace
}  // namespace weave::testing

namespace weave::testing {
namespace {

// kube-proxy's case: a pod talks to a service address that DNATs back to itself. With
// br_netfilter the DNAT happens while the frame is bridged, and the frame must leave through
// the port it came in on: only a hairpin port allows that.
TEST_CASE("a pod reaches itself through a DNAT to its own address only with hairpin",
          "[netns]") {
  OneNode t;
  (void)RunCommand({"modprobe", "br_netfilter"}, absl::Seconds(10));  // may be built in
  REQUIRE_OK(t.node()
                 .Exec({"sysctl", "-q", "-w", "net.bridge.bridge-nf-call-iptables=1"})
                 ->ToStatus());
  Pod on = t.NewPod("hairpin");
  t.Add(on);
  Pod off = t.NewPod("nohairpin");
  CommandResult add = t.Cni("ADD", off,
                            json{{"cniVersion", "1.0.0"},
                                 {"name", "weave"},
                                 {"type", "weave-net"},
                                 {"hairpinMode", false},
                                 {"socket", t.node().socket_path()}}
                                .dump());
  REQUIRE(add.exit.success());
  std::string cidr = json::parse(add.stdout_data)["ips"][0]["address"];
  off.address = cidr.substr(0, cidr.find('/'));

  std::string rules = absl::StrCat(
      "table ip hairpin-test {\n chain pre {\n  type nat hook prerouting priority dstnat;\n",
      "  ip daddr 10.99.99.1 tcp dport 80 dnat to ", on.address, ":8080\n",
      "  ip daddr 10.99.99.2 tcp dport 80 dnat to ", off.address, ":8080\n }\n",
      // kube-proxy masquerades hairpin traffic: a pod drops packets from its own address.
      " chain post {\n  type nat hook postrouting priority srcnat;\n",
      "  ip saddr 10.32.0.0/12 ip daddr 10.32.0.0/12 ct status dnat masquerade\n }\n}\n");
  CommandOptions nft_input;
  nft_input.stdin_data = rules;
  REQUIRE_OK(t.node().Exec({"nft", "-f", "-"}, absl::Seconds(10), nft_input)->ToStatus());

  auto reaches_itself = [&](const Pod& pod, const std::string& service) {
    ASSIGN_OR_REQUIRE(Process * listener,
                      t.node().Start(absl::StrCat("listener-", pod.id),
                                     {"ip", "netns", "exec", pod.ns_name, "ncat", "-l", "-p",
                                      "8080", "--recv-only"}));
    REQUIRE_OK(WaitFor(
        [&] {
          auto r = RunCommand({"ip", "netns", "exec", pod.ns_name, "ss", "-ltn", "sport = :8080"},
                              absl::Seconds(5));
          return r.ok() && absl::StrContains(r->stdout_data, "8080");
        },
        absl::Seconds(10), "the listener"));
    CommandOptions options;
    options.stdin_data = "hello\n";
    auto sent = RunCommand({"ip", "netns", "exec", pod.ns_name, "ncat", "--send-only", "-w", "2",
                            service, "80"},
                           absl::Seconds(10), options);
    (void)listener->Stop(absl::Seconds(2));
    return sent.ok() && sent->exit.success();
  };
  CHECK(reaches_itself(on, "10.99.99.1"));
  CHECK_FALSE(reaches_itself(off, "10.99.99.2"));
}

}  // namespace
}  // namespace weave::testing
