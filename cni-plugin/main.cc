// weave-net: the CNI plugin the container runtime runs for every pod; weave-ipam when invoked
// under that name (a symlink or copy). Reads the CNI environment and stdin, makes one call to the
// router over its unix socket, prints the result or a CNI error (plugin.h).
//
// Linked fully statically: it runs on the host OS, whatever its libraries.
#include <grpc/event_engine/event_engine.h>
#include <malloc.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cni-plugin/alarm_event_engine.h"
#include "cni-plugin/errors.h"
#include "cni-plugin/grpc_router_client.h"
#include "cni-plugin/ipam_delegate.h"
#include "cni-plugin/plugin.h"

extern char** environ;

namespace {

// No network configuration is anywhere near this; more is not one.
constexpr size_t kMaxStdin = 4 << 20;

// How long a delegated IPAM plugin (host-local, dhcp, ...) may take.
constexpr absl::Duration kIpamTimeout = absl::Seconds(60);

absl::StatusOr<std::string> ReadStdin() {
  std::string data;
  char buffer[16384];
  while (true) {
    const ssize_t n = read(STDIN_FILENO, buffer, sizeof buffer);
    if (n == 0) return data;
    if (n < 0) {
      if (errno == EINTR) continue;
      return weave::cni::WithCniCode(absl::ErrnoToStatus(errno, "reading stdin"),
                                     weave::cni::kErrIo);
    }
    data.append(buffer, n);
    if (data.size() > kMaxStdin) {
      return weave::cni::CniStatus(weave::cni::kErrDecoding,
                                   "the network configuration on stdin is larger than 4 MiB");
    }
  }
}

void Write(FILE* stream, const std::string& text) {
  if (!text.empty()) fwrite(text.data(), 1, text.size(), stream);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace weave::cni;
  // grpc_init starts threads (executor, timer) that this one call barely uses. By default each
  // thread's first allocation creates a malloc arena of its own (mmap, trim, fault in); one shared
  // arena makes their start-up and exit measurably cheaper. Must precede the first thread.
  mallopt(M_ARENA_MAX, 1);
  Invocation invocation;
  invocation.mode = ModeFromProgramName(argc > 0 ? argv[0] : "");
  std::vector<std::string> environment;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    environment.emplace_back(*entry);
    const char* eq = std::strchr(*entry, '=');
    if (eq != nullptr)
      invocation.env.emplace(std::string(*entry, eq - *entry), std::string(eq + 1));
  }

  // VERSION run by hand from a terminal should not wait for input.
  const auto command = invocation.env.find("CNI_COMMAND");
  const bool version_at_terminal =
      command != invocation.env.end() && command->second == "VERSION" && isatty(STDIN_FILENO);
  if (!version_at_terminal) {
    absl::StatusOr<std::string> data = ReadStdin();
    if (!data.ok()) {
      Write(stdout,
            RenderError(CniErrorFromStatus(data.status()), VersionString(kLatestVersion)) + "\n");
      return 1;
    }
    invocation.stdin_data = *std::move(data);
  }

  ExecIpamDelegate ipam(std::move(environment), kIpamTimeout);
  // Kept until exit: see below.
  std::shared_ptr<RouterClient> router;
  const Dependencies deps{
      .router = [&router](const std::string& socket_path,
                          absl::Duration timeout) -> std::shared_ptr<RouterClient> {
        // Before the client creates its channel: see alarm_event_engine.h.
        grpc_event_engine::experimental::SetEventEngineFactory(
            [] { return std::make_unique<AlarmEventEngine>(); });
        router = std::make_shared<GrpcRouterClient>(socket_path, timeout);
        return router;
      },
      .ipam = &ipam};
  const Outcome outcome = RunPlugin(invocation, deps);
  Write(stdout, outcome.output);
  if (!outcome.log.empty()) Write(stderr, outcome.log + "\n");
  std::fflush(stdout);
  std::fflush(stderr);
  // The runtime waits for our exit. Tearing gRPC down (closing the channel, joining its threads)
  // would add about a third to an ADD and achieve nothing the kernel does not do at exit.
  _exit(outcome.exit_code);
}
