// weave: the debug CLI. Talks to the local router over its gRPC socket.
//
//   weave [--local] [--socket PATH] status [peers|connections|targets|ipam]
//   weave report
//   weave version
#include <iostream>
#include <string>

#include <google/protobuf/util/json_util.h>

#include "CLI/CLI.hpp"
#include "router/cli/client.h"
#include "router/config.h"
#include "router/status/render.h"

namespace {

int Fail(const absl::Status& status) {
  std::cerr << "weave: " << status.message() << std::endl;
  return 1;
}

int Status(weave::cli::RouterClient& client, const std::string& sub) {
  using namespace weave::status;
  std::string (*render)(const weave::v1::Status&) = nullptr;
  if (sub.empty()) {
    render = RenderStatus;
  } else if (sub == "peers") {
    render = RenderPeers;
  } else if (sub == "connections") {
    render = RenderConnections;
  } else if (sub == "targets") {
    render = RenderTargets;
  } else if (sub == "ipam") {
    render = RenderIpam;
  } else {
    std::cerr << "Invalid 'weave status' sub-command: " << sub << "\n"
              << "Usage: weave status [peers|connections|targets|ipam]" << std::endl;
    return 1;
  }
  absl::StatusOr<weave::v1::Status> status = client.GetStatus();
  if (!status.ok()) return Fail(status.status());
  if (sub.empty()) {
    // The top-level block is framed by blank lines, as the original printed it.
    std::cout << "\n" << RenderStatus(*status) << "\n";
  } else {
    std::cout << render(*status);
  }
  return 0;
}

int Report(weave::cli::RouterClient& client) {
  absl::StatusOr<weave::v1::Status> status = client.GetStatus();
  if (!status.ok()) return Fail(status.status());
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  if (auto result = google::protobuf::util::MessageToJsonString(*status, &json, options);
      !result.ok()) {
    return Fail(absl::InternalError(std::string(result.message())));
  }
  std::cout << json;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"weave: inspect and manage the local Weave Net router"};
  app.require_subcommand(1);
  std::string socket = weave::router::kDefaultSocket;
  bool local = false;
  app.add_option("--socket", socket, "The router's API socket")->envname("WEAVE_SOCKET");
  // Accepted for compatibility: the spec runs `weave --local status` inside the container.
  app.add_flag("--local", local, "Run in place (always the case)");

  std::string sub;
  CLI::App* status = app.add_subcommand("status", "Show the router's status");
  status->add_option("what", sub, "peers, connections, targets or ipam");
  CLI::App* report = app.add_subcommand("report", "Print the full status as JSON");
  CLI::App* version = app.add_subcommand("version", "Print the version");
  CLI11_PARSE(app, argc, argv);

  weave::cli::RouterClient client(socket, absl::Seconds(5));
  if (status->parsed()) return Status(client, sub);
  if (report->parsed()) return Report(client);
  if (version->parsed()) {
    std::cout << "weave " << WEAVE_VERSION << std::endl;
    return 0;
  }
  return 1;
}
