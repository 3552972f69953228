// The production Kubernetes client (common/kube) against the fake API server (test/kube): a
// reflector whose server restarts in the middle of a watch, with changes before, during and
// after, ends with exactly the server's objects: none lost, none duplicated.
#include <catch2/catch.hpp>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/kube/client.h"
#include "common/kube/config.h"
#include "common/kube/reflector.h"
#include "ipam/testing/temp_dir.h"
#include "test/harness/status_assertions.h"
#include "test/harness/wait_for.h"
#include "test/kube/fake_apiserver.h"

namespace weave::testing {
namespace {

constexpr char kConfigMaps[] = "/api/v1/namespaces/default/configmaps";

nlohmann::json ConfigMap(int i) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", absl::StrCat("cm", i)}, {"namespace", "default"}}},
          {"data", {{"i", std::to_string(i)}}}};
}

// name -> resourceVersion, from objects.
std::map<std::string, std::string> Versions(const std::vector<nlohmann::json>& objects) {
  std::map<std::string, std::string> out;
  for (const nlohmann::json& object : objects) {
    out[object["metadata"].value("name", "")] = object["metadata"].value("resourceVersion", "");
  }
  return out;
}

TEST_CASE("a reflector ends with exactly the server's objects across a restart mid-watch",
          "[kube]") {
  ipam::testing::TempDir dir;
  kube::FakeApiServerOptions options;
  options.dir = dir.File("apiserver");
  ASSIGN_OR_REQUIRE(std::unique_ptr<kube::FakeApiServer> server,
                    kube::FakeApiServer::Create(options));
  REQUIRE_OK(server->Start());
  REQUIRE_OK(server->WriteKubeconfig(dir.File("kubeconfig")));
  ASSIGN_OR_REQUIRE(weave::kube::Config config,
                    weave::kube::KubeconfigConfig(dir.File("kubeconfig")));
  ASSIGN_OR_REQUIRE(std::unique_ptr<weave::kube::Client> client, weave::kube::NewClient(config));
  for (int i = 0; i < 5; ++i) REQUIRE_OK(client->Create(kConfigMaps, ConfigMap(i)).status());

  weave::kube::EventHandler ignore;
  weave::kube::ReflectorOptions reflector_options;
  reflector_options.backoff.initial = absl::Milliseconds(100);
  reflector_options.backoff.max = absl::Seconds(1);
  weave::kube::Reflector reflector(client.get(), kConfigMaps, &ignore, reflector_options);
  reflector.Start();
  auto matches_server = [&] {
    absl::StatusOr<weave::kube::ObjectList> truth = client->List(kConfigMaps);
    if (!truth.ok()) return false;
    std::vector<nlohmann::json> cached = reflector.List();
    return reflector.synced() && cached.size() == Versions(cached).size() &&
           Versions(cached) == Versions(truth->items);
  };
  REQUIRE_OK(WaitFor(matches_server, absl::Seconds(10), "the first list"));

  // Changes while watching, then the server restarts (its watch history gone, as a real
  // server's watch cache is), with changes made while it was down, then more after.
  REQUIRE_OK(client->Create(kConfigMaps, ConfigMap(5)).status());
  REQUIRE_OK(client->Delete(absl::StrCat(kConfigMaps, "/cm0")));
  server->Stop();
  REQUIRE_OK(server->store().Put(ConfigMap(6)).status());
  nlohmann::json changed = ConfigMap(1);
  changed["data"]["i"] = "changed while down";
  REQUIRE_OK(server->store().Put(changed).status());
  REQUIRE_OK(server->Start());
  REQUIRE_OK(client->Create(kConfigMaps, ConfigMap(7)).status());
  REQUIRE_OK(client->Delete(absl::StrCat(kConfigMaps, "/cm2")));

  REQUIRE_OK(WaitFor(matches_server, absl::Seconds(20), "the reflector to catch up"));
  std::optional<nlohmann::json> one = reflector.Get("default/cm1");
  REQUIRE(one.has_value());
  CHECK((*one)["data"]["i"] == "changed while down");
  CHECK_FALSE(reflector.Get("default/cm0").has_value());
  CHECK_FALSE(reflector.Get("default/cm2").has_value());
  reflector.Stop();
}

}  // namespace
}  // namespace weave::testing
