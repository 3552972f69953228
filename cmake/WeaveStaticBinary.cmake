# weave_cc_static_binary(NAME weaver SRCS main.cc DEPS weave_router weave_cli_lib)
#
# Like weave_cc_binary, but the system libraries named in WEAVE_STATIC_LIBRARIES are linked from
# their static archives, and gRPC is its _unsecure variant (same headers, no OpenSSL: our gRPC is a
# local unix socket; code that asks for TLS credentials fails to link). Why: every shared library
# costs each process the pages the loader touches to relocate it, resolve its symbols and run its
# initialisers; linked in with --gc-sections, only the code used is mapped. A weaver in a mesh of
# ten went from 25 MB resident to 19 MB, and the CLI starts in a third of the time.
#
# The rest stays shared: Debian ships no static spdlog, fmt, cpp-httplib or libmnl, and while they
# are shared so are libstdc++ and glibc (so NSS and getaddrinfo work as in any dynamic binary).
# A new dependency is shared until its library is named below; name it only if its archive's own
# dependencies reach the link (a PkgConfig:: target's static closure does, and so do the imported
# targets of gRPC's and abseil's CMake packages).
#
# DEPS and everything they link must be targets defined before the call.

# Library names (lib<name>.a), matched whole: gRPC and the libraries only it uses, protobuf,
# abseil, SQLite, libsodium and libnftnl.
set(WEAVE_STATIC_LIBRARIES grpc_unsecure grpc\\+\\+_unsecure grpc\\+\\+_reflection gpr upb
    address_sorting re2 cares z protobuf absl_.* sqlite3 sodium nftnl)

function(weave_cc_static_binary)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  # The sources get the usage requirements of DEPS (include directories, definitions, generated
  # headers first); an object library's link dependencies reach no target built from its objects.
  add_library(${ARG_NAME}_objects OBJECT ${ARG_SRCS})
  _weave_common_options(${ARG_NAME}_objects)
  target_link_libraries(${ARG_NAME}_objects PRIVATE ${ARG_DEPS})

  _weave_static_link_closure(own static shared ${ARG_DEPS})
  add_executable(${ARG_NAME} $<TARGET_OBJECTS:${ARG_NAME}_objects>)
  add_dependencies(${ARG_NAME} ${own})
  list(TRANSFORM own REPLACE "^(.+)$" "$<TARGET_FILE:\\1>")
  # pack-relative-relocs (DT_RELR, glibc 2.36) keeps the PIE's relocations to a few kilobytes
  # instead of a third of a megabyte the loader reads at every start.
  target_link_options(${ARG_NAME} PRIVATE -Wl,--gc-sections -Wl,-z,pack-relative-relocs)
  target_link_libraries(${ARG_NAME} PRIVATE
    -Wl,--start-group ${own} ${static} -Wl,--end-group ${shared})
endfunction()

# Walks the link dependencies of the targets in ARGN, breadth first, and sorts what it meets into
# our own static libraries (target names), system libraries' static archives (paths) and what stays
# shared (library paths, -l names and linker flags, in the order met).
function(_weave_static_link_closure out_own out_static out_shared)
  list(JOIN WEAVE_STATIC_LIBRARIES "|" static_names)
  set(queue ${ARGN})
  set(seen "")
  set(own "")
  set(static "")
  set(shared "")
  set(shared_names "")
  while(queue)
    list(POP_FRONT queue item)
    if(item MATCHES "^\\$<LINK_ONLY:(.+)>$")
      set(item "${CMAKE_MATCH_1}")
    endif()
    if(item MATCHES "^gRPC::grpc(\\+\\+)?$")
      set(item "${item}_unsecure")
    endif()
    if(item IN_LIST seen)
      continue()
    endif()
    list(APPEND seen "${item}")

    set(libs "")  # the library paths or names that item stands for
    if(item MATCHES "^PkgConfig::(.+)$")
      # The target carries the shared link line; a static archive also needs Libs.private.
      set(prefix ${CMAKE_MATCH_1})
      list(GET ${prefix}_LIBRARIES 0 main)
      if(main MATCHES "^(${static_names})$")
        set(libs ${${prefix}_STATIC_LIBRARIES})
        list(APPEND shared ${${prefix}_STATIC_LDFLAGS_OTHER})
      else()
        get_target_property(libs ${item} INTERFACE_LINK_LIBRARIES)
        get_target_property(options ${item} INTERFACE_LINK_OPTIONS)
        if(options)
          list(APPEND shared ${options})
        endif()
      endif()
    elseif(TARGET ${item})
      get_target_property(imported ${item} IMPORTED)
      get_target_property(type ${item} TYPE)
      if(imported)
        get_target_property(location ${item} IMPORTED_LOCATION)
        get_target_property(configs ${item} IMPORTED_CONFIGURATIONS)
        if(NOT location AND configs)
          list(GET configs 0 config)
          get_target_property(location ${item} IMPORTED_LOCATION_${config})
        endif()
        if(location)
          set(libs ${location})
        endif()
        get_target_property(deps ${item} INTERFACE_LINK_LIBRARIES)
      elseif(type STREQUAL "STATIC_LIBRARY")
        list(APPEND own ${item})
        get_target_property(deps ${item} LINK_LIBRARIES)
      elseif(type STREQUAL "INTERFACE_LIBRARY")
        get_target_property(deps ${item} INTERFACE_LINK_LIBRARIES)
      else()
        message(FATAL_ERROR "weave_cc_static_binary: cannot link ${type} ${item}")
      endif()
      if(deps)
        list(APPEND queue ${deps})
      endif()
    else()
      set(libs ${item})
    endif()

    foreach(lib IN LISTS libs)
      if(lib MATCHES "^(-l)?([^-/$][^/]*)$")  # a name: m, -lm
        set(name ${CMAKE_MATCH_2})
      elseif(lib MATCHES "/lib([^/]+)\\.(so|a)[.0-9]*$")  # a path
        set(name ${CMAKE_MATCH_1})
      else()  # a linker flag or a generator expression
        list(APPEND shared ${lib})
        continue()
      endif()
      if(name IN_LIST shared_names)
        continue()
      elseif(name MATCHES "^(${static_names})$")
        find_library(archive_${name} NAMES lib${name}.a REQUIRED NO_CACHE)
        list(APPEND static ${archive_${name}})
        continue()
      endif()
      list(APPEND shared_names ${name})
      if(lib MATCHES "/")
        list(APPEND shared ${lib})
      else()
        list(APPEND shared -l${name})
      endif()
    endforeach()
  endwhile()
  list(REMOVE_DUPLICATES static)
  set(${out_own} ${own} PARENT_SCOPE)
  set(${out_static} ${static} PARENT_SCOPE)
  set(${out_shared} ${shared} PARENT_SCOPE)
endfunction()
