// weave-manifest: the install manifest for Weave Net, from the spec's query parameters.
//
//   weave-manifest [QUERY]                 prints the manifest
//   ("env.WEAVE_MTU=1337&disable-npc=true") weave-manifest --serve 127.0.0.1:8080  serves GET
//   /k8s/net?QUERY until SIGTERM or SIGINT
//
// A bad parameter is one line on stderr and exit status 2 (HTTP: 400 with that line).
#include <csignal>
#include <iostream>

#include "CLI/CLI.hpp"
#include "charts/generator/manifest.h"
#include "charts/generator/service.h"
#include "common/http/server.h"

namespace {

int Serve(const std::string& address_text) {
  absl::StatusOr<weave::http::ListenAddress> address =
      weave::http::ListenAddress::Parse(address_text);
  if (!address.ok()) {
    std::cerr << "weave-manifest: --serve: " << address.status().message() << "\n";
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before the server's threads start
  auto server = weave::http::Server::Start("the manifest generator", *address,
                                           {weave::charts::ManifestRoute()});
  if (!server.ok()) {
    std::cerr << "weave-manifest: " << server.status().message() << "\n";
    return 1;
  }
  std::cout << "weave-manifest: serving GET " << weave::charts::kManifestPath << " on "
            << address->host << ":" << (*server)->port() << std::endl;
  int signal = 0;
  sigwait(&signals, &signal);
  (*server)->Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"weave-manifest: the Weave Net install manifest from the spec's query parameters"};
  std::string query;
  std::string serve;
  app.add_option(
      "query", query,
      "Query parameters, as in /k8s/net?QUERY (e.g. 'env.WEAVE_MTU=1337&disable-npc=true')");
  app.add_option("--serve", serve, "Serve GET /k8s/net on host:port instead of printing")
      ->excludes("query");
  CLI11_PARSE(app, argc, argv);
  if (!serve.empty()) return Serve(serve);
  absl::StatusOr<std::string> manifest = weave::charts::GenerateManifest(query);
  if (!manifest.ok()) {
    std::cerr << "weave-manifest: " << manifest.status().message() << "\n";
    return 2;
  }
  std::cout << *manifest;
  return std::cout.flush() ? 0 : 1;
}
