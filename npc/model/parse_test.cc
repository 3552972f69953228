#include "npc/model/parse.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace weave::npc {
namespace {

using Json = nlohmann::json;
using Op = Requirement::Operator;

Json J(const char* text) { return Json::parse(text); }

net::Cidr C(const char* text) { return *net::Cidr::Parse(text); }

LabelSelector MatchLabels(const Labels& labels) {
  LabelSelector selector;
  for (const auto& [key, value] : labels) selector.requirements.push_back({key, Op::kIn, {value}});
  return selector;
}

template <typename T>
std::string ErrorOf(const absl::StatusOr<T>& result) {
  if (result.ok()) return "(ok)";
  CHECK(result.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(result.status().message());
}

// A NetworkPolicy x/allow-web with `spec`.
Json PolicyWithSpec(const Json& spec) {
  return Json{{"apiVersion", "networking.k8s.io/v1"},
              {"kind", "NetworkPolicy"},
              {"metadata", {{"namespace", "x"}, {"name", "allow-web"}}},
              {"spec", spec}};
}

Policy MustParsePolicy(const Json& object) {
  absl::StatusOr<Policy> policy = ParsePolicy(object);
  INFO(policy.status().ToString());
  REQUIRE(policy.ok());
  return *policy;
}

// The problem of a policy whose spec is `spec`; its rules must be gone.
std::string ProblemOf(const char* spec) {
  Policy policy = MustParsePolicy(PolicyWithSpec(J(spec)));
  CHECK(policy.ingress_rules.empty());
  CHECK(policy.egress_rules.empty());
  return policy.problem;
}

// ---------------------------------------------------------------------------------------------
// Label selectors

TEST_CASE("ParseLabelSelector reads matchLabels then matchExpressions", "[parse][selector]") {
  absl::StatusOr<LabelSelector> selector = ParseLabelSelector(J(R"({
      "matchLabels": {"tier": "db", "app": "shop"},
      "matchExpressions": [
        {"key": "env", "operator": "NotIn", "values": ["test", "dev", "test"]},
        {"key": "example.com/canary", "operator": "DoesNotExist"},
        {"key": "team", "operator": "Exists", "values": []},
        {"key": "zone", "operator": "In", "values": ["b", "a"]}
      ],
      "somethingNew": 42
    })"),
                                                              "spec.podSelector");
  REQUIRE(selector.ok());
  CHECK(selector->requirements == std::vector<Requirement>{
                                      {"app", Op::kIn, {"shop"}},
                                      {"tier", Op::kIn, {"db"}},
                                      {"env", Op::kNotIn, {"dev", "test"}},
                                      {"example.com/canary", Op::kDoesNotExist, {}},
                                      {"team", Op::kExists, {}},
                                      {"zone", Op::kIn, {"a", "b"}},
                                  });
}

TEST_CASE("Selectors that mean the same compare equal", "[parse][selector]") {
  auto a = ParseLabelSelector(J(R"({"matchLabels": {"b": "2", "a": "1"}})"), "s");
  auto b = ParseLabelSelector(J(R"({"matchLabels": {"a": "1", "b": "2"}, "matchExpressions": []})"),
                              "s");
  auto c = ParseLabelSelector(
      J(R"({"matchLabels": {"a": "1", "b": "2"}, "matchExpressions": null})"), "s");
  REQUIRE(a.ok());
  CHECK(a == b);
  CHECK(a == c);
  auto in_ab = ParseLabelSelector(
      J(R"({"matchExpressions": [{"key": "k", "operator": "In", "values": ["b", "a", "b"]}]})"),
      "s");
  auto in_ba = ParseLabelSelector(
      J(R"({"matchExpressions": [{"key": "k", "operator": "In", "values": ["a", "b"]}]})"), "s");
  REQUIRE(in_ab.ok());
  CHECK(in_ab == in_ba);
}

TEST_CASE("An empty selector selects everything and null parts are absent", "[parse][selector]") {
  for (const char* text :
       {"{}", R"({"matchLabels": null, "matchExpressions": null})", R"({"matchLabels": {}})"}) {
    INFO(text);
    auto selector = ParseLabelSelector(J(text), "spec.podSelector");
    REQUIRE(selector.ok());
    CHECK(selector->requirements.empty());
    CHECK(selector->Matches({{"any", "thing"}}));
  }
}

TEST_CASE("Label keys are validated as the API server does", "[parse][selector]") {
  const std::string name63(63, 'a');
  const std::string prefix253 = std::string(249, 'a') + ".com";
  for (const std::string& key : {std::string("app"), std::string("a"), std::string("A_b.c-D9"),
                                 name63, std::string("example.com/app"), std::string("k8s.io/Name"),
                                 std::string("a-b.c/x"), prefix253 + "/x", std::string("0/0")}) {
    INFO(key);
    CHECK(ParseLabelSelector(Json{{"matchLabels", {{key, "v"}}}}, "s").ok());
    CHECK(ParseLabelSelector(Json{{"matchExpressions", {{{"key", key}, {"operator", "Exists"}}}}},
                             "s")
              .ok());
  }
  const std::string kChars =
      "must consist of alphanumeric characters, '-', '_' or '.', and start and end with an "
      "alphanumeric character";
  struct Bad {
    std::string key;
    std::string why;
  };
  for (const Bad& bad : std::vector<Bad>{
           {"-app", "name part " + kChars},
           {"app-", "name part " + kChars},
           {"a b", "name part " + kChars},
           {"app!", "name part " + kChars},
           {name63 + "a", "name part must be 1 to 63 characters"},
           {"example.com/", "name part must be 1 to 63 characters"},
           {"/app", "prefix part must be a lowercase DNS subdomain of at most 253 characters"},
           {"Example.com/app",
            "prefix part must be a lowercase DNS subdomain of at most 253 characters"},
           {"example..com/app",
            "prefix part must be a lowercase DNS subdomain of at most 253 characters"},
           {"a" + prefix253 + "/x",
            "prefix part must be a lowercase DNS subdomain of at most 253 characters"},
           {"a/b/c", "must be a name with an optional DNS subdomain prefix and '/'"},
       }) {
    INFO(bad.key);
    auto in_labels = ParseLabelSelector(Json{{"matchLabels", {{bad.key, "v"}}}}, "sel");
    std::string quoted =
        bad.key.size() > 64 ? "\"" + bad.key.substr(0, 64) + "\"..." : "\"" + bad.key + "\"";
    CHECK(ErrorOf(in_labels) ==
          "sel.matchLabels: " + quoted + " is not a valid label key: " + bad.why);
    auto in_expression = ParseLabelSelector(
        Json{{"matchExpressions", {{{"key", bad.key}, {"operator", "Exists"}}}}}, "sel");
    CHECK(ErrorOf(in_expression).find("sel.matchExpressions[0].key: ") == 0);
    CHECK(ErrorOf(in_expression).find(bad.why) != std::string::npos);
  }
}

TEST_CASE("Long input is cut short in messages", "[parse][selector]") {
  std::string key(300, 'k');
  auto selector = ParseLabelSelector(Json{{"matchLabels", {{key, "v"}}}}, "sel");
  CHECK(ErrorOf(selector) == "sel.matchLabels: \"" + std::string(64, 'k') +
                                 "\"... is not a valid label key: name part must be 1 to 63 "
                                 "characters");
}

TEST_CASE("Label values are validated as the API server does", "[parse][selector]") {
  for (const std::string& value :
       {std::string(""), std::string("a"), std::string("v1.2_3-x"), std::string(63, 'z')}) {
    INFO(value);
    CHECK(ParseLabelSelector(Json{{"matchLabels", {{"k", value}}}}, "s").ok());
  }
  CHECK(ErrorOf(ParseLabelSelector(Json{{"matchLabels", {{"app", "-web"}}}}, "sel")) ==
        "sel.matchLabels[\"app\"]: \"-web\" is not a valid label value: must be empty or "
        "consist of alphanumeric characters, '-', '_' or '.', and start and end with an "
        "alphanumeric character");
  CHECK(
      ErrorOf(ParseLabelSelector(Json{{"matchLabels", {{"app", std::string(64, 'v')}}}}, "sel")) ==
      "sel.matchLabels[\"app\"]: \"" + std::string(64, 'v') +
          "\" is not a valid label value: must be at most 63 characters");
  CHECK(
      ErrorOf(ParseLabelSelector(
          J(R"({"matchExpressions": [{"key": "k", "operator": "In", "values": ["ok", "not ok"]}]})"),
          "sel")) ==
      "sel.matchExpressions[0].values[1]: \"not ok\" is not a valid label value: must be empty "
      "or consist of alphanumeric characters, '-', '_' or '.', and start and end with an "
      "alphanumeric character");
}

TEST_CASE("Selector errors name the field", "[parse][selector]") {
  struct Case {
    const char* selector;
    const char* error;
  };
  for (
      const Case& c : std::vector<Case>{
          {R"("app=web")", R"(sel: expected an object, got "app=web")"},
          {"null", "sel: expected an object, got null"},
          {R"({"matchLabels": []})", "sel.matchLabels: expected an object, got an array"},
          {R"({"matchLabels": {"app": 1}})", R"(sel.matchLabels["app"]: expected a string, got 1)"},
          {R"({"matchLabels": {"app": null}})",
           R"(sel.matchLabels["app"]: expected a string, got null)"},
          {R"({"matchExpressions": {}})", "sel.matchExpressions: expected an array, got an object"},
          {R"({"matchExpressions": [7]})", "sel.matchExpressions[0]: expected an object, got 7"},
          {R"({"matchExpressions": [{"operator": "Exists"}]})",
           "sel.matchExpressions[0].key: required"},
          {R"({"matchExpressions": [{"key": "", "operator": "Exists"}]})",
           "sel.matchExpressions[0].key: required"},
          {R"({"matchExpressions": [{"key": ["a"], "operator": "Exists"}]})",
           "sel.matchExpressions[0].key: expected a string, got an array"},
          {R"({"matchExpressions": [{"key": "a"}]})", "sel.matchExpressions[0].operator: required"},
          {R"({"matchExpressions": [{"key": "a", "operator": "Foo"}]})",
           R"(sel.matchExpressions[0].operator: "Foo" is not one of In, NotIn, Exists, DoesNotExist)"},
          {R"({"matchExpressions": [{"key": "a", "operator": "in", "values": ["x"]}]})",
           R"(sel.matchExpressions[0].operator: "in" is not one of In, NotIn, Exists, DoesNotExist)"},
          {R"({"matchExpressions": [{"key": "a", "operator": "In"}]})",
           "sel.matchExpressions[0].values: must be non-empty when operator is In or NotIn"},
          {R"({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": []}]})",
           "sel.matchExpressions[0].values: must be non-empty when operator is In or NotIn"},
          {R"({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]})",
           "sel.matchExpressions[0].values: must be empty when operator is Exists or DoesNotExist"},
          {R"({"matchExpressions": [{"key": "a", "operator": "DoesNotExist", "values": [""]}]})",
           "sel.matchExpressions[0].values: must be empty when operator is Exists or DoesNotExist"},
          {R"({"matchExpressions": [{"key": "a", "operator": "In", "values": "x"}]})",
           R"(sel.matchExpressions[0].values: expected an array, got "x")"},
          {R"({"matchExpressions": [{"key": "a", "operator": "In", "values": ["x", 2]}]})",
           "sel.matchExpressions[0].values[1]: expected a string, got 2"},
          {R"({"matchExpressions": [{"key": "a", "operator": "Exists"}, {"key": "b", "operator": "X"}]})",
           R"(sel.matchExpressions[1].operator: "X" is not one of In, NotIn, Exists, DoesNotExist)"},
      }) {
    INFO(c.selector);
    CHECK(ErrorOf(ParseLabelSelector(J(c.selector), "sel")) == c.error);
  }
}

