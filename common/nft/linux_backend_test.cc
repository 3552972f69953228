// Kernel tests of LinuxBackend. Each test makes its own network namespace (netfilter state is per
// namespace; the host's tables are never touched) and deletes it on the way out, failed or not.
// The real nft(8) is the independent witness: it lists what we applied, encodes our text, and
// writes tables that our decoder reads back.
#include "common/nft/linux_backend.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/nft/encoder.h"
#include "common/nft/fake_backend.h"
#include "common/nft/plan.h"
#include "common/nft/testdata.h"
#include "test/harness/netns.h"
#include "test/harness/status_assertions.h"
#include "test/harness/subprocess.h"
#include "test/harness/test_run.h"
#include "test/harness/wait_for.h"

namespace weave::nft {
namespace {

using ::Catch::Matchers::Contains;
using testdata::Net;
using weave::testing::CommandResult;
using weave::testing::RunCommand;

constexpr absl::Duration kCommandTimeout = absl::Seconds(20);

// A network namespace of this test run ("wvt<pid>-nft-<suffix>", so that netns-sweep removes it
// if the test dies) with a LinuxBackend inside.
class Namespace {
 public:
  explicit Namespace(const std::string& suffix)
      : name_(absl::StrCat(weave::testing::RunPrefix(getpid()), "-nft-", suffix)) {
    (void)weave::testing::DeleteNamespace(name_);
    REQUIRE_OK(weave::testing::AddNamespace(name_));
    absl::StatusOr<std::unique_ptr<LinuxBackend>> backend =
        LinuxBackend::OpenInNamespace("/run/netns/" + name_);
    if (!backend.ok()) (void)weave::testing::DeleteNamespace(name_);
    REQUIRE_OK(backend);
    backend_ = *std::move(backend);
  }
  ~Namespace() {
    backend_.reset();
    CHECK_OK(weave::testing::DeleteNamespace(name_));
  }

  const std::string& name() const { return name_; }
  LinuxBackend& backend() { return *backend_; }

  // Runs a command inside the namespace; fails the test unless it exits 0.
  std::string Run(const std::vector<std::string>& argv, const std::string& stdin_data = "") {
    absl::StatusOr<CommandResult> result =
        RunCommand(argv, kCommandTimeout, {.stdin_data = stdin_data, .netns = name_});
    REQUIRE_OK(result);
    REQUIRE_OK(result->ToStatus());
    return result->stdout_data;
  }

  std::string Nft(std::vector<std::string> args, const std::string& stdin_data = "") {
    args.insert(args.begin(), "nft");
    return Run(args, stdin_data);
  }

  Table MustDump(Family family, const std::string& table) {
    absl::StatusOr<std::optional<Table>> dumped = backend_->Dump(family, table);
    REQUIRE_OK(dumped);
    REQUIRE(dumped->has_value());
    return **dumped;
  }

 private:
  std::string name_;
  std::unique_ptr<LinuxBackend> backend_;
};

Transaction Replace(Table table) { return Transaction{}.Add(ReplaceTable{std::move(table)}); }

TEST_CASE("nft lists an applied table exactly as ToText renders it, and Dump reads it back",
          "[netns]") {
  Namespace ns("list");
  REQUIRE_OK(ns.backend().Apply(Replace(testdata::RouterTable())));
  CHECK(ns.Nft({"list", "table", "inet", "weave"}) == testdata::kRouterTableText);
  CHECK(ns.MustDump(Family::kInet, "weave") == testdata::RouterTable());

  // nft's JSON view agrees on the structure.
  const nlohmann::json json =
      nlohmann::json::parse(ns.Nft({"-j", "list", "table", "inet", "weave"}));
  std::map<std::string, nlohmann::json> chains, sets;
  int rules = 0;
  for (const nlohmann::json& item : json["nftables"]) {
    if (item.contains("chain")) chains[item["chain"]["name"]] = item["chain"];
    if (item.contains("set")) sets[item["set"]["name"]] = item["set"];
    if (item.contains("rule")) ++rules;
  }
  CHECK(rules == 6);
  REQUIRE(chains.count("postrouting") == 1);
  CHECK(chains["postrouting"]["type"] == "nat");
  CHECK(chains["postrouting"]["hook"] == "postrouting");
  CHECK(chains["postrouting"]["prio"] == 100);
  CHECK(chains["forward"]["policy"] == "accept");
  CHECK_FALSE(chains["npc-gate"].contains("hook"));
  CHECK(sets["pod-ranges"]["elem"] ==
        nlohmann::json::parse(R"([{"prefix": {"addr": "10.32.0.0", "len": 12}}])"));
  CHECK(sets["npc-ready"]["type"] == "ifname");
}

// The rule blocks of `nft --debug=netlink` output: "family table chain" then "  [ ... ]" lines.
std::vector<std::string> RuleBlocks(const std::string& text, const std::string& header_prefix) {
  std::vector<std::string> blocks;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, header_prefix)) {
      blocks.emplace_back(line);
    } else if (!blocks.empty() &&
               (absl::StartsWith(line, "  [") || absl::StartsWith(line, "  userdata"))) {
      absl::StrAppend(&blocks.back(), "\n", line);
    }
  }
  return blocks;
}

