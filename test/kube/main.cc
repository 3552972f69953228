// fake-apiserver: the fake Kubernetes API server (fake_apiserver.h) as a process, for kernel
// tests and the demo. Writes a kubeconfig once it listens (tests wait for that file), keeps its
// objects in a state file so that a restart resumes with them, and stops on SIGTERM or SIGINT.
//
//   fake-apiserver --dir /tmp/k8s [--port 6443] [--ip 10.32.0.1] [--seed objects.json]
//                  [--rbac] [--service-account-token TOKEN=kube-system/weave-net]...
//                  [--rbac-objects weave-daemonset.yaml]
#include <signal.h>

#include <cstdio>
#include <filesystem>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "test/kube/fake_apiserver.h"
#include "test/kube/manifest.h"
#include "test/kube/object_meta.h"

namespace {

using weave::testing::kube::FakeApiServer;
using weave::testing::kube::FakeApiServerOptions;
using weave::testing::kube::IsRbacObject;
using weave::testing::kube::MetaString;
using weave::testing::kube::ReadManifest;
using weave::testing::kube::Store;
using weave::testing::kube::StringField;

int Fail(const std::string& message) {
  std::fprintf(stderr, "fake-apiserver: %s\n", message.c_str());
  return 1;
}

// Puts the manifest's ServiceAccounts and RBAC objects (at every start: they replace what a
// state file kept) and says which other objects it skipped.
absl::Status LoadRbacObjects(const std::string& path, Store& store) {
  absl::StatusOr<std::vector<nlohmann::json>> objects = ReadManifest(path);
  if (!objects.ok()) return objects.status();
  nlohmann::json rbac = nlohmann::json::array();
  for (const nlohmann::json& object : *objects) {
    if (IsRbacObject(object)) {
      rbac.push_back(object);
    } else {
      std::fprintf(stderr, "fake-apiserver: --rbac-objects %s: skipping %s %s\n", path.c_str(),
                   StringField(object, "kind").c_str(), MetaString(object, "name").c_str());
    }
  }
  return store.Seed(rbac);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fake-apiserver: a fake Kubernetes API server for tests"};
  FakeApiServerOptions options;
  std::string kubeconfig, kubeconfig_host, seed;
  std::vector<std::string> service_account_tokens;
  std::string rbac_objects;
  int bookmark_ms = 1000;
  bool quiet = false;
  bool stateless = false;
  app.add_option("--dir", options.dir, "directory for the CA, certificates, kubeconfig, state")
      ->required();
  app.add_option("--listen-host", options.listen_host, "address to listen on")
      ->capture_default_str();
  app.add_option("--port", options.port, "port (0: any free port)")->capture_default_str();
  app.add_option("--ip", options.ips, "another address for the server certificate (repeatable)");
  app.add_option("--token", options.token, "the admin's bearer token (in the kubeconfig)")
      ->capture_default_str();
  app.add_option("--service-account-token", service_account_tokens,
                 "TOKEN=NAMESPACE/NAME: a bearer token of that service account (repeatable)");
  app.add_flag("--rbac", options.rbac,
               "authorize requests with the stored RBAC objects (the --token admin is exempt)");
  app.add_option("--rbac-objects", rbac_objects,
                 "a manifest (YAML or JSON) whose ServiceAccounts and RBAC objects are loaded at "
                 "every start; other kinds are skipped");
  app.add_option("--kubeconfig", kubeconfig,
                 "where to write the kubeconfig (default DIR/kubeconfig)");
  app.add_option("--kubeconfig-host", kubeconfig_host,
                 "the server address in the kubeconfig (default: the listen address)");
  app.add_option("--state-file", options.store.state_file,
                 "objects and resourceVersion across restarts (default DIR/state.json)");
  app.add_flag("--stateless", stateless, "keep no state file");
  app.add_option("--seed", seed,
                 "a manifest (YAML or JSON: array or List) of objects to load at the first start "
                 "(no state file yet)");
  app.add_option("--bookmark-interval-ms", bookmark_ms, "BOOKMARK interval for watches that ask")
      ->capture_default_str();
  app.add_option("--history-limit", options.store.history_limit, "events kept for watches")
      ->capture_default_str();
  app.add_flag("--expire-old-list-versions", options.store.expire_old_list_versions,
               "answer a LIST at a resourceVersion older than the history with 410");
  app.add_flag("--quiet", quiet, "do not log each request to stderr");
  CLI11_PARSE(app, argc, argv);

  for (const std::string& flag : service_account_tokens) {
    const size_t equals = flag.find('=');
    absl::StatusOr<weave::testing::kube::UserInfo> user =
        weave::testing::kube::ParseServiceAccountRef(
            equals == std::string::npos ? "" : flag.substr(equals + 1));
    if (equals == 0 || !user.ok()) {
      return Fail(
          absl::StrCat("--service-account-token ", flag, ": expected TOKEN=NAMESPACE/NAME"));
    }
    options.token_users[flag.substr(0, equals)] = *std::move(user);
  }
  if (kubeconfig.empty()) kubeconfig = options.dir + "/kubeconfig";
  if (options.store.state_file.empty() && !stateless) {
    options.store.state_file = options.dir + "/state.json";
  }
  if (stateless) options.store.state_file.clear();
  options.bookmark_interval = absl::Milliseconds(bookmark_ms);
  if (!quiet) {
    options.on_request = [](const std::string& line) {
      std::fprintf(stderr, "fake-apiserver: %s\n", line.c_str());
    };
  }
  const bool fresh =
      options.store.state_file.empty() || !std::filesystem::exists(options.store.state_file);

  // Signals are taken by sigwait below, so block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<std::unique_ptr<FakeApiServer>> server = FakeApiServer::Create(options);
  if (!server.ok()) return Fail(std::string(server.status().message()));
  if (!seed.empty() && fresh) {
    absl::StatusOr<std::vector<nlohmann::json>> objects = ReadManifest(seed);
    if (!objects.ok()) return Fail(std::string(objects.status().message()));
    if (absl::Status s = (*server)->store().Seed(*objects); !s.ok()) {
      return Fail(std::string(s.message()));
    }
  }
  if (!rbac_objects.empty()) {
    if (absl::Status s = LoadRbacObjects(rbac_objects, (*server)->store()); !s.ok()) {
      return Fail(std::string(s.message()));
    }
  }
  if (absl::Status s = (*server)->Start(); !s.ok()) return Fail(std::string(s.message()));
  if (absl::Status s = (*server)->WriteKubeconfig(kubeconfig, kubeconfig_host); !s.ok()) {
    return Fail(std::string(s.message()));
  }
  std::fprintf(stderr, "fake-apiserver: serving %s (kubeconfig %s)\n", (*server)->url().c_str(),
               kubeconfig.c_str());
  int signal = 0;
  sigwait(&signals, &signal);
  std::fprintf(stderr, "fake-apiserver: stopping on signal %d\n", signal);
  (*server)->Stop();
  return 0;
}
