// CNI conformance, end to end: the real weaver in node 1's namespace and the real weave-net, driven
// the way container runtimes drive plugins. test/libcni's libcni-runner links libcni (Debian's
// 1.1.2), the library containerd and CRI-O call plugins with, and runs inside node 1's namespace
// as a runtime runs on its host; so do the plugins it starts, and portmap's iptables rules land
// in node 1's namespace and nowhere else.
//
// The configuration is the conflist `weave setup-cni` writes (weave-net, then portmap with snat),
// with cniVersion rewritten per run; "alone" keeps only weave-net. CNI_PATH is setup-cni's bin
// directory (the installed weave-net and weave-ipam), then /usr/lib/cni (Debian's portmap).
// The router's socket reaches the plugin as WEAVE_SOCKET, which libcni passes on.
#include <array>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "test/harness/file_util.h"
#include "test/harness/netns_cluster.h"
#include "test/harness/status_assertions.h"
#include "test/harness/subprocess.h"
#include "test/harness/wait_for.h"
#include "test/weaver_fixture.h"

namespace weave::testing {
namespace {

namespace fs = std::filesystem;
using Catch::Contains;
using nlohmann::json;
using nlohmann::ordered_json;

// What a pod asks for in the port-mapping test, as kubelet passes a hostPort in runtimeConfig.
constexpr char kPortMappings[] = R"([{"hostPort":8080,"containerPort":80,"protocol":"tcp"}])";

struct Pod {
  std::string id;       // CNI_CONTAINERID
  std::string netns;    // CNI_NETNS, /run/netns/<ns_name>
  std::string ns_name;  // for ip -n
};

// "1.0.0" as numbers, so that versions compare in order; 0.0.0 for anything else.
std::array<int, 3> SpecVersion(const std::string& text) {
  std::array<int, 3> parts = {0, 0, 0};
  std::vector<std::string> fields = absl::StrSplit(text, '.');
  for (size_t i = 0; i < fields.size() && i < parts.size(); ++i) {
    if (!absl::SimpleAtoi(fields[i], &parts[i])) return {0, 0, 0};
  }
  return parts;
}

bool AtLeast(const std::string& version, const std::string& minimum) {
  return SpecVersion(version) >= SpecVersion(minimum);
}

// The string at a JSON pointer ("/ips/0/address"), or "" when it is not there or not a string:
// assertions on a plugin's or libcni's answer fail instead of throwing.
std::string StringAt(const json& document, const std::string& pointer) {
  const json::json_pointer path(pointer);
  if (!document.is_object() || !document.contains(path) || !document.at(path).is_string()) {
    return "";
  }
  return document.at(path).get<std::string>();
}

// The "code" of a CNI error on stdout, or -1.
int ErrorCode(const CommandResult& result) {
  json parsed = json::parse(result.stdout_data, nullptr, false);
  return parsed.is_object() && parsed.contains("code") && parsed["code"].is_number_integer()
             ? parsed["code"].get<int>()
             : -1;
}

// Node 1 runs weaver (more nodes stand for other hosts); the CNI files are installed by
// `weave setup-cni` under a fake host root in the cluster's work directory.
class CniNode {
 public:
  explicit CniNode(int num_nodes = 1) {
    ASSIGN_OR_REQUIRE(cluster_, NetnsCluster::Create(num_nodes));
    StartRouter();
    InstallCni();
  }

  NetnsCluster& cluster() { return *cluster_; }
  NetnsNode& node() { return cluster_->node(1); }
  Process* router() { return router_; }

  Pod NewPod(const std::string& id) {
    ASSIGN_OR_REQUIRE(std::string path, cluster_->AddPodNamespace(id));
    return Pod{id, path, fs::path(path).filename().string()};
  }

  // Writes setup-cni's conflist with `version` as its cniVersion; without `chained`, weave-net
  // alone. Returns the file's path.
  std::string Conflist(const std::string& version, bool chained) {
    ordered_json conf = setup_cni_conflist_;
    conf["cniVersion"] = version;
    if (!chained) conf["plugins"].erase(1);
    const std::string path = absl::StrCat(cluster_->work_dir(), "/", chained ? "chain-" : "alone-",
                                          version, ".conflist");
    std::ofstream(path) << conf.dump(2);
    return path;
  }