TEST_CASE("A selector at the top level has paths without a prefix", "[parse][selector]") {
  CHECK(ErrorOf(ParseLabelSelector(J(R"({"matchExpressions": [{"key": "a", "operator": "Foo"}]})"),
                                   "")) ==
        R"(matchExpressions[0].operator: "Foo" is not one of In, NotIn, Exists, DoesNotExist)");
  CHECK(ErrorOf(ParseLabelSelector(J("[]"), "")) == "expected an object, got an array");
}

TEST_CASE("Messages stay on one line whatever the input holds", "[parse][selector]") {
  auto selector = ParseLabelSelector(Json{{"matchLabels", {{"a\nb", "v"}}}}, "sel");
  CHECK(ErrorOf(selector).find('\n') == std::string::npos);
  CHECK(ErrorOf(selector).find(R"("a\nb")") != std::string::npos);
  // Invalid UTF-8 is replaced, not thrown on.
  auto bad_utf8 = ParseLabelSelector(Json{{"matchLabels", {{"k", std::string("\xff\xfe")}}}}, "s");
  CHECK_FALSE(bad_utf8.ok());
}

// ---------------------------------------------------------------------------------------------
// Namespaces

TEST_CASE("ParseNamespace reads name and labels", "[parse][namespace]") {
  absl::StatusOr<Namespace> ns = ParseNamespace(J(R"({
      "apiVersion": "v1", "kind": "Namespace",
      "metadata": {"name": "shop", "uid": "1d1e", "resourceVersion": "42",
                   "labels": {"kubernetes.io/metadata.name": "shop", "team": "a"}},
      "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})"));
  REQUIRE(ns.ok());
  CHECK(*ns == Namespace{"shop", {{"kubernetes.io/metadata.name", "shop"}, {"team", "a"}}, false});
}

TEST_CASE("ParseNamespace honours the legacy DefaultDeny annotation", "[parse][namespace]") {
  struct Case {
    Json annotation;
    bool default_deny;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"ingress":{"isolation":"DefaultDeny"}})", true},
           {R"({"ingress": {"isolation": "DefaultDeny", "other": 1}, "egress": {}})", true},
           {R"({"ingress":{"isolation":"None"}})", false},
           {R"({"ingress":{"isolation":"defaultdeny"}})", false},
           {R"({"ingress":{"isolation":["DefaultDeny"]}})", false},
           {R"({"ingress":"DefaultDeny"})", false},
           {R"({"ingress":{"isolation":"DefaultDeny"})", false},  // cut short: not JSON
           {R"([{"ingress":{"isolation":"DefaultDeny"}}])", false},
           {"DefaultDeny", false},
           {"", false},
           {"null", false},
       }) {
    INFO(c.annotation.dump());
    Json object = {
        {"metadata",
         {{"name", "shop"},
          {"annotations", {{"net.beta.kubernetes.io/network-policy", c.annotation}, {"x", "y"}}}}}};
    absl::StatusOr<Namespace> ns = ParseNamespace(object);
    REQUIRE(ns.ok());
    CHECK(ns->legacy_default_deny == c.default_deny);
  }
  auto no_annotations = ParseNamespace(J(R"({"metadata": {"name": "a", "annotations": null}})"));
  REQUIRE(no_annotations.ok());
  CHECK_FALSE(no_annotations->legacy_default_deny);
}

