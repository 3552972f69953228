// RETURN_IF_ERROR / ASSIGN_OR_RETURN for absl::Status, which our abseil (20220623) lacks.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define WEAVE_CONCAT_INNER_(a, b) a##b
#define WEAVE_CONCAT_(a, b) WEAVE_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function when `expr` is not OK.
#define RETURN_IF_ERROR(expr)                  \
  do {                                         \
    if (absl::Status _st = (expr); !_st.ok()) { \
      return _st;                              \
    }                                          \
  } while (0)

// ASSIGN_OR_RETURN(auto x, Foo()); declares/assigns `x` from a StatusOr or returns its error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  WEAVE_ASSIGN_OR_RETURN_IMPL_(WEAVE_CONCAT_(_statusor_, __LINE__), lhs, expr)

#define WEAVE_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                 \
  if (!statusor.ok()) {                                   \
    return std::move(statusor).status();                  \
  }                                                       \
  lhs = std::move(statusor).value()