TEST_CASE("nft encodes ToText's output exactly as the encoder encodes the model", "[netns]") {
  Namespace ns("encode");
  for (const Table& table : {testdata::RouterTable(), testdata::PolicyTable()}) {
    const std::string header = absl::StrCat(FamilyName(table.family), " ", table.name, " ");
    const std::string debug = ns.Nft({"--debug=netlink", "-c", "-f", "-"}, ToText(table));
    std::vector<std::string> ours;
    for (const Chain& chain : table.chains) {
      for (const Rule& rule : chain.rules) {
        ASSIGN_OR_REQUIRE(std::string text,
                          EncodeRuleText(TableId{table.family, table.name}, chain.name, rule));
        while (absl::EndsWith(text, "\n")) text.pop_back();
        ours.push_back(text);
      }
    }
    CHECK(RuleBlocks(debug, header) == ours);
  }
}

TEST_CASE("Dump decodes every statement, whether we or nft wrote the table", "[netns]") {
  Namespace ns("dump");
  ASSIGN_OR_REQUIRE(std::optional<Table> none, ns.backend().Dump(Family::kInet, "weave-npc"));
  CHECK_FALSE(none.has_value());

  REQUIRE_OK(ns.backend().Apply(Replace(testdata::PolicyTable())));
  const Table ours = ns.MustDump(Family::kInet, "weave-npc");
  CHECK(ours == testdata::PolicyTable());
  for (const Chain& chain : ours.chains) {
    for (const Rule& rule : chain.rules) CHECK(rule.handle != 0);
  }

  // The same table written by nft from our text (nft adds its own set user data and a leading
  // interval end element; the decoder must not care).
  ns.Nft({"-f", "-"}, ToText(testdata::PolicyTable("by-nft")));
  CHECK(ns.MustDump(Family::kInet, "by-nft") == testdata::PolicyTable("by-nft"));
}

TEST_CASE("ReplaceTable swaps a whole table in one step, and DeleteTable is idempotent",
          "[netns]") {
  Namespace ns("replace");
  REQUIRE_OK(ns.backend().Apply(Replace(testdata::RouterTable())));
  REQUIRE_OK(ns.backend().Apply(Replace(testdata::RouterTable())));  // Replacing with itself.

  Table changed = testdata::RouterTable();
  changed.chains.erase(changed.chains.begin());  // No more masquerading.
  changed.chains[0].rules[1] = Rule{{Is(Field::kOifname, Ifname{"weave"}), Drop()}};
  changed.chains[0].base->policy = Policy::kDrop;
  changed.sets[0].elements = {Net("10.32.0.0/13"), Net("10.40.0.0/13")};
  REQUIRE_OK(ns.backend().Apply(Replace(changed)));
  CHECK(ns.Nft({"list", "table", "inet", "weave"}) == ToText(changed));
  CHECK(ns.MustDump(Family::kInet, "weave") == changed);

  const Transaction remove = Transaction{}.Add(DeleteTable{{Family::kInet, "weave"}});
  REQUIRE_OK(ns.backend().Apply(remove));
  REQUIRE_OK(ns.backend().Apply(remove));
  CHECK(ns.Nft({"list", "ruleset"}).empty());
}

