// An in-process fake API server for one test case, with a client and a kubeconfig for it.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "test/harness/status_assertions.h"
#include "test/kube/api_test_client.h"
#include "test/kube/fake_apiserver.h"
#include "test/kube/test_dir.h"

namespace weave::testing::kube {

struct ServerFixture {
  explicit ServerFixture(FakeApiServerOptions options = {}) {
    options.dir = dir.path() + "/pki";
    ASSIGN_OR_REQUIRE(server, FakeApiServer::Create(options));
    REQUIRE_OK(server->Start());
    kubeconfig = dir.path() + "/kubeconfig";
    REQUIRE_OK(server->WriteKubeconfig(kubeconfig));
    client = NewClient(server->token());
  }
  std::unique_ptr<ApiTestClient> NewClient(const std::string& token) {
    return std::make_unique<ApiTestClient>(server->url(), server->pki().ca_cert_path, token);
  }
  std::unique_ptr<WatchReader> Watch(const std::string& path_and_query) {
    return std::make_unique<WatchReader>(server->url(), server->pki().ca_cert_path, server->token(),
                                         path_and_query);
  }
  ApiAnswer CreateConfigMap(const std::string& name, const std::string& ns = "default") {
    return client->Post(absl::StrCat("/api/v1/namespaces/", ns, "/configmaps"),
                        {{"apiVersion", "v1"},
                         {"kind", "ConfigMap"},
                         {"metadata", {{"name", name}, {"labels", {{"app", name}}}}},
                         {"data", {{"k", "v"}}}});
  }
  // A pod the Python client can read (its models require spec.containers).
  ApiAnswer CreatePod(const std::string& name, const std::string& ns = "default") {
    return client->Post(absl::StrCat("/api/v1/namespaces/", ns, "/pods"),
                        {{"metadata", {{"name", name}}},
                         {"spec", {{"containers", {{{"name", "c"}, {"image", "busybox"}}}}}}});
  }
  // Whether a request line starting with `prefix` reached the server (a client's watch is open).
  bool Requested(const std::string& prefix) const {
    for (const std::string& line : server->RecentRequests()) {
      if (line.rfind(prefix, 0) == 0) return true;
    }
    return false;
  }

  TestDir dir;
  std::unique_ptr<FakeApiServer> server;
  std::string kubeconfig;
  std::unique_ptr<ApiTestClient> client;
};

}  // namespace weave::testing::kube
