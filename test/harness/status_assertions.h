#pragma once

// Catch2 assertions for absl::Status and absl::StatusOr that print the status when they fail,
// where a bare REQUIRE(status.ok()) would only print "false".
//
//   REQUIRE_OK(cluster->Teardown());
//   CHECK_OK(node.Exec({"true"}));
//   ASSIGN_OR_REQUIRE(std::unique_ptr<NetnsCluster> cluster, NetnsCluster::Create(2));

#include <catch2/catch.hpp>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace Catch {
template <>
struct StringMaker<absl::Status> {
  static std::string convert(const absl::Status& status) { return status.ToString(); }
};
}  // namespace Catch

namespace weave::testing::internal {
inline absl::Status StatusOf(const absl::Status& status) { return status; }
template <typename T>
absl::Status StatusOf(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}
}  // namespace weave::testing::internal

// Fails the test case (REQUIRE_OK) or the assertion (CHECK_OK) unless `expr`, a Status or a
// StatusOr, is OK; the message shows the status.
#define REQUIRE_OK(expr) REQUIRE(::weave::testing::internal::StatusOf(expr) == ::absl::OkStatus())
#define CHECK_OK(expr) CHECK(::weave::testing::internal::StatusOf(expr) == ::absl::OkStatus())

// Declares or assigns `lhs` from the value of the StatusOr `expr`, or fails the test case with
// its status.
#define ASSIGN_OR_REQUIRE(lhs, expr) \
  WEAVE_ASSIGN_OR_REQUIRE_IMPL_(WEAVE_TEST_CONCAT_(weave_status_or_, __LINE__), lhs, expr)

#define WEAVE_TEST_CONCAT_INNER_(a, b) a##b
#define WEAVE_TEST_CONCAT_(a, b) WEAVE_TEST_CONCAT_INNER_(a, b)
#define WEAVE_ASSIGN_OR_REQUIRE_IMPL_(status_or, lhs, expr) \
  auto status_or = (expr);                                  \
  REQUIRE_OK(status_or);                                    \
  lhs = std::move(status_or).value()