TEST_CASE("ParseNamespace errors name the namespace and the field", "[parse][namespace]") {
  struct Case {
    const char* object;
    const char* error;
  };
  for (
      const Case& c : std::vector<Case>{
          {"[]", "Namespace: expected an object, got an array"},
          {"{}", "Namespace: metadata: required"},
          {R"({"metadata": "shop"})", R"(Namespace: metadata: expected an object, got "shop")"},
          {R"({"metadata": {}})", "Namespace: metadata.name: required"},
          {R"({"metadata": {"name": 3}})", "Namespace: metadata.name: expected a string, got 3"},
          {R"({"metadata": {"name": "Shop"}})",
           R"(Namespace: metadata.name: "Shop" is not a lowercase DNS label of at most 63 characters)"},
          {R"({"metadata": {"name": "a.b"}})",
           R"(Namespace: metadata.name: "a.b" is not a lowercase DNS label of at most 63 characters)"},
          {R"({"metadata": {"name": "shop", "labels": ["a"]}})",
           "Namespace shop: metadata.labels: expected an object, got an array"},
          {R"({"metadata": {"name": "shop", "labels": {"a": true}}})",
           R"(Namespace shop: metadata.labels["a"]: expected a string, got true)"},
          {R"({"metadata": {"name": "shop", "annotations": "x"}})",
           R"(Namespace shop: metadata.annotations: expected an object, got "x")"},
          {R"({"metadata": {"name": "shop", "annotations": {"net.beta.kubernetes.io/network-policy": {"ingress": {}}}}})",
           R"(Namespace shop: metadata.annotations["net.beta.kubernetes.io/network-policy"]: expected a string, got an object)"},
      }) {
    INFO(c.object);
    CHECK(ErrorOf(ParseNamespace(J(c.object))) == c.error);
  }
}

// ---------------------------------------------------------------------------------------------
// Pods

const char* const kRunningPod = R"({
  "apiVersion": "v1", "kind": "Pod",
  "metadata": {
    "name": "web-7d4b9c-x2x4z", "namespace": "shop", "uid": "0f5c",
    "labels": {"app": "web", "pod-template-hash": "7d4b9c"},
    "ownerReferences": [{"kind": "ReplicaSet", "name": "web-7d4b9c", "controller": true}]
  },
  "spec": {
    "nodeName": "node-1",
    "initContainers": [
      {"name": "migrate", "image": "migrate:1"},
      {"name": "proxy", "image": "envoy", "restartPolicy": "Always",
       "ports": [{"name": "admin", "containerPort": 9901, "protocol": "SCTP"}]}
    ],
    "containers": [
      {"name": "web", "image": "nginx",
       "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"},
                 {"containerPort": 9090},
                 {"name": "dns", "containerPort": 53, "protocol": "UDP", "hostPort": 53}]},
      {"name": "sidecar", "image": "busybox"}
    ]
  },
  "status": {"phase": "Running", "podIP": "10.32.0.5",
             "podIPs": [{"ip": "10.32.0.5"}, {"ip": "fd00::5"}],
             "hostIP": "192.168.1.10"}
})";

TEST_CASE("ParsePod reads a running pod", "[parse][pod]") {
  absl::StatusOr<Pod> pod = ParsePod(J(kRunningPod));
  REQUIRE(pod.ok());
  Pod expected;
  expected.ns = "shop";
  expected.name = "web-7d4b9c-x2x4z";
  expected.labels = {{"app", "web"}, {"pod-template-hash", "7d4b9c"}};
  expected.node = "node-1";
  expected.ip = *net::Ipv4::Parse("10.32.0.5");
  expected.ports = {{"http", 8080, Protocol::kTcp},
                    {"", 9090, Protocol::kTcp},
                    {"dns", 53, Protocol::kUdp},
                    {"admin", 9901, Protocol::kSctp}};
  CHECK(*pod == expected);
  CHECK(pod->Addressable());
}

TEST_CASE("ParsePod: a pending pod has no node, address or ports yet", "[parse][pod]") {
  absl::StatusOr<Pod> pod = ParsePod(J(R"({
      "metadata": {"name": "p", "namespace": "n"},
      "spec": {"containers": [{"name": "c", "image": "i"}]},
      "status": {"phase": "Pending"}})"));
  REQUIRE(pod.ok());
  CHECK(*pod == Pod{"n", "p", {}, "", std::nullopt, false, false, {}});
  CHECK_FALSE(pod->Addressable());
  auto bare = ParsePod(J(R"({"metadata": {"name": "p", "namespace": "n"}})"));
  REQUIRE(bare.ok());
  CHECK(*bare == *pod);
}

TEST_CASE("ParsePod picks the IPv4 address", "[parse][pod]") {
  struct Case {
    const char* status;
    std::optional<std::string> ip;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"podIP": "10.32.0.5"})", "10.32.0.5"},
           {R"({"podIP": "fd00::5", "podIPs": [{"ip": "fd00::5"}, {"ip": "10.32.0.6"}]})",
            "10.32.0.6"},
           {R"({"podIPs": [{"ip": "10.32.0.7"}]})", "10.32.0.7"},
           {R"({"podIP": "fd00::5", "podIPs": [{"ip": "fd00::5"}]})", std::nullopt},
           {R"({"podIP": "10.32.0.999"})", std::nullopt},
           {R"({"podIP": "10.32.0.5 "})", std::nullopt},
           {R"({"podIP": "10.32.0.5/12"})", std::nullopt},
           {R"({"podIP": 167772165})", std::nullopt},
           {R"({"podIP": "", "podIPs": []})", std::nullopt},
           {R"({"podIP": "junk", "podIPs": [{"ip": 1}, "10.0.0.1", {"ip": "10.32.0.8"}]})",
            "10.32.0.8"},
           {R"({"podIPs": "10.32.0.5"})", std::nullopt},
           {R"({"podIPs": [null, [], {"ip": null}]})", std::nullopt},
       }) {
    INFO(c.status);
    Json object = {{"metadata", {{"name", "p"}, {"namespace", "n"}}}, {"status", J(c.status)}};
    absl::StatusOr<Pod> pod = ParsePod(object);
    REQUIRE(pod.ok());
    if (c.ip) {
      REQUIRE(pod->ip.has_value());
      CHECK(pod->ip->ToString() == *c.ip);
    } else {
      CHECK_FALSE(pod->ip.has_value());
    }
  }
  Json with_nul = {{"metadata", {{"name", "p"}, {"namespace", "n"}}},
                   {"status", {{"podIP", std::string("10.32.0.5\0junk", 14)}}}};
  CHECK_FALSE(ParsePod(with_nul)->ip.has_value());
}

TEST_CASE("ParsePod: host network and finished pods are not addressable", "[parse][pod]") {
  Json object = J(kRunningPod);
  object["spec"]["hostNetwork"] = true;
  auto host = ParsePod(object);
  REQUIRE(host.ok());
  CHECK(host->host_network);
  CHECK_FALSE(host->Addressable());

  for (const char* phase : {"Succeeded", "Failed"}) {
    Json finished = J(kRunningPod);
    finished["status"]["phase"] = phase;
    auto pod = ParsePod(finished);
    REQUIRE(pod.ok());
    CHECK(pod->terminated);
    CHECK_FALSE(pod->Addressable());
  }
  for (const char* phase : {"Pending", "Running", "Unknown", ""}) {
    Json live = J(kRunningPod);
    live["status"]["phase"] = phase;
    CHECK_FALSE(ParsePod(live)->terminated);
  }
}

TEST_CASE("ParsePod skips malformed ports and keeps the rest", "[parse][pod]") {
  absl::StatusOr<Pod> pod = ParsePod(J(R"({
      "metadata": {"name": "p", "namespace": "n"},
      "spec": {
        "containers": [
          "not a container",
          {"name": "a", "ports": "8080"},
          {"name": "b", "ports": [
            {"name": "zero", "containerPort": 0},
            {"name": "big", "containerPort": 65536},
            {"name": "neg", "containerPort": -80},
            {"name": "float", "containerPort": 80.5},
            {"name": "text", "containerPort": "80"},
            {"name": "none"},
            {"name": "icmp", "containerPort": 1, "protocol": "ICMP"},
            {"name": "lower", "containerPort": 1, "protocol": "tcp"},
            {"name": "proto", "containerPort": 1, "protocol": 6},
            {"name": 7, "containerPort": 1},
            null, 5, [],
            {"name": "ok", "containerPort": 65535, "protocol": null},
            {"name": null, "containerPort": 1}
          ]}
        ],
        "initContainers": {"name": "not a list"}
      }})"));
  REQUIRE(pod.ok());
  CHECK(pod->ports ==
        std::vector<ContainerPort>{{"ok", 65535, Protocol::kTcp}, {"", 1, Protocol::kTcp}});
}