TEST_CASE("a transaction the kernel refuses changes nothing and says what failed", "[netns]") {
  Namespace ns("refuse");
  REQUIRE_OK(ns.backend().Apply(Replace(testdata::RouterTable())));

  Table broken = testdata::RouterTable();
  broken.chains[1].rules.push_back(Rule{{Jump("nowhere")}});
  Transaction transaction;
  transaction.Add(AddElements{{Family::kInet, "weave"}, "npc-ready", {Ifname{"npc-ready"}}});
  transaction.Add(ReplaceTable{broken});
  const absl::Status status = ns.backend().Apply(transaction);
  std::cerr << "refused: " << status << "\n";
  CHECK(status.code() == absl::StatusCode::kNotFound);
  CHECK_THAT(std::string(status.message()),
             Contains("replacing table inet weave: rule 3 of chain forward: ENOENT"));
  // Neither the element of the first operation nor anything of the second is there.
  CHECK(ns.Nft({"list", "table", "inet", "weave"}) == testdata::kRouterTableText);
}

TEST_CASE("a thousand set elements apply as one batch in milliseconds", "[netns]") {
  Namespace ns("elements");
  REQUIRE_OK(ns.backend().Apply(Replace(testdata::PolicyTable())));
  const TableId npc{Family::kInet, "weave-npc"};
  std::vector<Element> pods, sources;
  for (uint32_t i = 0; i < 1000; ++i) {
    pods.push_back(net::Cidr(net::Ipv4((10u << 24) | (40u << 16) | i), 32));
    sources.push_back(net::Cidr(net::Ipv4((10u << 24) | (200u << 16) | (i << 4)), 28));
  }
  Transaction add;
  add.Add(AddElements{npc, "pod-ips", pods});
  add.Add(AddElements{npc, "allowed-sources", sources});
  const absl::Time start = absl::Now();
  REQUIRE_OK(ns.backend().Apply(add));
  const absl::Duration took = absl::Now() - start;
  std::cerr << "2000 set elements (1000 plain, 1000 intervals) applied in " << took << "\n";
  CHECK(took < absl::Milliseconds(500));

  FakeBackend fake;
  REQUIRE_OK(fake.Apply(Replace(testdata::PolicyTable())));
  REQUIRE_OK(fake.Apply(add));
  ASSIGN_OR_REQUIRE(std::optional<Table> expected, fake.Dump(Family::kInet, "weave-npc"));
  Table dumped = ns.MustDump(Family::kInet, "weave-npc");
  CHECK(dumped.FindSet("pod-ips")->elements.size() == 1001);
  CHECK(dumped.FindSet("allowed-sources")->elements.size() == 1005);
  CHECK(dumped == *expected);
  // The kernel grows the hash set in the background after the insert; a dump spanning several
  // messages must not repeat or lose elements meanwhile.
  for (int i = 0; i < 10; ++i) {
    REQUIRE_OK(ns.backend().Apply(Transaction{}.Add(DeleteElements{npc, "pod-ips", pods})));
    REQUIRE_OK(ns.backend().Apply(Transaction{}.Add(AddElements{npc, "pod-ips", pods})));
    CHECK(ns.MustDump(Family::kInet, "weave-npc").FindSet("pod-ips")->elements.size() == 1001);
  }

  // Adding them again is fine; removing half leaves the other half.
  REQUIRE_OK(ns.backend().Apply(add));
  const std::vector<Element> half(pods.begin(), pods.begin() + 500);
  const std::vector<Element> half_sources(sources.begin(), sources.begin() + 500);
  Transaction remove;
  remove.Add(DeleteElements{npc, "pod-ips", half});
  remove.Add(DeleteElements{npc, "allowed-sources", half_sources});
  REQUIRE_OK(ns.backend().Apply(remove));
  REQUIRE_OK(fake.Apply(remove));
  ASSIGN_OR_REQUIRE(expected, fake.Dump(Family::kInet, "weave-npc"));
  dumped = ns.MustDump(Family::kInet, "weave-npc");
  CHECK(dumped.FindSet("pod-ips")->elements.size() == 501);
  CHECK(dumped == *expected);
  // Removing one that is gone fails, like the fake.
  CHECK(ns.backend().Apply(Transaction{}.Add(DeleteElements{npc, "pod-ips", {pods[0]}})).code() ==
        absl::StatusCode::kNotFound);
}

