# Small helpers so that every component's CMakeLists.txt reads the same way.
#
#   weave_cc_library(NAME name SRCS a.cc b.cc DEPS other_lib absl::status)
#   weave_cc_binary(NAME name SRCS main.cc DEPS lib)
#   weave_cc_static_binary(NAME name SRCS main.cc DEPS lib)   (cmake/WeaveStaticBinary.cmake)
#   weave_cc_test(NAME name SRCS a_test.cc DEPS lib [LABELS netns])
#
# Our own targets build with warnings as errors; third-party headers are system headers.

# GCC 12's -Wmaybe-uninitialized reports std::variant/optional/StatusOr members at -O2 that are
# always initialised (false positives); -Wuninitialized stays on.
set(WEAVE_WARNINGS -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
    -Wno-maybe-uninitialized)

function(_weave_common_options target)
  target_compile_options(${target} PRIVATE ${WEAVE_WARNINGS})
  target_compile_definitions(${target} PRIVATE WEAVE_VERSION="${PROJECT_VERSION}")
endfunction()

function(weave_cc_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_library(${ARG_NAME} STATIC ${ARG_SRCS})
  _weave_common_options(${ARG_NAME})
  target_link_libraries(${ARG_NAME} PUBLIC ${ARG_DEPS})
endfunction()

function(weave_cc_binary)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  _weave_common_options(${ARG_NAME})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS})
endfunction()

# Unit tests carry the CTest label "unit"; kernel tests pass LABELS netns and run as root.
# PREFIX (optional) starts every discovered test's name, so that `ctest -R '^prefix'` selects a
# component's tests.
function(weave_cc_test)
  cmake_parse_arguments(ARG "" "NAME;PREFIX" "SRCS;DEPS;LABELS" ${ARGN})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  add_executable(${ARG_NAME} ${ARG_SRCS})
  _weave_common_options(${ARG_NAME})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} weave_catch_main)
  set(_props LABELS "${ARG_LABELS}")
  if("netns" IN_LIST ARG_LABELS)
    # Kernel tests share the machine's network stack state (namespaces, modules): run them
    # one at a time and sweep leftovers of interrupted runs before and after.
    list(APPEND _props RUN_SERIAL TRUE FIXTURES_REQUIRED netns_sweep)
  endif()
  # --warn NoTests: a name CTest cannot pass through intact fails instead of passing empty.
  catch_discover_tests(${ARG_NAME} EXTRA_ARGS --warn NoTests TEST_PREFIX "${ARG_PREFIX}"
    PROPERTIES ${_props})
endfunction()

include(WeaveStaticBinary)