TEST_CASE("ParsePod errors name the pod and the field", "[parse][pod]") {
  struct Case {
    const char* object;
    const char* error;
  };
  for (
      const Case& c : std::vector<Case>{
          {"42", "Pod: expected an object, got 42"},
          {R"({"metadata": {"name": "p"}})", "Pod: metadata.namespace: required"},
          {R"({"metadata": {"namespace": "n"}})", "Pod: metadata.name: required"},
          {R"({"metadata": {"namespace": "N", "name": "p"}})",
           R"(Pod: metadata.namespace: "N" is not a lowercase DNS label of at most 63 characters)"},
          {R"({"metadata": {"namespace": "n", "name": "p_1"}})",
           R"(Pod: metadata.name: "p_1" is not a lowercase DNS subdomain of at most 253 characters)"},
          {R"({"metadata": {"namespace": "n", "name": "p", "labels": {"a": 1}}})",
           R"(Pod n/p: metadata.labels["a"]: expected a string, got 1)"},
          {R"({"metadata": {"namespace": "n", "name": "p"}, "spec": []})",
           "Pod n/p: spec: expected an object, got an array"},
          {R"({"metadata": {"namespace": "n", "name": "p"}, "spec": {"nodeName": 1}})",
           "Pod n/p: spec.nodeName: expected a string, got 1"},
          {R"({"metadata": {"namespace": "n", "name": "p"}, "spec": {"hostNetwork": "true"}})",
           R"(Pod n/p: spec.hostNetwork: expected a boolean, got "true")"},
          {R"({"metadata": {"namespace": "n", "name": "p"}, "status": "Running"})",
           R"(Pod n/p: status: expected an object, got "Running")"},
          {R"({"metadata": {"namespace": "n", "name": "p"}, "status": {"phase": {}}})",
           "Pod n/p: status.phase: expected a string, got an object"},
      }) {
    INFO(c.object);
    CHECK(ErrorOf(ParsePod(J(c.object))) == c.error);
  }
}

// ---------------------------------------------------------------------------------------------
// NetworkPolicies: the shapes of the Kubernetes documentation's examples

TEST_CASE("ParsePolicy reads the documentation's test-network-policy", "[parse][policy]") {
  Policy policy = MustParsePolicy(J(R"({
    "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
    "metadata": {"name": "test-network-policy", "namespace": "default", "generation": 1},
    "spec": {
      "podSelector": {"matchLabels": {"role": "db"}},
      "policyTypes": ["Ingress", "Egress"],
      "ingress": [{
        "from": [
          {"ipBlock": {"cidr": "172.17.0.0/16", "except": ["172.17.1.0/24"]}},
          {"namespaceSelector": {"matchLabels": {"project": "myproject"}}},
          {"podSelector": {"matchLabels": {"role": "frontend"}}}
        ],
        "ports": [{"protocol": "TCP", "port": 6379}]
      }],
      "egress": [{
        "to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}],
        "ports": [{"protocol": "TCP", "port": 5978}]
      }]
    }})"));
  Policy expected;
  expected.ns = "default";
  expected.name = "test-network-policy";
  expected.pod_selector = MatchLabels({{"role", "db"}});
  expected.ingress = true;
  expected.egress = true;
  PolicyPeer block;
  block.ip_block = IpBlock{C("172.17.0.0/16"), {C("172.17.1.0/24")}};
  PolicyPeer namespaces;
  namespaces.namespace_selector = MatchLabels({{"project", "myproject"}});
  PolicyPeer pods;
  pods.pod_selector = MatchLabels({{"role", "frontend"}});
  expected.ingress_rules = {{{block, namespaces, pods}, {{Protocol::kTcp, uint16_t{6379}, {}}}}};
  PolicyPeer destination;
  destination.ip_block = IpBlock{C("10.0.0.0/24"), {}};
  expected.egress_rules = {{{destination}, {{Protocol::kTcp, uint16_t{5978}, {}}}}};
  CHECK(policy == expected);
  CHECK(policy.problem.empty());
  CHECK(policy.Key() == "default/test-network-policy");
}