// The same steps on the kernel and on FakeBackend: the same outcome (status code) every time, and
// the same table afterwards.
TEST_CASE("FakeBackend and the kernel agree, step by step", "[netns]") {
  Namespace ns("conform");
  FakeBackend fake;
  const TableId weave{Family::kInet, "weave"};
  const TableId npc{Family::kInet, "weave-npc"};
  struct Step {
    const char* what;
    absl::StatusCode expected;  // What the kernel says (EBUSY is FailedPrecondition, ...).
    Transaction transaction;
  };
  const std::vector<Step> steps = {
      {"router table", absl::StatusCode::kOk, Replace(testdata::RouterTable())},
      {"policy table", absl::StatusCode::kOk, Replace(testdata::PolicyTable())},
      {"open the gate", absl::StatusCode::kOk,
       Transaction{}.Add(AddElements{weave, "npc-ready", {Ifname{"npc-ready"}}})},
      {"pod churn", absl::StatusCode::kOk,
       Transaction{}
           .Add(AddElements{npc, "pod-ips", {Net("10.32.0.9/32"), Net("10.32.0.3/32")}})
           .Add(DeleteElements{npc, "pod-ips", {Net("10.32.0.2/32")}})},
      {"delete an absent element", absl::StatusCode::kNotFound,
       Transaction{}.Add(DeleteElements{npc, "pod-ips", {Net("10.32.0.2/32")}})},
      {"overlapping interval", absl::StatusCode::kAlreadyExists,
       Transaction{}.Add(AddElements{npc, "allowed-sources", {Net("10.33.1.0/24")}})},
      {"constant set in use", absl::StatusCode::kFailedPrecondition,
       Transaction{}.Add(AddElements{npc, "marks", {Mark{7}}})},
      {"new policy chain with a set", absl::StatusCode::kOk,
       Transaction{}
           .Add(AddSet{npc, Set{"np-2", SetKeyType::kIpv4Addr, true, false, {Net("10.36.0.0/14")}}})
           .Add(AddChain{npc, Chain{"np-2-ingress",
                                    std::nullopt,
                                    {Rule{{InSet(Field::kIpSaddr, "np-2"), Accept()}}}}})
           .Add(ReplaceChainRules{npc, "pods", {Rule{{Jump("np-2-ingress")}}, Rule{{Drop()}}}})},
      {"chain exists", absl::StatusCode::kAlreadyExists,
       Transaction{}.Add(AddChain{npc, Chain{"np-2-ingress", std::nullopt, {}}})},
      {"set exists", absl::StatusCode::kAlreadyExists,
       Transaction{}.Add(AddSet{npc, Set{"np-2", SetKeyType::kIpv4Addr}})},
      {"delete a chain in use", absl::StatusCode::kFailedPrecondition,
       Transaction{}.Add(DeleteChain{npc, "np-2-ingress"})},
      {"delete a set in use", absl::StatusCode::kFailedPrecondition,
       Transaction{}.Add(DeleteSet{npc, "np-2"})},
      {"jump to a base chain", absl::StatusCode::kUnimplemented,
       Transaction{}.Add(ReplaceChainRules{npc, "pods", {Rule{{Jump("ingress")}}}})},
      {"jump loop", absl::StatusCode::kResourceExhausted,
       Transaction{}.Add(ReplaceChainRules{npc, "np-2-ingress", {Rule{{Jump("pods")}}}})},
      {"jump to itself", absl::StatusCode::kResourceExhausted,
       Transaction{}.Add(ReplaceChainRules{npc, "pods", {Rule{{Goto("pods")}}}})},
      {"masquerade in a filter chain", absl::StatusCode::kUnimplemented,
       Transaction{}.Add(ReplaceChainRules{npc, "pods", {Rule{{Masquerade{}}}}})},
      {"missing set", absl::StatusCode::kNotFound,
       Transaction{}.Add(ReplaceChainRules{npc, "pods", {Rule{{InSet(Field::kIpSaddr, "np-9")}}}})},
      {"missing table", absl::StatusCode::kNotFound,
       Transaction{}.Add(AddChain{{Family::kIp, "weave-npc"}, Chain{"x", std::nullopt, {}}})},
      {"retire the policy", absl::StatusCode::kOk,
       Transaction{}
           .Add(ReplaceChainRules{npc, "pods", {}})
           .Add(DeleteChain{npc, "np-2-ingress"})
           .Add(DeleteSet{npc, "np-2"})},
      {"narrow an interval in place", absl::StatusCode::kOk,
       Plan(testdata::PolicyTable(),
            [] {
              Table table = testdata::PolicyTable();
              table.sets[0].elements[2] = Net("10.33.0.0/17");
              return table;
            }())},
      {"delete the router table", absl::StatusCode::kOk, Transaction{}.Add(DeleteTable{weave})},
  };
  for (const Step& step : steps) {
    INFO(step.what);
    const absl::Status kernel = ns.backend().Apply(step.transaction);
    const absl::Status in_memory = fake.Apply(step.transaction);
    INFO("kernel: " << kernel << "\nfake: " << in_memory);
    CHECK(kernel.code() == step.expected);
    CHECK(in_memory.code() == step.expected);
    for (const TableId& table : {weave, npc}) {
      ASSIGN_OR_REQUIRE(const std::optional<Table> from_kernel,
                        ns.backend().Dump(table.family, table.name));
      ASSIGN_OR_REQUIRE(const std::optional<Table> from_fake, fake.Dump(table.family, table.name));
      CHECK(from_kernel == from_fake);
    }
  }
  CHECK(ns.Nft({"list", "ruleset"}) == fake.ListRuleset());
}