  // Runs libcni-runner's `op` inside node 1's namespace.
  CommandResult Libcni(const std::string& op, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {LIBCNI_RUNNER_PATH, op};
    argv.insert(argv.end(), args.begin(), args.end());
    CommandOptions options;
    options.env = {{"CNI_PATH", absl::StrCat(bin_dir_, ":/usr/lib/cni")},
                   {"WEAVE_SOCKET", node().socket_path()}};
    ASSIGN_OR_REQUIRE(CommandResult result, node().Exec(argv, absl::Seconds(60), options));
    return result;
  }

  // The flags of an add, check or del of `pod` through `conflist`.
  std::vector<std::string> PodArgs(const std::string& conflist, const Pod& pod) const {
    const std::string cache = cluster_->work_dir() + "/libcni-cache";
    const std::string cni_args =
        absl::StrCat("IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=pod-", pod.id);
    std::vector<std::string> args = {"-conf", conflist, "-netns", pod.netns, "-id", pod.id};
    args.insert(args.end(), {"-cache", cache, "-args", cni_args});
    return args;
  }

  // eth0's IPv4 address in the pod as the kernel has it ("10.32.0.2/12"), or "" without one.
  static std::string PodAddress(const Pod& pod) {
    auto shown = RunCommand({"ip", "-n", pod.ns_name, "-4", "-o", "addr", "show", "dev", "eth0"},
                            absl::Seconds(5));
    if (!shown.ok() || !shown->exit.success()) return "";
    std::vector<std::string> words =
        absl::StrSplit(shown->stdout_data, absl::ByAnyChar(" \t\n"), absl::SkipEmpty());
    for (size_t i = 0; i + 1 < words.size(); ++i) {
      if (words[i] == "inet") return words[i + 1];
    }
    return "";
  }

  // The names of the pod veths (vethwepl…) on node 1.
  std::set<std::string> PodVeths() {
    std::set<std::string> veths;
    auto links = node().Exec({"ip", "-o", "link", "show"});
    if (!links.ok()) return veths;
    for (absl::string_view line : absl::StrSplit(links->stdout_data, '\n')) {
      std::vector<std::string> words =
          absl::StrSplit(line, absl::ByAnyChar(" :@"), absl::SkipEmpty());
      if (words.size() > 1 && absl::StartsWith(words[1], "vethwepl")) veths.insert(words[1]);
    }
    return veths;
  }

  // Waits until node 1 has no pod veth and IPAM holds only the bridge's address: DEL removes the
  // veth after answering, and the address is released once the veth is gone.
  absl::Status WaitUntilNoPods() {
    return WaitFor(
        [&] {
          if (!PodVeths().empty()) return false;
          auto ipam = Weave({"status", "ipam"});
          return ipam.ok() && absl::StrContains(ipam->stdout_data, "(1 active)");
        },
        absl::Seconds(10), "every pod veth and address on node 1 to be gone");
  }

  absl::StatusOr<CommandResult> Weave(std::vector<std::string> args) {
    std::vector<std::string> argv = {WEAVE_CLI_PATH, "--socket", node().socket_path()};
    argv.insert(argv.end(), args.begin(), args.end());
    return node().Exec(argv, absl::Seconds(10));
  }

 private:
  void StartRouter() { router_ = StartWeaver(node()); }

  void InstallCni() {
    const std::string host = cluster_->work_dir() + "/cni-host";
    ASSIGN_OR_REQUIRE(CommandResult setup, RunCommand({WEAVE_CLI_PATH, "setup-cni", "--host-root",
                                                       host, "--plugin-binary", WEAVE_NET_PATH},
                                                      absl::Seconds(30)));
    REQUIRE_OK(setup.ToStatus());
    bin_dir_ = host + "/opt/cni/bin";
    setup_cni_conflist_ = ordered_json::parse(
        ReadFileOrEmpty(host + "/etc/cni/net.d/10-weave.conflist"), nullptr, false);
    // The shape the tests rely on: weave-net first, portmap second.
    REQUIRE(setup_cni_conflist_.is_object());
    REQUIRE(setup_cni_conflist_["plugins"].size() == 2);
    REQUIRE(setup_cni_conflist_["plugins"][0]["type"] == "weave-net");
    REQUIRE(setup_cni_conflist_["plugins"][1]["type"] == "portmap");
  }