TEST_CASE("ParsePolicy: pods in selected namespaces (both selectors in one peer)",
          "[parse][policy]") {
  Policy policy = MustParsePolicy(PolicyWithSpec(J(R"({
      "podSelector": {},
      "ingress": [{"from": [{
        "namespaceSelector": {"matchLabels": {"user": "alice"}},
        "podSelector": {"matchLabels": {"role": "client"}}}]}]})")));
  REQUIRE(policy.ingress_rules.size() == 1);
  REQUIRE(policy.ingress_rules[0].peers.size() == 1);
  const PolicyPeer& peer = policy.ingress_rules[0].peers[0];
  CHECK(peer.namespace_selector == MatchLabels({{"user", "alice"}}));
  CHECK(peer.pod_selector == MatchLabels({{"role", "client"}}));
  CHECK_FALSE(peer.ip_block.has_value());
  CHECK(policy.ingress_rules[0].ports.empty());
}

TEST_CASE("ParsePolicy: the documentation's default policies", "[parse][policy]") {
  SECTION("default-deny-ingress: isolation without rules") {
    Policy policy =
        MustParsePolicy(PolicyWithSpec(J(R"({"podSelector": {}, "policyTypes": ["Ingress"]})")));
    CHECK(policy.pod_selector.requirements.empty());
    CHECK(policy.ingress);
    CHECK_FALSE(policy.egress);
    CHECK(policy.ingress_rules.empty());
    CHECK(policy.problem.empty());
  }
  SECTION("allow-all-ingress: one rule without peers or ports") {
    Policy policy = MustParsePolicy(PolicyWithSpec(J(R"({"podSelector": {}, "ingress": [{}]})")));
    CHECK(policy.ingress);
    CHECK(policy.ingress_rules == std::vector<PolicyRule>{PolicyRule{}});
  }
  SECTION("allow-all-egress") {
    Policy policy = MustParsePolicy(
        PolicyWithSpec(J(R"({"podSelector": {}, "egress": [{}], "policyTypes": ["Egress"]})")));
    CHECK_FALSE(policy.ingress);
    CHECK(policy.egress);
    CHECK(policy.egress_rules == std::vector<PolicyRule>{PolicyRule{}});
  }
  SECTION("default-deny-all") {
    Policy policy = MustParsePolicy(
        PolicyWithSpec(J(R"({"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})")));
    CHECK(policy.ingress);
    CHECK(policy.egress);
    CHECK(policy.ingress_rules.empty());
    CHECK(policy.egress_rules.empty());
  }
  SECTION("empty from/to/ports lists mean everything") {
    Policy policy = MustParsePolicy(PolicyWithSpec(J(R"({
        "ingress": [{"from": [], "ports": []}, {"from": null, "ports": null}],
        "egress": [{"to": []}]})")));
    CHECK(policy.ingress_rules == std::vector<PolicyRule>{PolicyRule{}, PolicyRule{}});
    CHECK(policy.egress_rules == std::vector<PolicyRule>{PolicyRule{}});
  }
}

TEST_CASE("ParsePolicy: endPort, as in the documentation's multi-port-egress", "[parse][policy]") {
  Policy policy = MustParsePolicy(J(R"({
    "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
    "metadata": {"name": "multi-port-egress", "namespace": "default"},
    "spec": {
      "podSelector": {"matchLabels": {"role": "db"}},
      "policyTypes": ["Egress"],
      "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}],
                  "ports": [{"protocol": "TCP", "port": 32000, "endPort": 32768}]}]
    }})"));
  REQUIRE(policy.egress_rules.size() == 1);
  CHECK(policy.egress_rules[0].ports ==
        std::vector<PolicyPort>{{Protocol::kTcp, uint16_t{32000}, uint16_t{32768}}});
  CHECK_FALSE(policy.ingress);
  CHECK(policy.egress);
}

TEST_CASE("ParsePolicy reads ports of every kind", "[parse][policy]") {
  Policy policy = MustParsePolicy(PolicyWithSpec(J(R"({
      "ingress": [{"ports": [
        {"port": 80},
        {"protocol": "UDP", "port": 53},
        {"protocol": "SCTP"},
        {"protocol": "TCP", "port": "http"},
        {"port": "web-8080"},
        {"protocol": null, "port": null},
        {"port": 1, "endPort": 1},
        {"port": 1, "endPort": 65535},
        {"port": 8080, "endPort": null}
      ]}]})")));
  REQUIRE(policy.ingress_rules.size() == 1);
  CHECK(policy.ingress_rules[0].peers.empty());
  CHECK(policy.ingress_rules[0].ports == std::vector<PolicyPort>{
                                             {Protocol::kTcp, uint16_t{80}, {}},
                                             {Protocol::kUdp, uint16_t{53}, {}},
                                             {Protocol::kSctp, std::monostate{}, {}},
                                             {Protocol::kTcp, std::string("http"), {}},
                                             {Protocol::kTcp, std::string("web-8080"), {}},
                                             {Protocol::kTcp, std::monostate{}, {}},
                                             {Protocol::kTcp, uint16_t{1}, uint16_t{1}},
                                             {Protocol::kTcp, uint16_t{1}, uint16_t{65535}},
                                             {Protocol::kTcp, uint16_t{8080}, {}},
                                         });
}

TEST_CASE("ParsePolicy accepts valid IANA port names", "[parse][policy]") {
  for (const char* name : {"http", "h", "a1", "1a", "my-port", "abcdefghijklmno", "x-1-y"}) {
    INFO(name);
    Policy policy =
        MustParsePolicy(PolicyWithSpec(Json{{"ingress", {{{"ports", {{{"port", name}}}}}}}}));
    CHECK(policy.problem.empty());
  }
}

TEST_CASE("ParsePolicy defaults policyTypes as the API server does", "[parse][policy]") {
  struct Case {
    const char* spec;
    bool ingress;
    bool egress;
  };
  for (const Case& c : std::vector<Case>{
           {"{}", true, false},
           {R"({"podSelector": {}})", true, false},
           {R"({"ingress": [{}]})", true, false},
           {R"({"egress": []})", true, false},
           {R"({"egress": null})", true, false},
           {R"({"egress": [{}]})", true, true},
           {R"({"policyTypes": [], "egress": [{}]})", true, true},
           {R"({"policyTypes": null})", true, false},
           {R"({"policyTypes": ["Egress"]})", false, true},
           {R"({"policyTypes": ["Egress"], "ingress": [{}]})", false, true},
           {R"({"policyTypes": ["Ingress"], "egress": [{}]})", true, false},
           {R"({"policyTypes": ["Ingress", "Ingress"]})", true, false},
       }) {
    INFO(c.spec);
    Policy policy = MustParsePolicy(PolicyWithSpec(J(c.spec)));
    CHECK(policy.ingress == c.ingress);
    CHECK(policy.egress == c.egress);
    CHECK(policy.problem.empty());
  }
}

TEST_CASE("ParsePolicy: an absent spec or podSelector selects every pod", "[parse][policy]") {
  for (const Json& object :
       {J(R"({"metadata": {"namespace": "x", "name": "p"}})"),
        J(R"({"metadata": {"namespace": "x", "name": "p"}, "spec": null})"),
        J(R"({"metadata": {"namespace": "x", "name": "p"}, "spec": {"podSelector": null}})")}) {
    INFO(object.dump());
    Policy policy = MustParsePolicy(object);
    CHECK(policy.pod_selector == LabelSelector{});
    CHECK(policy.ingress);
    CHECK_FALSE(policy.egress);
    CHECK(policy.problem.empty());
  }
}

TEST_CASE("ParsePolicy masks host bits of ipBlocks", "[parse][policy]") {
  Policy policy = MustParsePolicy(PolicyWithSpec(J(R"({
      "ingress": [{"from": [
        {"ipBlock": {"cidr": "10.0.0.5/24", "except": ["10.0.0.129/25", "10.0.0.7/32"]}},
        {"ipBlock": {"cidr": "192.168.1.1/32"}},
        {"ipBlock": {"cidr": "1.2.3.4/0", "except": ["10.1.2.3/8"], "unknown": 1}}
      ]}]})")));
  REQUIRE(policy.ingress_rules.size() == 1);
  const std::vector<PolicyPeer>& peers = policy.ingress_rules[0].peers;
  REQUIRE(peers.size() == 3);
  CHECK(peers[0].ip_block == IpBlock{C("10.0.0.0/24"), {C("10.0.0.128/25"), C("10.0.0.7/32")}});
  CHECK(peers[1].ip_block == IpBlock{C("192.168.1.1/32"), {}});
  CHECK(peers[2].ip_block == IpBlock{C("0.0.0.0/0"), {C("10.0.0.0/8")}});
  for (const PolicyPeer& peer : peers) {
    CHECK_FALSE(peer.pod_selector.has_value());
    CHECK_FALSE(peer.namespace_selector.has_value());
  }
}

TEST_CASE("ParsePolicy drops IPv6 peers, and rules left with none", "[parse][policy]") {
  Policy policy = MustParsePolicy(PolicyWithSpec(J(R"({
      "policyTypes": ["Ingress", "Egress"],
      "ingress": [
        {"from": [{"ipBlock": {"cidr": "fd00::/8", "except": ["fd00:1::/32"]}},
                  {"podSelector": {"matchLabels": {"app": "a"}}}],
         "ports": [{"port": 80}]},
        {"from": [{"ipBlock": {"cidr": "2001:db8::1/64"}}, {"ipBlock": {"cidr": "::/0"}}],
         "ports": [{"port": 81}]},
        {"ports": [{"port": 82}]}
      ],
      "egress": [{"to": [{"ipBlock": {"cidr": "::ffff:10.0.0.0/104"}}]}]
    })")));
  CHECK(policy.problem.empty());
  PolicyPeer app;
  app.pod_selector = MatchLabels({{"app", "a"}});
  CHECK(policy.ingress_rules ==
        std::vector<PolicyRule>{{{app}, {{Protocol::kTcp, uint16_t{80}, {}}}},
                                {{}, {{Protocol::kTcp, uint16_t{82}, {}}}}});
  // Every egress rule matched only IPv6: egress is isolated and allows nothing.
  CHECK(policy.egress);
  CHECK(policy.egress_rules.empty());
}

// ---------------------------------------------------------------------------------------------
// NetworkPolicy problems: the policy is kept, isolates, and allows nothing.

TEST_CASE("A problem in a rule keeps the policy but drops every rule", "[parse][policy]") {
  Policy policy = MustParsePolicy(PolicyWithSpec(J(R"({
      "podSelector": {"matchLabels": {"app": "web"}},
      "policyTypes": ["Ingress"],
      "ingress": [
        {"from": [{"podSelector": {}}]},
        {"from": [{"podSelector": {"matchLabels": {"role": "frontend"}}},
                  {"podSelector": {"matchExpressions": [{"key": "app", "operator": "Foo"}]}}]}
      ]})")));
  CHECK(
      policy.problem ==
      R"(NetworkPolicy x/allow-web: spec.ingress[1].from[1].podSelector.matchExpressions[0].operator: "Foo" is not one of In, NotIn, Exists, DoesNotExist)");
  CHECK(policy.pod_selector == MatchLabels({{"app", "web"}}));
  CHECK(policy.ingress);
  CHECK_FALSE(policy.egress);
  CHECK(policy.ingress_rules.empty());
  CHECK(policy.egress_rules.empty());
}

TEST_CASE("A malformed policyTypes isolates both directions", "[parse][policy]") {
  struct Case {
    const char* spec;
    const char* problem;
  };
  for (
      const Case& c : std::vector<Case>{
          {R"({"policyTypes": ["Ingress", "Sideways"], "ingress": [{}]})",
           R"(NetworkPolicy x/allow-web: spec.policyTypes[1]: "Sideways" is not one of Ingress, Egress)"},
          {R"({"policyTypes": ["ingress"]})",
           R"(NetworkPolicy x/allow-web: spec.policyTypes[0]: "ingress" is not one of Ingress, Egress)"},
          {R"({"policyTypes": "Ingress"})",
           R"(NetworkPolicy x/allow-web: spec.policyTypes: expected an array, got "Ingress")"},
          {R"({"policyTypes": [1]})",
           "NetworkPolicy x/allow-web: spec.policyTypes[0]: expected a string, got 1"},
          {R"({"policyTypes": ["Ingress", "Egress", "Ingress"]})",
           "NetworkPolicy x/allow-web: spec.policyTypes: may not have more than two values"},
      }) {
    INFO(c.spec);
    Policy policy = MustParsePolicy(PolicyWithSpec(J(c.spec)));
    CHECK(policy.problem == c.problem);
    CHECK(policy.ingress);
    CHECK(policy.egress);
    CHECK(policy.ingress_rules.empty());
    CHECK(policy.egress_rules.empty());
  }
}

TEST_CASE("Every kind of problem in rules, with its message", "[parse][policy]") {
  struct Case {
    const char* spec;
    const char* problem;  // after "NetworkPolicy x/allow-web: "
  };
  const std::string kPrefix = "NetworkPolicy x/allow-web: ";
  for (
      const Case& c : std::vector<Case>{
          // Rule lists and rules.
          {R"({"ingress": "all"})", R"(spec.ingress: expected an array, got "all")"},
          {R"({"ingress": {}})", "spec.ingress: expected an array, got an object"},
          {R"({"ingress": [[]]})", "spec.ingress[0]: expected an object, got an array"},
          {R"({"ingress": [null]})", "spec.ingress[0]: expected an object, got null"},
          {R"({"egress": [{}, "x"]})", R"(spec.egress[1]: expected an object, got "x")"},
          {R"({"ingress": [{"from": {}}]})",
           "spec.ingress[0].from: expected an array, got an object"},
          {R"({"egress": [{"to": "10.0.0.0/8"}]})",
           R"(spec.egress[0].to: expected an array, got "10.0.0.0/8")"},
          {R"({"ingress": [{"ports": "80"}]})",
           R"(spec.ingress[0].ports: expected an array, got "80")"},
          // Peers.
          {R"({"ingress": [{"from": [5]}]})", "spec.ingress[0].from[0]: expected an object, got 5"},
          {R"({"ingress": [{"from": [{}]}]})",
           "spec.ingress[0].from[0]: must have a podSelector, a namespaceSelector or an ipBlock"},
          {R"({"ingress": [{"from": [{"podSelector": null, "ipBlock": null}]}]})",
           "spec.ingress[0].from[0]: must have a podSelector, a namespaceSelector or an ipBlock"},
          {R"({"ingress": [{"from": [{"podSelector": {}, "ipBlock": {"cidr": "10.0.0.0/8"}}]}]})",
           "spec.ingress[0].from[0]: may not have an ipBlock together with a podSelector or "
           "namespaceSelector"},
          {R"({"egress": [{"to": [{"namespaceSelector": {}, "ipBlock": {"cidr": "fd00::/8"}}]}]})",
           "spec.egress[0].to[0]: may not have an ipBlock together with a podSelector or "
           "namespaceSelector"},
          {R"({"ingress": [{"from": [{"podSelector": "app=web"}]}]})",
           R"(spec.ingress[0].from[0].podSelector: expected an object, got "app=web")"},
          {R"({"egress": [{"to": [{"namespaceSelector": {"matchLabels": {"team": 5}}}]}]})",
           R"(spec.egress[0].to[0].namespaceSelector.matchLabels["team"]: expected a string, got 5)"},
          // ipBlocks.
          {R"({"ingress": [{"from": [{"ipBlock": "10.0.0.0/8"}]}]})",
           R"(spec.ingress[0].from[0].ipBlock: expected an object, got "10.0.0.0/8")"},
          {R"({"ingress": [{"from": [{"ipBlock": {}}]}]})",
           "spec.ingress[0].from[0].ipBlock.cidr: required"},
          {R"({"ingress": [{"from": [{"ipBlock": {"cidr": 10}}]}]})",
           "spec.ingress[0].from[0].ipBlock.cidr: expected a string, got 10"},
          {R"({"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0"}}]}]})",
           R"(spec.ingress[0].from[0].ipBlock.cidr: "10.0.0.0" is not a CIDR)"},
          {R"({"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/33"}}]}]})",
           R"(spec.ingress[0].from[0].ipBlock.cidr: "10.0.0.0/33" is not a CIDR)"},
          {R"({"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/ 8"}}]}]})",
           R"(spec.ingress[0].from[0].ipBlock.cidr: "10.0.0.0/ 8" is not a CIDR)"},
          {R"({"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/+8"}}]}]})",
           R"(spec.ingress[0].from[0].ipBlock.cidr: "10.0.0.0/+8" is not a CIDR)"},
          {R"({"ingress": [{"from": [{"ipBlock": {"cidr": "256.0.0.0/8"}}]}]})",
           R"(spec.ingress[0].from[0].ipBlock.cidr: "256.0.0.0/8" is not a CIDR)"},
          {R"({"ingress": [{"from": [{"ipBlock": {"cidr": "fd00::/129"}}]}]})",
           R"(spec.ingress[0].from[0].ipBlock.cidr: "fd00::/129" is not a CIDR)"},
          {R"({"ingress": [{"from": [{"ipBlock": {"cidr": "fd00:::/64"}}]}]})",
           R"(spec.ingress[0].from[0].ipBlock.cidr: "fd00:::/64" is not a CIDR)"},
          {R"({"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": "10.1.0.0/16"}}]}]})",
           R"(spec.ingress[0].from[0].ipBlock.except: expected an array, got "10.1.0.0/16")"},
          {R"({"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16", 5]}}]}]})",
           "spec.ingress[0].from[0].ipBlock.except[1]: expected a string, got 5"},
          {R"({"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["nope"]}}]}]})",
           R"(spec.ingress[0].from[0].ipBlock.except[0]: "nope" is not a CIDR)"},
          {R"({"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/24", "except": ["10.0.1.0/28"]}}]}]})",
           R"(spec.ingress[0].from[0].ipBlock.except[0]: "10.0.1.0/28" is not strictly inside "10.0.0.0/24")"},
          {R"({"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.5/24", "except": ["10.0.0.0/24"]}}]}]})",
           R"(spec.ingress[0].from[0].ipBlock.except[0]: "10.0.0.0/24" is not strictly inside "10.0.0.5/24")"},
          {R"({"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/24", "except": ["10.0.0.0/16"]}}]}]})",
           R"(spec.ingress[0].from[0].ipBlock.except[0]: "10.0.0.0/16" is not strictly inside "10.0.0.0/24")"},
          {R"({"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["fd00::/16"]}}]}]})",
           R"(spec.ingress[0].from[0].ipBlock.except[0]: "fd00::/16" is not strictly inside "10.0.0.0/8")"},
          {R"({"ingress": [{"from": [{"ipBlock": {"cidr": "fd00::/8", "except": ["fe00::/16"]}}]}]})",
           R"(spec.ingress[0].from[0].ipBlock.except[0]: "fe00::/16" is not strictly inside "fd00::/8")"},
          {R"({"ingress": [{"from": [{"ipBlock": {"cidr": "fd00::/8", "except": ["fd00::/8"]}}]}]})",
           R"(spec.ingress[0].from[0].ipBlock.except[0]: "fd00::/8" is not strictly inside "fd00::/8")"},
          {R"({"ingress": [{"from": [{"ipBlock": {"cidr": "fd00::/8", "except": ["10.0.0.0/8"]}}]}]})",
           R"(spec.ingress[0].from[0].ipBlock.except[0]: "10.0.0.0/8" is not strictly inside "fd00::/8")"},
          // Ports.
          {R"({"ingress": [{"ports": [80]}]})",
           "spec.ingress[0].ports[0]: expected an object, got 80"},
          {R"({"ingress": [{"ports": [{"protocol": "ICMP"}]}]})",
           R"(spec.ingress[0].ports[0].protocol: "ICMP" is not one of TCP, UDP, SCTP)"},
          {R"({"ingress": [{"ports": [{"protocol": "tcp"}]}]})",
           R"(spec.ingress[0].ports[0].protocol: "tcp" is not one of TCP, UDP, SCTP)"},
          {R"({"ingress": [{"ports": [{"protocol": ""}]}]})",
           R"(spec.ingress[0].ports[0].protocol: "" is not one of TCP, UDP, SCTP)"},
          {R"({"ingress": [{"ports": [{"protocol": 6}]}]})",
           "spec.ingress[0].ports[0].protocol: expected a string, got 6"},
          {R"({"ingress": [{"ports": [{"port": 0}]}]})",
           "spec.ingress[0].ports[0].port: 0 is neither a port number 1..65535 nor a name"},
          {R"({"ingress": [{"ports": [{"port": 65536}]}]})",
           "spec.ingress[0].ports[0].port: 65536 is neither a port number 1..65535 nor a name"},
          {R"({"ingress": [{"ports": [{"port": -80}]}]})",
           "spec.ingress[0].ports[0].port: -80 is neither a port number 1..65535 nor a name"},
          {R"({"ingress": [{"ports": [{"port": 80.5}]}]})",
           "spec.ingress[0].ports[0].port: 80.5 is neither a port number 1..65535 nor a name"},
          {R"({"ingress": [{"ports": [{"port": 18446744073709551615}]}]})",
           "spec.ingress[0].ports[0].port: 18446744073709551615 is neither a port number "
           "1..65535 nor a name"},
          {R"({"ingress": [{"ports": [{"port": true}]}]})",
           "spec.ingress[0].ports[0].port: true is neither a port number 1..65535 nor a name"},
          {R"({"ingress": [{"ports": [{"port": [80]}]}]})",
           "spec.ingress[0].ports[0].port: an array is neither a port number 1..65535 nor a name"},
          {R"({"ingress": [{"ports": [{"port": "80"}]}]})",
           R"(spec.ingress[0].ports[0].port: "80" is not a valid port name: must contain a letter)"},
          {R"({"ingress": [{"ports": [{"port": ""}]}]})",
           R"(spec.ingress[0].ports[0].port: "" is not a valid port name: must be 1 to 15 characters)"},
          {R"({"ingress": [{"ports": [{"port": "a-very-long-port-name"}]}]})",
           R"(spec.ingress[0].ports[0].port: "a-very-long-port-name" is not a valid port name: must be 1 to 15 characters)"},
          {R"({"ingress": [{"ports": [{"port": "HTTP"}]}]})",
           R"(spec.ingress[0].ports[0].port: "HTTP" is not a valid port name: must consist of lowercase letters, digits and '-')"},
          {R"({"ingress": [{"ports": [{"port": "my_port"}]}]})",
           R"(spec.ingress[0].ports[0].port: "my_port" is not a valid port name: must consist of lowercase letters, digits and '-')"},
          {R"({"ingress": [{"ports": [{"port": "-http"}]}]})",
           R"(spec.ingress[0].ports[0].port: "-http" is not a valid port name: must not begin or end with '-' nor contain "--")"},
          {R"({"ingress": [{"ports": [{"port": "http-"}]}]})",
           R"(spec.ingress[0].ports[0].port: "http-" is not a valid port name: must not begin or end with '-' nor contain "--")"},
          {R"({"ingress": [{"ports": [{"port": "my--port"}]}]})",
           R"(spec.ingress[0].ports[0].port: "my--port" is not a valid port name: must not begin or end with '-' nor contain "--")"},
          {R"({"ingress": [{"ports": [{"endPort": 90}]}]})",
           "spec.ingress[0].ports[0].endPort: may only be given with a numeric port"},
          {R"({"ingress": [{"ports": [{"port": "http", "endPort": 90}]}]})",
           "spec.ingress[0].ports[0].endPort: may only be given with a numeric port"},
          {R"({"ingress": [{"ports": [{"port": 80, "endPort": 79}]}]})",
           "spec.ingress[0].ports[0].endPort: 79 is less than port 80"},
          {R"({"ingress": [{"ports": [{"port": 80, "endPort": 65536}]}]})",
           "spec.ingress[0].ports[0].endPort: 65536 is not a port number 1..65535"},
          {R"({"ingress": [{"ports": [{"port": 80, "endPort": "90"}]}]})",
           R"(spec.ingress[0].ports[0].endPort: "90" is not a port number 1..65535)"},
          {R"({"ingress": [{"ports": [{"port": 80, "endPort": 90.0}]}]})",
           "spec.ingress[0].ports[0].endPort: 90.0 is not a port number 1..65535"},
          // The first thing wrong is the one reported; egress after ingress.
          {R"({"ingress": [{"ports": [{"port": 0}, {"port": -1}]}], "egress": [5]})",
           "spec.ingress[0].ports[0].port: 0 is neither a port number 1..65535 nor a name"},
          {R"({"ingress": [{}], "egress": [{"ports": [{"protocol": "GRE"}]}]})",
           R"(spec.egress[0].ports[0].protocol: "GRE" is not one of TCP, UDP, SCTP)"},
          // Rules of a direction policyTypes leaves out are still read (the API validates
          // them too).
          {R"({"policyTypes": ["Ingress"], "egress": [{"to": [{}]}]})",
           "spec.egress[0].to[0]: must have a podSelector, a namespaceSelector or an ipBlock"},
          // A problem in a rule that only had IPv6 peers is still a problem.
          {R"({"ingress": [{"from": [{"ipBlock": {"cidr": "fd00::/8"}}], "ports": [{"port": 0}]}]})",
           "spec.ingress[0].ports[0].port: 0 is neither a port number 1..65535 nor a name"},
      }) {
    INFO(c.spec);
    CHECK(ProblemOf(c.spec) == kPrefix + c.problem);
  }
}

