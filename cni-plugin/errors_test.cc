#include "cni-plugin/errors.h"

#include <catch2/catch.hpp>

#include "cni-plugin/testing/test_util.h"

namespace weave::cni {
namespace {

using testing::Json;

TEST_CASE("CniErrorFromStatus maps status codes to the spec's codes", "[errors]") {
  struct Case {
    absl::Status status;
    int code;
  };
  const Case cases[] = {
      {absl::UnavailableError("down"), kErrTryAgainLater},
      {absl::DeadlineExceededError("slow"), kErrTryAgainLater},
      {absl::AbortedError("conflict"), kErrTryAgainLater},
      {absl::ResourceExhaustedError("no space yet"), kErrTryAgainLater},
      {absl::NotFoundError("no such container"), kErrUnknownContainer},
      {absl::InvalidArgumentError("bad"), kErrInvalidConfig},
      {absl::OutOfRangeError("mtu"), kErrInvalidConfig},
      {absl::FailedPreconditionError("mismatch"), kErrInternal},
      {absl::UnimplementedError("old router"), kErrInternal},
      {absl::InternalError("bug"), kErrInternal},
      {absl::UnknownError("?"), kErrInternal},
  };
  for (const Case& c : cases) {
    INFO(c.status.ToString());
    CHECK(CniErrorFromStatus(c.status).code == c.code);
    CHECK(CniErrorFromStatus(c.status).msg == c.status.message());
  }
}

TEST_CASE("An explicit CNI code and details win over the mapping", "[errors]") {
  const absl::Status status = WithCniDetails(
      WithCniCode(absl::UnavailableError("router not ready"), kErrPluginNotAvailable),
      "waiting for ipam");
  CHECK(CniErrorFromStatus(status) ==
        CniError{kErrPluginNotAvailable, "router not ready", "waiting for ipam"});
  CHECK(CniErrorFromStatus(CniStatus(kErrDecoding, "bad json")) ==
        CniError{kErrDecoding, "bad json", ""});
}

TEST_CASE("Prefixed keeps the code and the payloads", "[errors]") {
  const absl::Status inner = WithCniDetails(CniStatus(kErrInvalidConfig, "field x"), "why");
  const absl::Status outer = Prefixed("ipam plugin host-local: ", inner);
  CHECK(outer.code() == inner.code());
  CHECK(CniErrorFromStatus(outer) ==
        CniError{kErrInvalidConfig, "ipam plugin host-local: field x", "why"});
}

TEST_CASE("Error messages stay on one line", "[errors]") {
  const CniError error =
      CniErrorFromStatus(WithCniDetails(absl::InternalError("line one\nline two"), "a\r\nb"));
  CHECK(error.msg == "line one line two");
  CHECK(error.details == "a b");
  CHECK(CniErrorFromStatus(absl::InternalError("")).msg == "INTERNAL");
}

TEST_CASE("RenderError prints cniVersion, code, msg and details", "[errors]") {
  CHECK(RenderError({kErrTryAgainLater, "try again", ""}, "0.3.1") ==
        R"({"cniVersion":"0.3.1","code":11,"details":"","msg":"try again"})");
  // Bytes that are not UTF-8 (from a plugin's or router's message) do not break the document.
  const nlohmann::json document =
      Json(RenderError({kErrInternal, std::string("bad \xff byte"), "\xfe"}, "1.1.0"));
  REQUIRE(document.is_object());
  CHECK(document["code"] == 999);
}

}  // namespace
}  // namespace weave::cni
