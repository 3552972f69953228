#include "npc/router_endpoints.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "npc/router_report.h"
#include "spdlog/spdlog.h"

namespace weave::npc {

absl::StatusOr<LocalEndpoint> ToLocalEndpoint(const v1::Endpoint& endpoint) {
  const std::string id = absl::StrCat(endpoint.container_id(), "/", endpoint.ifname());
  if (endpoint.container_id().empty()) {
    return absl::InvalidArgumentError("endpoint without a container ID");
  }
  if (endpoint.addresses().empty()) {
    return absl::InvalidArgumentError(absl::StrCat("endpoint ", id, " has no address"));
  }
  // "10.32.0.5/12": the address, without the range's prefix length.
  const std::string address(
      std::vector<absl::string_view>(absl::StrSplit(endpoint.addresses(0), '/'))[0]);
  absl::StatusOr<net::Ipv4> ip = net::Ipv4::Parse(address);
  if (!ip.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("endpoint ", id, ": address \"",
                                                   endpoint.addresses(0), "\" is not IPv4"));
  }
  LocalEndpoint out{id, "", *ip};
  if (!endpoint.pod_namespace().empty() && !endpoint.pod_name().empty()) {
    out.pod_key = absl::StrCat(endpoint.pod_namespace(), "/", endpoint.pod_name());
  }
  return out;
}

EndpointWatcher::EndpointWatcher(const std::string& socket, Controller* controller)
    : path_(RouterSocketPath(socket)),
      controller_(controller),
      stub_(v1::Router::NewStub(grpc::CreateChannel(absl::StrCat("unix:", path_),
                                                    grpc::InsecureChannelCredentials()))) {}

EndpointWatcher::~EndpointWatcher() { Stop(); }

void EndpointWatcher::Start() { thread_ = std::thread([this] { Run(); }); }

void EndpointWatcher::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (context_ != nullptr) context_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

bool EndpointWatcher::synced() const {
  absl::MutexLock lock(&mu_);
  return synced_;
}

void EndpointWatcher::Run() {
  absl::Duration pause = absl::Seconds(1);
  absl::Time last_complaint = absl::InfinitePast();
  while (true) {
    const absl::Time started = absl::Now();
    absl::Status ended = WatchOnce();
    absl::MutexLock lock(&mu_);
    synced_ = false;
    if (stopping_) return;
    // A stream that lived a while was a working one: start the pauses over.
    if (absl::Now() - started > absl::Seconds(30)) pause = absl::Seconds(1);
    if (absl::Now() - last_complaint > absl::Minutes(1)) {
      spdlog::warn(
          "the router's endpoint stream at {}: {}; subscribing again (new pods wait at the "
          "router's gate until weave-npc hears of them)",
          path_, std::string(ended.message()));
      last_complaint = absl::Now();
    }
    const auto stopping = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_; };
    if (mu_.AwaitWithTimeout(absl::Condition(&stopping), pause)) return;
    pause = std::min(pause * 2, absl::Seconds(10));
  }
}

absl::Status EndpointWatcher::WatchOnce() {
  grpc::ClientContext context;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::OkStatus();
    context_ = &context;
  }
  std::unique_ptr<grpc::ClientReader<v1::EndpointEvent>> reader =
      stub_->WatchEndpoints(&context, v1::WatchEndpointsRequest());
  std::vector<LocalEndpoint> initial;
  bool synced = false;
  v1::EndpointEvent event;
  while (reader->Read(&event)) {
    if (event.type() == v1::EndpointEvent::SYNCED) {
      if (!synced) {
        spdlog::info("the router reports {} local endpoint(s)", initial.size());
        // Under the lock, so that synced() is true as soon as the controller has the list
        // (Controller never calls back into the watcher).
        absl::MutexLock lock(&mu_);
        controller_->ReplaceEndpoints(std::exchange(initial, {}));
        synced = true;
        synced_ = true;
      }
      continue;
    }
    absl::StatusOr<LocalEndpoint> endpoint = ToLocalEndpoint(event.endpoint());
    if (!endpoint.ok()) {
      spdlog::warn("ignoring an endpoint event from the router: {}",
                   std::string(endpoint.status().message()));
      continue;
    }
    if (event.type() == v1::EndpointEvent::ADDED) {
      if (synced) {
        controller_->UpsertEndpoint(std::move(*endpoint));
      } else {
        initial.push_back(std::move(*endpoint));
      }
    } else if (event.type() == v1::EndpointEvent::REMOVED) {
      if (synced) {
        controller_->RemoveEndpoint(endpoint->id);
      } else {
        std::erase_if(initial, [&](const LocalEndpoint& e) { return e.id == endpoint->id; });
      }
    }
  }
  const grpc::Status status = reader->Finish();
  absl::MutexLock lock(&mu_);
  context_ = nullptr;
  if (stopping_) return absl::OkStatus();
  return absl::UnavailableError(
      status.ok() ? std::string("the router ended the stream") : status.error_message());
}

}  // namespace weave::npc