TEST_CASE("A problem keeps the directions that were read", "[parse][policy]") {
  Policy ingress_only = MustParsePolicy(
      PolicyWithSpec(J(R"({"policyTypes": ["Ingress"], "ingress": [{"from": [{}]}]})")));
  CHECK_FALSE(ingress_only.problem.empty());
  CHECK(ingress_only.ingress);
  CHECK_FALSE(ingress_only.egress);

  // Defaulting with a malformed egress list fails closed: egress is isolated too.
  Policy defaulted = MustParsePolicy(PolicyWithSpec(J(R"({"egress": "x"})")));
  CHECK(defaulted.problem ==
        R"(NetworkPolicy x/allow-web: spec.egress: expected an array, got "x")");
  CHECK(defaulted.ingress);
  CHECK(defaulted.egress);

  Policy egress_defaulted =
      MustParsePolicy(PolicyWithSpec(J(R"({"egress": [{"to": [{"ipBlock": {}}]}]})")));
  CHECK(egress_defaulted.ingress);
  CHECK(egress_defaulted.egress);
  CHECK(egress_defaulted.egress_rules.empty());
}

TEST_CASE("ParsePolicy errors: the policy cannot say which pods it isolates", "[parse][policy]") {
  struct Case {
    const char* object;
    const char* error;
  };
  for (
      const Case& c : std::vector<Case>{
          {"null", "NetworkPolicy: expected an object, got null"},
          {R"("policy")", R"(NetworkPolicy: expected an object, got "policy")"},
          {"{}", "NetworkPolicy: metadata: required"},
          {R"({"metadata": null})", "NetworkPolicy: metadata: required"},
          {R"({"metadata": []})", "NetworkPolicy: metadata: expected an object, got an array"},
          {R"({"metadata": {"name": "p"}})", "NetworkPolicy: metadata.namespace: required"},
          {R"({"metadata": {"namespace": "x"}})", "NetworkPolicy: metadata.name: required"},
          {R"({"metadata": {"namespace": "x", "name": ""}})",
           "NetworkPolicy: metadata.name: required"},
          {R"({"metadata": {"namespace": "x", "name": "Allow_Web"}})",
           R"(NetworkPolicy: metadata.name: "Allow_Web" is not a lowercase DNS subdomain of at most 253 characters)"},
          {R"({"metadata": {"namespace": "x", "name": "p"}, "spec": "x"})",
           R"(NetworkPolicy x/p: spec: expected an object, got "x")"},
          {R"({"metadata": {"namespace": "x", "name": "p"}, "spec": {"podSelector": "all"}})",
           R"(NetworkPolicy x/p: spec.podSelector: expected an object, got "all")"},
          {R"({"metadata": {"namespace": "x", "name": "p"}, "spec": {"podSelector": {"matchLabels": {"-app": "web"}}}})",
           "NetworkPolicy x/p: spec.podSelector.matchLabels: \"-app\" is not a valid label key: "
           "name part must consist of alphanumeric characters, '-', '_' or '.', and start and "
           "end with an alphanumeric character"},
          {R"({"metadata": {"namespace": "x", "name": "p"}, "spec": {"podSelector": {"matchExpressions": [{"key": "a", "operator": "In"}]}, "ingress": "bad"}})",
           "NetworkPolicy x/p: spec.podSelector.matchExpressions[0].values: must be non-empty "
           "when operator is In or NotIn"},
      }) {
    INFO(c.object);
    CHECK(ErrorOf(ParsePolicy(J(c.object))) == c.error);
  }
}