TEST_CASE(
    "sets of address, protocol and port triples: nft lists them, Dump reads them back, and "
    "packets match them",
    "[netns]") {
  Namespace ns("triples");
  ns.Run({"ip", "link", "set", "lo", "up"});
  const auto triple = [](const char* addr, L4Proto proto, uint16_t port) {
    return Element(AddrProtoPort{testdata::Addr(addr), proto, port});
  };
  const TableId probe{Family::kInet, "probe"};
  // Rule 1 counts what the set matches; rule 2 the UDP packets it does not.
  const Table table{
      probe.family,
      probe.name,
      {Chain{"output",
             BaseChain{ChainType::kFilter, Hook::kOutput, 0, Policy::kAccept},
             {Rule{{InSet(Field::kIpDaddrL4ProtoThDport, "named-ports"), Counter{}, Accept()}},
              Rule{{Is(Field::kL4Proto, kUdp), Counter{}}}}}},
      {Set{"named-ports",
           SetKeyType::kIpv4AddrProtoService,
           false,
           false,
           {triple("127.0.0.1", kUdp, 5353), triple("127.0.0.1", kTcp, 5354),
            triple("127.0.0.2", kUdp, 5355), triple("10.32.0.5", kSctp, 8080)}}}};
  REQUIRE_OK(ns.backend().Apply(Replace(table)));
  CHECK(ns.MustDump(probe.family, probe.name) == table);
  CHECK(ns.Nft({"list", "table", "inet", "probe"}) == ToText(table));
  const nlohmann::json json =
      nlohmann::json::parse(ns.Nft({"-j", "list", "set", "inet", "probe", "named-ports"}));
  CHECK(json["nftables"][1]["set"]["type"] ==
        nlohmann::json::parse(R"(["ipv4_addr", "inet_proto", "inet_service"])"));

  const auto send_udp = [&](uint16_t port) {
    ns.Run({"bash", "-c", absl::StrCat("echo probe >/dev/udp/127.0.0.1/", port)});
  };
  // Packets through rule 1 (matched) and rule 2 (not matched).
  const auto counts = [&] {
    const Table dumped = ns.MustDump(probe.family, probe.name);
    return std::make_pair(std::get<Counter>(dumped.chains[0].rules[0].statements[1]).packets,
                          std::get<Counter>(dumped.chains[0].rules[1].statements[1]).packets);
  };
  using Counts = std::pair<uint64_t, uint64_t>;
  const auto expect = [&](Counts expected) {
    CHECK_OK(weave::testing::WaitFor([&] { return counts() == expected; }, absl::Seconds(5),
                                     "the rules' packet counters"));
    CHECK(counts() == expected);
  };
  send_udp(5353);
  expect({1, 0});
  send_udp(5354);  // The set has this port for TCP only.
  expect({1, 1});
  send_udp(5355);  // The set has this port for another address only.
  expect({1, 2});

  REQUIRE_OK(ns.backend().Apply(
      Transaction{}
          .Add(AddElements{probe, "named-ports", {triple("127.0.0.1", kUdp, 5354)}})
          .Add(DeleteElements{probe, "named-ports", {triple("127.0.0.1", kUdp, 5353)}})));
  const Table changed = ns.MustDump(probe.family, probe.name);
  CHECK(changed.sets[0].elements ==
        std::vector<Element>{triple("10.32.0.5", kSctp, 8080), triple("127.0.0.1", kTcp, 5354),
                             triple("127.0.0.1", kUdp, 5354), triple("127.0.0.2", kUdp, 5355)});
  CHECK(ns.Nft({"list", "table", "inet", "probe"}) == ToText(changed));
  send_udp(5354);
  expect({2, 2});
  send_udp(5353);
  expect({2, 3});
  // Deleting what is not there fails, as for any set.
  CHECK(ns.backend()
            .Apply(Transaction{}.Add(
                DeleteElements{probe, "named-ports", {triple("127.0.0.1", kUdp, 5353)}}))
            .code() == absl::StatusCode::kNotFound);
}