  std::unique_ptr<NetnsCluster> cluster_;
  Process* router_ = nullptr;
  std::string bin_dir_;
  ordered_json setup_cni_conflist_;
};

// ADD through libcni, then CHECK where the spec has it, then DEL (twice: runtimes retry), checking
// what libcni returned against the kernel.
void AddCheckDel(CniNode& t, const Pod& pod, const std::string& conflist,
                 const std::string& version) {
  const std::vector<std::string> args = t.PodArgs(conflist, pod);
  const CommandResult add = t.Libcni("add", args);
  INFO("add: " << add.stdout_data << add.stderr_data);
  CHECK(add.exit.success());
  const json result = json::parse(add.stdout_data, nullptr, false);
  CHECK(StringAt(result, "/cniVersion") == version);
  const std::string address = CniNode::PodAddress(pod);
  CHECK_THAT(address, Catch::StartsWith("10.3"));  // in 10.32.0.0/12
  CHECK(StringAt(result, "/ips/0/address") == address);
  CHECK(StringAt(result, "/ips/0/gateway") == "10.32.0.1");
  if (!AtLeast(version, "1.0.0")) CHECK(StringAt(result, "/ips/0/version") == "4");
  // ips[0].interface indexes the pod's eth0, in the pod's namespace; interfaces[0] is the host
  // side, a veth on node 1.
  const int eth0 =
      result.is_object() ? result.value(json::json_pointer("/ips/0/interface"), -1) : -1;
  CHECK(StringAt(result, absl::StrCat("/interfaces/", eth0, "/name")) == "eth0");
  CHECK(StringAt(result, absl::StrCat("/interfaces/", eth0, "/sandbox")) == pod.netns);
  const std::string veth = StringAt(result, "/interfaces/0/name");
  CHECK(t.PodVeths() == std::set<std::string>{veth});

  if (AtLeast(version, "0.4.0")) {
    const CommandResult check = t.Libcni("check", args);
    INFO("check: " << check.stdout_data << check.stderr_data);
    CHECK(check.exit.success());
  }
  const CommandResult del = t.Libcni("del", args);
  INFO("del: " << del.stdout_data << del.stderr_data);
  CHECK(del.exit.success());
  CHECK(CniNode::PodAddress(pod).empty());
  CHECK_OK(t.WaitUntilNoPods());
  const CommandResult again = t.Libcni("del", args);
  INFO("del again: " << again.stdout_data << again.stderr_data);
  CHECK(again.exit.success());
}

// A cniVersion newer than the spec libcni implements: libcni cannot parse the plugin's answer.
// The plugin did attach the pod (it answered a result, not an error), and the DEL a runtime
// sends after a failed ADD removes it again.
void AddBeyondLibcni(CniNode& t, const Pod& pod, const std::string& conflist,
                     const std::string& version) {
  const std::vector<std::string> args = t.PodArgs(conflist, pod);
  const CommandResult add = t.Libcni("add", args);
  INFO("add: " << add.stdout_data << add.stderr_data);
  CHECK_FALSE(add.exit.success());
  CHECK_THAT(add.stderr_data,
             Contains("plugin type=\"weave-net\"") &&
                 Contains(absl::StrCat("unsupported CNI result version \"", version, "\"")));
  CHECK_THAT(CniNode::PodAddress(pod), Catch::StartsWith("10.3"));
  CHECK(t.PodVeths().size() == 1);
  const CommandResult del = t.Libcni("del", args);
  INFO("del: " << del.stdout_data << del.stderr_data);
  CHECK(del.exit.success());
  CHECK(CniNode::PodAddress(pod).empty());
  CHECK_OK(t.WaitUntilNoPods());
}

TEST_CASE("libcni runs weave-net alone and chained with portmap at every cniVersion it advertises",
          "[netns]") {
  CniNode t;
  const CommandResult version = t.Libcni("version", {"-type", "weave-net"});
  INFO(version.stdout_data << version.stderr_data);
  REQUIRE(version.exit.success());
  const json info = json::parse(version.stdout_data, nullptr, false);
  REQUIRE(info.is_object());
  const std::vector<std::string> advertised = info["supportedVersions"];
  CHECK(advertised == std::vector<std::string>{"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"});
  const std::string libcni_spec = info["libcni"];  // 1.0.0 for Debian's libcni 1.1.2
  const CommandResult portmap = t.Libcni("version", {"-type", "portmap"});
  REQUIRE(portmap.exit.success());
  const std::set<std::string> portmap_versions =
      json::parse(portmap.stdout_data)["supportedVersions"];

  for (const std::string& v : advertised) {
    for (const bool chained : {false, true}) {
      INFO("cniVersion " << v << (chained ? ": weave-net then portmap" : ": weave-net alone"));
      const std::string conflist = t.Conflist(v, chained);
      // ValidateNetworkList runs VERSION on every plugin of the list and checks its cniVersion.
      const CommandResult validate = t.Libcni("validate", {"-conf", conflist});
      INFO("validate: " << validate.stdout_data << validate.stderr_data);
      if (chained && !portmap_versions.count(v)) {
        // Debian's portmap (1.1.1) stops at 1.0.0, so such a chain cannot run at all: libcni
        // refuses it, naming portmap alone (weave-net passed).
        CHECK_FALSE(validate.exit.success());
        CHECK_THAT(validate.stderr_data, Contains("plugin portmap does not support config"));
        CHECK_THAT(validate.stderr_data, !Contains("weave-net"));
        continue;
      }
      CHECK(validate.exit.success());
      const Pod pod = t.NewPod(
          absl::StrCat(chained ? "chain-" : "alone-", absl::StrReplaceAll(v, {{".", ""}})));
      if (AtLeast(libcni_spec, v)) {
        AddCheckDel(t, pod, conflist, v);
      } else {
        AddBeyondLibcni(t, pod, conflist, v);
      }
    }
  }
  // A single network configuration (not a list) goes through ConfFromBytes.
  const std::string single = t.cluster().work_dir() + "/weave.conf";
  std::ofstream(single) << json{{"cniVersion", "1.0.0"}, {"name", "weave"}, {"type", "weave-net"}};
  AddCheckDel(t, t.NewPod("single"), single, "1.0.0");
}

// GC and STATUS arrived in CNI 1.1.0, after libcni 1.1.2: libcni-runner invokes them per plugin
// as libcni 1.2's GCNetworkList and GetStatusNetworkList do (see test/libcni/main.go).
TEST_CASE("GC and STATUS at cniVersion 1.1.0 reach the real router", "[netns]") {
  CniNode t;
  const std::string attach = t.Conflist("1.0.0", false);
  const std::string conflist = t.Conflist("1.1.0", false);
  const CommandResult status = t.Libcni("status", {"-conf", conflist});
  INFO("status: " << status.stdout_data << status.stderr_data);
  CHECK(status.exit.success());

  const Pod keep = t.NewPod("keep");
  const Pod stale = t.NewPod("stale");
  REQUIRE(t.Libcni("add", t.PodArgs(attach, keep)).exit.success());
  REQUIRE(t.Libcni("add", t.PodArgs(attach, stale)).exit.success());
  const std::string kept_address = CniNode::PodAddress(keep);
  REQUIRE_FALSE(kept_address.empty());
  REQUIRE(t.PodVeths().size() == 2);

  const CommandResult gc = t.Libcni("gc", {"-conf", conflist, "-valid", keep.id + "/eth0"});
  INFO("gc: " << gc.stdout_data << gc.stderr_data);
  CHECK(gc.exit.success());
  CHECK_OK(WaitFor(
      [&] {
        auto ipam = t.Weave({"status", "ipam"});
        return CniNode::PodAddress(stale).empty() && t.PodVeths().size() == 1 && ipam.ok() &&
               absl::StrContains(ipam->stdout_data, "(2 active)");  // the bridge and keep
      },
      absl::Seconds(10), "GC to detach the stale pod and release its address"));
  CHECK(CniNode::PodAddress(keep) == kept_address);
  ASSIGN_OR_REQUIRE(CommandResult ps, t.Weave({"ps"}));
  CHECK_THAT(ps.stdout_data, Contains(keep.id) && !Contains(stale.id));

  REQUIRE_OK(t.router()->Stop(absl::Seconds(10)));
  const CommandResult down = t.Libcni("status", {"-conf", conflist});
  INFO("status without a router: " << down.stdout_data << down.stderr_data);
  CHECK_FALSE(down.exit.success());
  CHECK(ErrorCode(down) == 50);  // the plugin is not available
}

TEST_CASE("a hostPort mapped by portmap after weave-net reaches the pod from another node",
          "[netns]") {
  CniNode t(2);
  NetnsNode& outside = t.cluster().node(2);  // another host: no route to the pod network
  const std::string conflist = t.Conflist("1.0.0", true);  // the version setup-cni writes
  const Pod pod = t.NewPod("web");
  std::vector<std::string> args = t.PodArgs(conflist, pod);
  // As kubelet does, on DEL too: portmap 1.1.1 removes its rules only when given the mappings.
  args.insert(args.end(), {"-port-mappings", kPortMappings});
  const CommandResult add = t.Libcni("add", args);
  INFO("add: " << add.stdout_data << add.stderr_data);
  REQUIRE(add.exit.success());
  const std::string cidr = CniNode::PodAddress(pod);
  const std::string pod_ip = cidr.substr(0, cidr.find('/'));
  REQUIRE_FALSE(pod_ip.empty());

  // portmap's rules are in node 1's namespace, written with iptables-nft: nftables' ip nat table.
  ASSIGN_OR_REQUIRE(CommandResult saved, t.node().Exec({"iptables-save", "-t", "nat"}));
  CHECK_THAT(saved.stdout_data, Contains("(nf_tables)") && Contains("--dport 8080") &&
                                    Contains(absl::StrCat("--to-destination ", pod_ip, ":80")));
  ASSIGN_OR_REQUIRE(CommandResult nat, t.node().Exec({"nft", "list", "table", "ip", "nat"}));
  CHECK_THAT(nat.stdout_data, Contains("CNI-HOSTPORT-DNAT") && Contains("dport 8080"));

  ASSIGN_OR_REQUIRE(
      Process * listener,
      t.node().Start("ncat-web", {"ip", "netns", "exec", pod.ns_name, "ncat", "-v", "-l", "-p",
                                  "80", "--sh-exec", "echo hello from the pod"}));
  REQUIRE_OK(WaitFor(
      [&] {
        auto listening = RunCommand(
            {"ip", "netns", "exec", pod.ns_name, "ss", "-Hltn", "sport = :80"}, absl::Seconds(5));
        return listening.ok() && absl::StrContains(listening->stdout_data, ":80");
      },
      absl::Seconds(10), "ncat to listen in the pod"));
  ASSIGN_OR_REQUIRE(CommandResult reply,
                    outside.Exec({"ncat", "--recv-only", "-w", "5", t.node().address(), "8080"},
                                 absl::Seconds(15)));
  INFO("ncat from node 2: " << reply.stdout_data << reply.stderr_data);
  CHECK(reply.exit.success());
  CHECK(reply.stdout_data == "hello from the pod\n");
  REQUIRE_OK(listener->Wait(absl::Seconds(10)));
  // The pod saw node 2's own address: portmap's snat marks only hairpin and localhost traffic,
  // and weave's NO_MASQ_LOCAL keeps the client address for traffic to local pods.
  CHECK_THAT(ReadFileOrEmpty(listener->log_path()),
             Contains(absl::StrCat("Connection from ", outside.address())));

  // weave-net checks first. Debian's portmap 1.1.1 then fails CHECK of a pod without an IPv6
  // address, looking for its IPv6 chain (containernetworking/plugins#819, fixed after 1.1.1); any
  // other failure is ours.
  const CommandResult check = t.Libcni("check", args);
  INFO("check: " << check.stdout_data << check.stderr_data);
  if (!check.exit.success()) {
    CHECK_THAT(check.stderr_data, Contains("could not check ipv6 dnat"));
  }

  const CommandResult del = t.Libcni("del", args);
  INFO("del: " << del.stdout_data << del.stderr_data);
  CHECK(del.exit.success());
  ASSIGN_OR_REQUIRE(CommandResult saved_after, t.node().Exec({"iptables-save", "-t", "nat"}));
  CHECK_THAT(saved_after.stdout_data, !Contains("8080") && !Contains("CNI-DN-"));
  ASSIGN_OR_REQUIRE(CommandResult ruleset_after, t.node().Exec({"nft", "list", "ruleset"}));
  CHECK_THAT(ruleset_after.stdout_data,
             !Contains("8080") && Contains("table inet weave"));  // the router's own table stays
  CHECK_OK(t.WaitUntilNoPods());
  ASSIGN_OR_REQUIRE(CommandResult refused,
                    outside.Exec({"ncat", "--recv-only", "-w", "3", t.node().address(), "8080"},
                                 absl::Seconds(10)));
  CHECK_FALSE(refused.exit.success());
}

// Mounts the node's directory (the router's socket) at <root>/run/weave and the pod's namespace
// file at the same path under <root>, then runs <root>/weave-net chrooted. Run under
// `unshare --mount`: the mounts belong to that private mount namespace and go with it when the
// plugin exits or is killed, so a failing test leaves none behind.
constexpr char kChrootScript[] = R"(
mount --bind "$1" "$2/run/weave"
mount --bind "$3" "$2$3"
exec chroot "$2" /weave-net
)";

TEST_CASE("the static weave-net runs in a bare chroot holding only itself", "[netns]") {
  CniNode t;
  ASSIGN_OR_REQUIRE(CommandResult dynamic,
                    RunCommand({"readelf", "-d", WEAVE_NET_PATH}, absl::Seconds(10)));
  CHECK_THAT(dynamic.stdout_data, Contains("There is no dynamic section in this file."));
  ASSIGN_OR_REQUIRE(CommandResult headers,
                    RunCommand({"readelf", "-l", WEAVE_NET_PATH}, absl::Seconds(10)));
  CHECK_THAT(headers.stdout_data, !Contains("INTERP"));  // no program interpreter (ld.so)

  const Pod pod = t.NewPod("chrooted");
  const std::string root = t.cluster().work_dir() + "/chroot";
  fs::create_directories(root + "/run/weave");
  fs::create_directories(root + "/run/netns");
  std::ofstream(root + pod.netns).close();  // where the namespace file is mounted
  fs::copy_file(WEAVE_NET_PATH, root + "/weave-net");

  auto in_chroot = [&](const std::string& command, const std::string& config) {
    CommandOptions options;
    options.env = {{"CNI_COMMAND", command},
                   {"CNI_CONTAINERID", pod.id},
                   {"CNI_NETNS", pod.netns},
                   {"CNI_IFNAME", "eth0"},
                   {"CNI_PATH", "/opt/cni/bin"}};
    options.stdin_data = config;
    ASSIGN_OR_REQUIRE(CommandResult result,
                      t.node().Exec({"unshare", "--mount", "--propagation", "private", "sh", "-euc",
                                     kChrootScript, "sh", t.node().dir(), root, pod.netns},
                                    absl::Seconds(30), options));
    return result;
  };

  const CommandResult version = in_chroot("VERSION", R"({"cniVersion":"1.1.0"})");
  INFO("VERSION: " << version.stdout_data << version.stderr_data);
  CHECK(version.exit.success());
  CHECK_THAT(version.stdout_data, Contains(R"("supportedVersions":["0.3.0","0.3.1","0.4.0",)"
                                           R"("1.0.0","1.1.0"])"));

  // No "socket": the default, /run/weave/weave.sock, which is node 1's inside the chroot.
  json config = {{"cniVersion", "1.0.0"}, {"name", "weave"}, {"type", "weave-net"}};
  const CommandResult add = in_chroot("ADD", config.dump());
  INFO("ADD: " << add.stdout_data << add.stderr_data);
  REQUIRE(add.exit.success());
  const json result = json::parse(add.stdout_data, nullptr, false);
  CHECK_THAT(CniNode::PodAddress(pod), Catch::StartsWith("10.3"));
  CHECK(StringAt(result, "/ips/0/address") == CniNode::PodAddress(pod));

  config["prevResult"] = result;
  const CommandResult check = in_chroot("CHECK", config.dump());
  INFO("CHECK: " << check.stdout_data << check.stderr_data);
  CHECK(check.exit.success());
  config.erase("prevResult");
  const CommandResult del = in_chroot("DEL", config.dump());
  INFO("DEL: " << del.stdout_data << del.stderr_data);
  CHECK(del.exit.success());
  CHECK_OK(t.WaitUntilNoPods());

  // The plugin needed nothing more and left nothing behind in its root.
  std::set<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_directory()) files.insert(entry.path().string().substr(root.size()));
  }
  CHECK(files == std::set<std::string>{"/weave-net", pod.netns});
}

}  // namespace
}  // namespace weave::testing