// ---------------------------------------------------------------------------------------------
// Garbage of every shape: never a throw, a crash or a multi-line message.

const char* const kFullPolicy = R"({
  "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
  "metadata": {"name": "p", "namespace": "n", "labels": {"a": "b"}},
  "spec": {
    "podSelector": {"matchLabels": {"role": "db"},
                    "matchExpressions": [{"key": "env", "operator": "In", "values": ["a", "b"]}]},
    "policyTypes": ["Ingress", "Egress"],
    "ingress": [{
      "from": [
        {"ipBlock": {"cidr": "172.17.0.0/16", "except": ["172.17.1.0/24"]}},
        {"namespaceSelector": {"matchLabels": {"project": "p"}},
         "podSelector": {"matchExpressions": [{"key": "k", "operator": "Exists"}]}},
        {"ipBlock": {"cidr": "fd00::/8", "except": ["fd00:1::/32"]}}
      ],
      "ports": [{"protocol": "TCP", "port": 6379}, {"port": "http"},
                {"protocol": "UDP", "port": 1000, "endPort": 2000}]
    }],
    "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}], "ports": [{"port": 53}]}]
  }
})";

const char* const kFullNamespace = R"({
  "metadata": {"name": "n", "labels": {"a": "b"},
               "annotations": {"net.beta.kubernetes.io/network-policy":
                               "{\"ingress\":{\"isolation\":\"DefaultDeny\"}}"}}
})";

