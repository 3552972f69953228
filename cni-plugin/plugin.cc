#include "cni-plugin/plugin.h"

#include <optional>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cni-plugin/errors.h"
#include "cni-plugin/translate.h"
#include "common/status_macros.h"

namespace weave::cni {
namespace {

// Everything one command needs, parsed and validated.
struct Context {
  const Invocation& invocation;
  const NetConf& conf;
  const CniEnv& env;
  const CniArgs& args;
  RouterClient& router;
  IpamDelegate* ipam;
};

// DEL and release of something already gone succeed.
absl::Status IgnoreNotFound(absl::Status status) {
  return absl::IsNotFound(status) ? absl::OkStatus() : status;
}

absl::StatusOr<std::string> RunDelegate(const Context& c, Command command) {
  if (c.ipam == nullptr) return absl::InternalError("no IPAM delegate configured");
  return c.ipam->Run(c.conf.ipam.type, command, c.invocation.stdin_data);
}

// The delegated IPAM plugin's part of CHECK, GC and STATUS, if there is one.
absl::Status DelegateIfConfigured(const Context& c, Command command) {
  if (c.invocation.mode != Mode::kNet || !c.conf.ipam.delegated()) return absl::OkStatus();
  return RunDelegate(c, command).status();
}

// The delegated IPAM plugin's ADD result, which must hold at least one address.
absl::StatusOr<Result> ParseDelegatedResult(const Context& c, const std::string& output) {
  absl::StatusOr<Result> result = ParseResultText(output, "result");
  if (!result.ok()) {
    return Prefixed(absl::StrCat("ipam plugin ", c.conf.ipam.type, ": "), result.status());
  }
  if (result->ips.empty()) {
    return absl::InternalError(
        absl::StrCat("ipam plugin ", c.conf.ipam.type, " returned no IP addresses"));
  }
  return result;
}

absl::StatusOr<std::string> NetAdd(const Context& c) {
  std::optional<Result> delegated;
  bool release_delegated = false;
  // A failed ADD leaves nothing behind: the router rolls back its own half, this gives the
  // delegated address back.
  absl::Cleanup release = [&] {
    if (release_delegated) (void)RunDelegate(c, Command::kDel);
  };
  if (c.conf.ipam.delegated()) {
    ASSIGN_OR_RETURN(const std::string output, RunDelegate(c, Command::kAdd));
    release_delegated = true;
    ASSIGN_OR_RETURN(delegated, ParseDelegatedResult(c, output));
  }
  ASSIGN_OR_RETURN(const v1::AttachContainerResponse response,
                   c.router.AttachContainer(AttachRequest(c.conf, c.env, c.args, delegated)));
  release_delegated = false;
  Result ours = ResultFromAttach(response, c.conf, c.env, delegated);
  if (c.conf.prev_result.has_value()) ours = AppendResult(*c.conf.prev_result, ours);
  return RenderResult(ours, c.conf.version) + "\n";
}

absl::StatusOr<std::string> NetDel(const Context& c) {
  v1::DetachContainerRequest request;
  request.set_container_id(c.env.container_id);
  request.set_netns(c.env.netns);
  request.set_ifname(c.env.ifname);
  // Both halves run even if one fails, so that a retried DEL has less left to do.
  const absl::Status detached = IgnoreNotFound(c.router.DetachContainer(request));
  absl::Status released = absl::OkStatus();
  if (c.conf.ipam.delegated()) released = RunDelegate(c, Command::kDel).status();
  RETURN_IF_ERROR(detached);
  RETURN_IF_ERROR(released);
  return std::string();
}

absl::Status RequirePrevResult(const Context& c) {
  if (c.conf.prev_result.has_value()) return absl::OkStatus();
  return CniStatus(kErrInvalidConfig,
                   "CHECK needs prevResult (the result of the ADD) in the network configuration");
}

absl::StatusOr<std::string> NetCheck(const Context& c) {
  RETURN_IF_ERROR(RequirePrevResult(c));
  v1::CheckContainerRequest request;
  request.set_container_id(c.env.container_id);
  request.set_netns(c.env.netns);
  request.set_ifname(c.env.ifname);
  for (v1::IpConfig& ip : ExpectedIps(*c.conf.prev_result, c.env.ifname)) {
    *request.add_expected_ips() = std::move(ip);
  }
  RETURN_IF_ERROR(c.router.CheckContainer(request));
  RETURN_IF_ERROR(DelegateIfConfigured(c, Command::kCheck));
  return std::string();
}

absl::StatusOr<std::string> GarbageCollect(const Context& c) {
  if (!c.conf.valid_attachments.has_value()) {
    return CniStatus(kErrInvalidConfig,
                     "GC needs cni.dev/valid-attachments in the network configuration; without "
                     "it every attachment would be released");
  }
  RETURN_IF_ERROR(
      c.router.GarbageCollect(GarbageCollectRequest(*c.conf.valid_attachments)).status());
  RETURN_IF_ERROR(DelegateIfConfigured(c, Command::kGc));
  return std::string();
}

absl::StatusOr<std::string> Status(const Context& c) {
  absl::StatusOr<v1::Status> status = c.router.GetStatus();
  if (!status.ok()) return WithCniCode(status.status(), kErrPluginNotAvailable);
  if (!status->ready()) {
    std::string msg = "weave router is not ready";
    if (status->not_ready_size() > 0) {
      absl::StrAppend(&msg, " (waiting for ", absl::StrJoin(status->not_ready(), ", "), ")");
    }
    return CniStatus(kErrPluginNotAvailable, msg, absl::StatusCode::kUnavailable);
  }
  RETURN_IF_ERROR(DelegateIfConfigured(c, Command::kStatus));
  return std::string();
}

v1::AllocateAddressRequest AllocateRequest(const Context& c) {
  v1::AllocateAddressRequest request;
  request.set_container_id(c.env.container_id);
  request.set_ifname(c.env.ifname);
  request.set_subnet(c.conf.ipam.subnet);
  return request;
}

absl::StatusOr<std::string> IpamAdd(const Context& c) {
  ASSIGN_OR_RETURN(const v1::AllocateAddressResponse response,
                   c.router.AllocateAddress(AllocateRequest(c)));
  ASSIGN_OR_RETURN(const Result result, IpamResult(response, c.conf));
  return RenderResult(result, c.conf.version) + "\n";
}

absl::StatusOr<std::string> IpamDel(const Context& c) {
  v1::ReleaseAddressRequest request;
  request.set_container_id(c.env.container_id);
  request.set_ifname(c.env.ifname);
  RETURN_IF_ERROR(IgnoreNotFound(c.router.ReleaseAddress(request)));
  return std::string();
}

absl::StatusOr<std::string> IpamCheck(const Context& c) {
  RETURN_IF_ERROR(RequirePrevResult(c));
  ASSIGN_OR_RETURN(const v1::AllocateAddressResponse response,
                   c.router.AllocateAddress(AllocateRequest(c)));
  std::vector<std::string> expected;
  for (const IpConfig& ip : c.conf.prev_result->ips) {
    if (ip.address == response.ip().address()) return std::string();
    expected.push_back(ip.address);
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "container ", c.env.container_id, " interface ", c.env.ifname, " holds ",
      response.ip().address(), ", not the prevResult's ", absl::StrJoin(expected, ", ")));
}

absl::StatusOr<std::string> Dispatch(Command command, const Context& c) {
  const bool net = c.invocation.mode == Mode::kNet;
  switch (command) {
    case Command::kAdd:
      return net ? NetAdd(c) : IpamAdd(c);
    case Command::kDel:
      return net ? NetDel(c) : IpamDel(c);
    case Command::kCheck:
      return net ? NetCheck(c) : IpamCheck(c);
    case Command::kGc:
      // See plugin.h: the router cannot tell this network's allocations from weave-net's.
      return net ? GarbageCollect(c) : std::string();
    case Command::kStatus:
      return Status(c);
    case Command::kVersion:
      break;
  }
  return absl::InternalError("unreachable: VERSION is answered before dispatch");
}

absl::StatusOr<std::string> Execute(const Invocation& invocation, const Dependencies& deps) {
  auto command_it = invocation.env.find("CNI_COMMAND");
  ASSIGN_OR_RETURN(const Command command,
                   ParseCommand(command_it == invocation.env.end() ? "" : command_it->second));
  if (command == Command::kVersion) {
    return RenderVersionInfo(ResponseVersion(invocation.stdin_data)) + "\n";
  }
  ASSIGN_OR_RETURN(const NetConf conf, ParseNetConf(invocation.stdin_data, invocation.mode));
  RETURN_IF_ERROR(CheckCommandAllowed(command, conf.version));
  ASSIGN_OR_RETURN(const CniEnv env, ParseEnv(command, invocation.mode, invocation.env));
  ASSIGN_OR_RETURN(const CniArgs args, ParseCniArgs(env.args));
  const absl::Duration timeout = command == Command::kStatus ? kStatusTimeout : kRouterTimeout;
  const std::shared_ptr<RouterClient> router =
      deps.router(RouterSocket(conf, invocation.env), timeout);
  const Context context{invocation, conf, env, args, *router, deps.ipam};
  return Dispatch(command, context);
}

std::string LogLine(const Invocation& invocation, const CniError& error) {
  auto value = [&invocation](absl::string_view name) -> std::string {
    auto it = invocation.env.find(name);
    return it == invocation.env.end() ? "" : it->second;
  };
  std::string line = absl::StrCat(ProgramName(invocation.mode), ":");
  const std::string command = value("CNI_COMMAND");
  const std::string container = value("CNI_CONTAINERID");
  if (!command.empty()) absl::StrAppend(&line, " ", command);
  if (!container.empty()) absl::StrAppend(&line, " ", container, "/", value("CNI_IFNAME"));
  if (!command.empty() || !container.empty()) line += ":";
  absl::StrAppend(&line, " ", error.msg);
  if (!error.details.empty()) absl::StrAppend(&line, " (", error.details, ")");
  return line;
}

}  // namespace

Outcome RunPlugin(const Invocation& invocation, const Dependencies& deps) {
  absl::StatusOr<std::string> output = Execute(invocation, deps);
  if (output.ok()) return {.exit_code = 0, .output = *std::move(output), .log = ""};
  const CniError error = CniErrorFromStatus(output.status());
  return {
      .exit_code = 1,
      .output = RenderError(error, VersionString(ResponseVersion(invocation.stdin_data))) + "\n",
      .log = LogLine(invocation, error)};
}

}  // namespace weave::cni