// The "set NAME {" and "chain NAME {" lines of a listing, in order.
std::vector<std::string> Headings(const std::string& listing) {
  std::vector<std::string> out;
  for (absl::string_view line : absl::StrSplit(listing, '\n')) {
    if (absl::StartsWith(line, "\tset ") || absl::StartsWith(line, "\tchain ")) {
      out.emplace_back(line);
    }
  }
  return out;
}

// The planner's finer operations, step by step, on the kernel and on FakeBackend: both accept
// every transaction and end with the same table, listed in the same order.
TEST_CASE("Plan changes chains and sets of a live table without replacing it", "[netns]") {
  Namespace ns("plan");
  FakeBackend fake;
  const std::vector<testdata::TableStep> steps = testdata::PolicyChanges();
  for (size_t i = 0; i < steps.size(); ++i) {
    INFO(steps[i].what);
    const Table& desired = steps[i].table;
    ASSIGN_OR_REQUIRE(const std::optional<Table> current,
                      ns.backend().Dump(desired.family, desired.name));
    const Transaction transaction = Plan(current, desired);
    CHECK(testdata::ReplacesTable(transaction) == (i == 0));
    REQUIRE_OK(ns.backend().Apply(transaction));
    REQUIRE_OK(fake.Apply(transaction));
    const Table dumped = ns.MustDump(desired.family, desired.name);
    CHECK(SameContent(dumped, Normalize(desired)));
    ASSIGN_OR_REQUIRE(const std::optional<Table> from_fake,
                      fake.Dump(desired.family, desired.name));
    CHECK(from_fake == dumped);
    // nft lists the sets and chains in the order Dump does (the rest of the text differs where
    // ToText shows a protocol dependency that nft hides).
    CHECK(Headings(ns.Nft({"list", "table", "inet", desired.name})) == Headings(ToText(dumped)));
    CHECK(Plan(dumped, desired).empty());
  }
}

TEST_CASE("a drop rule blocks ping and replacing the table lets it through again", "[netns]") {
  Namespace client("client");
  Namespace server("server");
  client.Run({"ip", "link", "add", "veth0", "type", "veth", "peer", "name", "veth1", "netns",
              server.name()});
  client.Run({"ip", "addr", "add", "10.99.0.1/24", "dev", "veth0"});
  client.Run({"ip", "link", "set", "veth0", "up"});
  server.Run({"ip", "addr", "add", "10.99.0.2/24", "dev", "veth1"});
  server.Run({"ip", "link", "set", "veth1", "up"});
  const auto ping = [&] {
    absl::StatusOr<CommandResult> result = RunCommand({"ping", "-c", "1", "-W", "1", "10.99.0.2"},
                                                      kCommandTimeout, {.netns = client.name()});
    REQUIRE_OK(result);
    return result->exit.success();
  };
  REQUIRE(ping());

  const auto input_table = [](Verdict verdict) {
    return Table{Family::kInet,
                 "guard",
                 {Chain{"input",
                        BaseChain{ChainType::kFilter, Hook::kInput, 0, Policy::kAccept},
                        {Rule{{Is(Field::kIpSaddr, Net("10.99.0.1/32")), Is(Field::kL4Proto, kIcmp),
                               Counter{}, verdict}}}}},
                 {}};
  };
  REQUIRE_OK(server.backend().Apply(Replace(input_table(Drop()))));
  CHECK_FALSE(ping());
  REQUIRE_OK(server.backend().Apply(Replace(input_table(Accept()))));
  CHECK(ping());
  // The counter of the new rule saw the ping (and only the new table's counter, from zero).
  const Table dumped = server.MustDump(Family::kInet, "guard");
  const auto& counter = std::get<Counter>(dumped.chains[0].rules[0].statements[2]);
  CHECK(counter.packets == 1);
}

}  // namespace
}  // namespace weave::nft