std::vector<Json> Garbage() {
  return {nullptr,
          true,
          false,
          0,
          -1,
          1,
          80,
          65536,
          std::numeric_limits<int64_t>::min(),
          std::numeric_limits<uint64_t>::max(),
          1.5,
          -0.0,
          1e308,
          "",
          "x",
          "10.0.0.0/8",
          "fd00::/8",
          "In",
          "Ingress",
          "TCP",
          std::string(1000, 'a'),
          std::string("\0\xff\n", 3),
          Json::array(),
          Json::object(),
          Json::array({nullptr}),
          Json::array({1, "a", Json::object()}),
          Json::array({Json::array({Json::array()})}),
          Json{{"a", 1}},
          Json{{"key", "k"}, {"operator", "In"}, {"values", {"v"}}},
          Json{{"cidr", "10.0.0.0/8"}},
          Json::binary({1, 2, 3}),
          Json(Json::value_t::discarded)};
}

// JSON pointers to every value in `document`, containers included.
void CollectPointers(const Json& value, const Json::json_pointer& at,
                     std::vector<Json::json_pointer>& pointers) {
  pointers.push_back(at);
  if (value.is_object()) {
    for (const auto& item : value.items()) CollectPointers(item.value(), at / item.key(), pointers);
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) CollectPointers(value[i], at / i, pointers);
  }
}

// Parses `object` as every kind, checking the contracts that hold for any input.
void ParseAsEverything(const Json& object) {
  INFO(object.dump(-1, ' ', false, Json::error_handler_t::replace));
  auto one_line = [](absl::string_view text) { return text.find('\n') == text.npos; };
  REQUIRE_NOTHROW([&] {
    absl::StatusOr<Policy> policy = ParsePolicy(object);
    if (policy.ok()) {
      CHECK(one_line(policy->problem));
      if (!policy->problem.empty()) {
        CHECK(policy->ingress_rules.empty());
        CHECK(policy->egress_rules.empty());
      }
    } else {
      CHECK(one_line(policy.status().message()));
    }
    absl::StatusOr<Pod> pod = ParsePod(object);
    CHECK(one_line(pod.status().message()));
    absl::StatusOr<Namespace> ns = ParseNamespace(object);
    CHECK(one_line(ns.status().message()));
    absl::StatusOr<LabelSelector> selector = ParseLabelSelector(object, "s");
    CHECK(one_line(selector.status().message()));
  }());
}

TEST_CASE("Garbage at every field of a full object never throws", "[parse][fuzz]") {
  for (const char* text : {kFullPolicy, kRunningPod, kFullNamespace}) {
    const Json document = J(text);
    std::vector<Json::json_pointer> pointers;
    CollectPointers(document, Json::json_pointer(), pointers);
    for (const Json::json_pointer& at : pointers) {
      for (const Json& garbage : Garbage()) {
        Json mutated = document;
        mutated[at] = garbage;
        ParseAsEverything(mutated);
      }
      if (!at.empty()) {  // and without the field
        Json mutated = document;
        const std::string last = at.back();
        Json& parent = mutated[at.parent_pointer()];
        if (parent.is_object()) {
          parent.erase(last);
        } else {
          parent.erase(std::stoul(last));
        }
        ParseAsEverything(mutated);
      }
    }
  }
}

TEST_CASE("Randomly mutated objects never throw", "[parse][fuzz]") {
  std::mt19937 random(20240601);
  const std::vector<Json> garbage = Garbage();
  for (const char* text : {kFullPolicy, kRunningPod, kFullNamespace}) {
    const Json document = J(text);
    for (int round = 0; round < 300; ++round) {
      Json mutated = document;
      int mutations = 1 + static_cast<int>(random() % 4);
      for (int m = 0; m < mutations; ++m) {
        std::vector<Json::json_pointer> pointers;
        CollectPointers(mutated, Json::json_pointer(), pointers);
        const Json::json_pointer& at = pointers[random() % pointers.size()];
        switch (random() % 3) {
          case 0:
            mutated[at] = garbage[random() % garbage.size()];
            break;
          case 1:  // copy another part of the document here: shapes that are almost right
            mutated[at] = Json(mutated[pointers[random() % pointers.size()]]);
            break;
          default:
            if (mutated[at].is_array()) mutated[at].push_back(garbage[random() % garbage.size()]);
            if (mutated[at].is_object()) mutated[at]["extra"] = garbage[random() % garbage.size()];
            break;
        }
      }
      ParseAsEverything(mutated);
    }
  }
}

TEST_CASE("Garbage as a whole object never throws", "[parse][fuzz]") {
  for (const Json& garbage : Garbage()) ParseAsEverything(garbage);
  Json deep = Json::array();
  for (int i = 0; i < 1000; ++i) deep = Json{{"ingress", Json::array({deep})}};
  ParseAsEverything(Json{{"metadata", {{"name", "n"}, {"namespace", "n"}}}, {"spec", deep}});
}

}  // namespace
}  // namespace weave::npc
