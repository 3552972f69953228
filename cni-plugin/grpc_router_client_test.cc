#include "cni-plugin/grpc_router_client.h"

#include <catch2/catch.hpp>

#include "cni-plugin/testing/fake_router_server.h"
#include "cni-plugin/testing/test_util.h"
#include "test/harness/status_assertions.h"

namespace weave::cni {
namespace {

using ::Catch::Matchers::Contains;
using testing::CniCode;
using testing::FakeRouterServer;
using testing::ScratchDir;

TEST_CASE("GrpcRouterClient talks to the Router service on a unix socket", "[grpc]") {
  ScratchDir dir;
  ASSIGN_OR_REQUIRE(std::unique_ptr<FakeRouterServer> server,
                    FakeRouterServer::Start(dir.File("router.sock")));
  GrpcRouterClient client(dir.File("router.sock"), absl::Seconds(10));

  v1::AttachContainerRequest attach;
  attach.set_container_id("abc");
  attach.set_ifname("eth0");
  attach.set_netns("/ns");
  ASSIGN_OR_REQUIRE(const v1::AttachContainerResponse response, client.AttachContainer(attach));
  CHECK(response.ips(0).address() == "10.32.0.2/12");
  CHECK(server->router().last_attach().netns() == "/ns");

  v1::CheckContainerRequest check;
  check.set_container_id("other");
  check.set_ifname("eth0");
  const absl::Status unknown = client.CheckContainer(check);
  CHECK(unknown.code() == absl::StatusCode::kNotFound);
  CHECK(unknown.message() == "router: CheckContainer: container other has no interface eth0");

  ASSIGN_OR_REQUIRE(const v1::Status status, client.GetStatus());
  CHECK(status.ready());
  v1::DetachContainerRequest detach;
  detach.set_container_id("abc");
  detach.set_ifname("eth0");
  CHECK_OK(client.DetachContainer(detach));
  CHECK(server->router().calls() == std::vector<std::string>{"AttachContainer", "CheckContainer",
                                                             "GetStatus", "DetachContainer"});
}

TEST_CASE("No router on the socket is UNAVAILABLE naming the socket: try again later", "[grpc]") {
  ScratchDir dir;
  GrpcRouterClient client(dir.File("nothing.sock"), absl::Seconds(10));
  const absl::Time start = absl::Now();
  const absl::Status status = client.GetStatus().status();
  CHECK(absl::Now() - start < absl::Seconds(5));  // fails at once, not at the deadline
  CHECK(status.code() == absl::StatusCode::kUnavailable);
  CHECK(CniCode(status) == kErrTryAgainLater);
  const CniError error = CniErrorFromStatus(status);
  CHECK(error.msg == absl::StrCat("weave router is not running (nothing answers on ",
                                  dir.File("nothing.sock"), "); try again later"));
  CHECK_THAT(error.details, Contains("nothing.sock"));
}

TEST_CASE("A router that does not answer in time is DEADLINE_EXCEEDED, code 11", "[grpc]") {
  ScratchDir dir;
  ASSIGN_OR_REQUIRE(std::unique_ptr<FakeRouterServer> server,
                    FakeRouterServer::Start(dir.File("router.sock")));
  server->service().set_delay(absl::Seconds(2));
  GrpcRouterClient client(dir.File("router.sock"), absl::Milliseconds(200));
  v1::AttachContainerRequest attach;
  attach.set_container_id("abc");
  const absl::Status status = client.AttachContainer(attach).status();
  CHECK(status.code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(CniCode(status) == kErrTryAgainLater);
  CHECK_THAT(
      std::string(status.message()),
      Contains("did not answer AttachContainer within 200ms") && Contains(dir.File("router.sock")));
}

TEST_CASE("StatusFromGrpc keeps the router's code and message", "[grpc]") {
  const absl::Status status =
      StatusFromGrpc(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "netns gone"),
                     "AttachContainer", "/s", absl::Seconds(1));
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(status.message() == "router: AttachContainer: netns gone");
  CHECK_OK(StatusFromGrpc(grpc::Status::OK, "GetStatus", "/s", absl::Seconds(1)));
}

}  // namespace
}  // namespace weave::cni
