#include "common/nft/linux_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/gen.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <map>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/nft/decoder.h"
#include "common/nft/encoder.h"
#include "common/nft/errors.h"
#include "common/status_macros.h"

namespace weave::nft {
namespace {

// Dump replies come in datagrams of up to a few pages; this is comfortably more.
constexpr size_t kReceiveBufferSize = 128 * 1024;
// How long to wait for acknowledgements. The kernel handles a batch inside sendmsg(), so they are
// normally queued before sendmsg() returns; after an error it may stop acknowledging.
constexpr int kAckTimeoutMs = 10'000;
constexpr int kAckTimeoutAfterErrorMs = 200;
// A Dump that keeps seeing the ruleset change under it gives up after this many tries.
constexpr int kDumpAttempts = 5;

absl::Status Errno(absl::string_view context) { return KernelError(errno, context); }

// A socket option that may need privileges to raise past the system limit: try the forcing
// variant first (CAP_NET_ADMIN), then the ordinary one.
void RaiseBuffer(int fd, int force_option, int option, size_t wanted) {
  int current = 0;
  socklen_t length = sizeof(current);
  if (getsockopt(fd, SOL_SOCKET, option, &current, &length) == 0 &&
      static_cast<size_t>(current) >= wanted) {
    return;
  }
  const int value = static_cast<int>(std::min<size_t>(wanted, INT32_MAX / 2));
  if (setsockopt(fd, SOL_SOCKET, force_option, &value, sizeof(value)) != 0) {
    (void)setsockopt(fd, SOL_SOCKET, option, &value, sizeof(value));
  }
}

// Throws away whatever an earlier, interrupted exchange left in the socket.
void Drain(mnl_socket* socket) {
  std::vector<char> buffer(kReceiveBufferSize);
  while (recv(mnl_socket_get_fd(socket), buffer.data(), buffer.size(), MSG_DONTWAIT) > 0) {
  }
}

using MessageHandler = std::function<absl::Status(const nlmsghdr*)>;

// Sends one request and hands every reply to `handler` until the kernel is done (the end of a
// dump, or the acknowledgement of a single request). An error reply becomes errno's status.
absl::Status Exchange(mnl_socket* socket, const nlmsghdr* request, absl::string_view context,
                      const MessageHandler& handler) {
  if (mnl_socket_sendto(socket, request, request->nlmsg_len) < 0) return Errno(context);
  struct State {
    const MessageHandler* handler;
    absl::Status status;
  } state{&handler, absl::OkStatus()};
  const auto callback = [](const nlmsghdr* nlh, void* data) -> int {
    auto* state = static_cast<State*>(data);
    state->status = (*state->handler)(nlh);
    return state->status.ok() ? MNL_CB_OK : MNL_CB_ERROR;
  };
  std::vector<char> buffer(kReceiveBufferSize);
  const uint32_t portid = mnl_socket_get_portid(socket);
  while (true) {
    const ssize_t received = mnl_socket_recvfrom(socket, buffer.data(), buffer.size());
    if (received < 0) return Errno(context);
    const int result =
        mnl_cb_run(buffer.data(), received, request->nlmsg_seq, portid, callback, &state);
    if (!state.status.ok()) return state.status;
    if (result < 0) return Errno(context);
    if (result == MNL_CB_STOP) return absl::OkStatus();
  }
}

// A request header for message `type` on the nf_tables subsystem.
nlmsghdr* Header(std::vector<char>& buffer, uint16_t type, Family family, uint16_t flags,
                 uint32_t seq) {
  buffer.assign(MNL_SOCKET_BUFFER_SIZE, '\0');
  return nftnl_nlmsg_build_hdr(buffer.data(), type, FamilyNumber(family), flags, seq);
}

std::string TableLabel(Family family, absl::string_view name) {
  return Describe(TableId{family, std::string(name)});
}

absl::StatusOr<BaseChain> BaseChainOf(const nftnl_chain* chain) {
  const std::string name = nftnl_chain_get_str(chain, NFTNL_CHAIN_NAME);
  const std::string type = nftnl_chain_get_str(chain, NFTNL_CHAIN_TYPE);
  const uint32_t hook = nftnl_chain_get_u32(chain, NFTNL_CHAIN_HOOKNUM);
  BaseChain base;
  if (type == "filter") {
    base.type = ChainType::kFilter;
  } else if (type == "nat") {
    base.type = ChainType::kNat;
  } else {
    return absl::UnimplementedError(absl::StrCat("chain ", name, " has type ", type));
  }
  if (hook > static_cast<uint32_t>(Hook::kPostrouting)) {
    return absl::UnimplementedError(absl::StrCat("chain ", name, " has hook number ", hook));
  }
  base.hook = static_cast<Hook>(hook);  // Hook follows the kernel's NF_INET_* numbering.
  base.priority = nftnl_chain_get_s32(chain, NFTNL_CHAIN_PRIO);
  base.policy =
      nftnl_chain_get_u32(chain, NFTNL_CHAIN_POLICY) == NF_DROP ? Policy::kDrop : Policy::kAccept;
  return base;
}

// The model's view of a set's attributes; nullopt for an anonymous set (part of a rule).
absl::StatusOr<std::optional<Set>> SetOf(const nftnl_set* set) {
  const std::string name = nftnl_set_get_str(set, NFTNL_SET_NAME);
  const uint32_t flags = nftnl_set_get_u32(set, NFTNL_SET_FLAGS);
  if ((flags & NFT_SET_ANONYMOUS) != 0) return std::nullopt;
  if ((flags & ~static_cast<uint32_t>(NFT_SET_INTERVAL | NFT_SET_CONSTANT)) != 0) {
    return absl::UnimplementedError(
        absl::StrCat("set ", name, " has flags 0x", absl::Hex(flags), " the model lacks"));
  }
  const uint32_t type_id = nftnl_set_get_u32(set, NFTNL_SET_KEY_TYPE);
  const std::optional<SetKeyType> key_type = KeyTypeFromId(type_id);
  if (!key_type.has_value() || nftnl_set_get_u32(set, NFTNL_SET_KEY_LEN) != KeyLength(*key_type)) {
    return absl::UnimplementedError(
        absl::StrCat("set ", name, " has key type ", type_id, " the model lacks"));
  }
  Set out;
  out.name = name;
  out.key_type = *key_type;
  out.interval = (flags & NFT_SET_INTERVAL) != 0;
  out.constant = (flags & NFT_SET_CONSTANT) != 0;
  return out;
}

std::vector<RawElement> RawElementsOf(const nftnl_set* set) {
  std::vector<RawElement> out;
  nftnl_set_elems_iter* iter = nftnl_set_elems_iter_create(set);
  if (iter == nullptr) std::abort();
  for (nftnl_set_elem* elem = nftnl_set_elems_iter_cur(iter); elem != nullptr;
       elem = nftnl_set_elems_iter_next(iter)) {
    uint32_t length = 0;
    const void* key = nftnl_set_elem_get(elem, NFTNL_SET_ELEM_KEY, &length);
    const uint32_t flags = nftnl_set_elem_is_set(elem, NFTNL_SET_ELEM_FLAGS)
                               ? nftnl_set_elem_get_u32(elem, NFTNL_SET_ELEM_FLAGS)
                               : 0;
    out.push_back({std::string(static_cast<const char*>(key), key == nullptr ? 0 : length),
                   (flags & NFT_SET_ELEM_INTERVAL_END) != 0});
  }
  nftnl_set_elems_iter_destroy(iter);
  return out;
}

// The text after "EINVAL" that the kernel may attach to an error (extended ack).
std::string ExtendedAckMessage(const nlmsghdr* nlh) {
  if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) == 0) return {};
  const auto* error = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
  size_t offset = sizeof(nlmsghdr) + sizeof(*error);
  if ((nlh->nlmsg_flags & NLM_F_CAPPED) == 0) offset += error->msg.nlmsg_len - sizeof(nlmsghdr);
  if (offset >= nlh->nlmsg_len) return {};
  std::string message;
  const auto* start = reinterpret_cast<const char*>(nlh) + offset;
  const size_t length = nlh->nlmsg_len - offset;
  for (const auto* attr = reinterpret_cast<const nlattr*>(start);
       mnl_attr_ok(attr, static_cast<int>(length - (reinterpret_cast<const char*>(attr) - start)));
       attr = mnl_attr_next(attr)) {
    if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG) message = mnl_attr_get_str(attr);
  }
  return message;
}

struct AckError {
  uint32_t seq;
  int error;
  std::string message;
};

}  // namespace

// --------------------------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<LinuxBackend>> LinuxBackend::Open() {
  mnl_socket* socket = mnl_socket_open(NETLINK_NETFILTER);
  if (socket == nullptr) return Errno("opening a NETLINK_NETFILTER socket");
  if (mnl_socket_bind(socket, 0, MNL_SOCKET_AUTOPID) < 0) {
    absl::Status status = Errno("binding the NETLINK_NETFILTER socket");
    mnl_socket_close(socket);
    return status;
  }
  int on = 1;
  // Acknowledgements without a copy of the request, but with the kernel's error text if any.
  (void)mnl_socket_setsockopt(socket, NETLINK_CAP_ACK, &on, sizeof(on));
  (void)mnl_socket_setsockopt(socket, NETLINK_EXT_ACK, &on, sizeof(on));
  return std::unique_ptr<LinuxBackend>(new LinuxBackend(socket));
}

absl::StatusOr<std::unique_ptr<LinuxBackend>> LinuxBackend::OpenInNamespace(
    const std::string& netns_path) {
  absl::StatusOr<std::unique_ptr<LinuxBackend>> result;
  // setns() changes the namespace of the calling thread only, so a thread of our own enters it,
  // opens the socket (which keeps the namespace) and ends.
  std::thread opener([&] {
    const int fd = open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      result = Errno(absl::StrCat("opening network namespace ", netns_path));
      return;
    }
    if (setns(fd, CLONE_NEWNET) != 0) {
      result = Errno(absl::StrCat("entering network namespace ", netns_path));
      close(fd);
      return;
    }
    close(fd);
    result = Open();
  });
  opener.join();
  return result;
}

LinuxBackend::LinuxBackend(mnl_socket* socket) : socket_(socket) {}

LinuxBackend::~LinuxBackend() { mnl_socket_close(socket_); }

absl::Status LinuxBackend::Apply(const Transaction& transaction) {
  if (transaction.empty()) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  Drain(socket_);

  // Element operations on sets the transaction does not create need the set's shape.
  const SetShapeLookup lookup =
      [this](const TableId& table,
             absl::string_view set_name) -> absl::StatusOr<std::optional<SetShape>> {
    NftnlPtr<nftnl_set> request = NftnlAlloc<nftnl_set>();
    nftnl_set_set_u32(request.get(), NFTNL_SET_FAMILY, FamilyNumber(table.family));
    nftnl_set_set_str(request.get(), NFTNL_SET_TABLE, table.name.c_str());
    nftnl_set_set_str(request.get(), NFTNL_SET_NAME, std::string(set_name).c_str());
    std::vector<char> buffer;
    nlmsghdr* nlh = Header(buffer, NFT_MSG_GETSET, table.family, NLM_F_ACK, next_request_seq_++);
    nftnl_set_nlmsg_build_payload(nlh, request.get());
    std::optional<SetShape> shape;
    absl::Status status =
        Exchange(socket_, nlh, absl::StrCat("reading set ", set_name), [&](const nlmsghdr* reply) {
          NftnlPtr<nftnl_set> set = NftnlAlloc<nftnl_set>();
          if (nftnl_set_nlmsg_parse(reply, set.get()) < 0) {
            return absl::InternalError("unparseable set from the kernel");
          }
          ASSIGN_OR_RETURN(std::optional<Set> model, SetOf(set.get()));
          if (model.has_value())
            shape = SetShape{model->key_type, model->interval, model->constant};
          return absl::OkStatus();
        });
    if (absl::IsNotFound(status)) return std::nullopt;
    if (!status.ok()) return status;
    return shape;
  };

  ASSIGN_OR_RETURN(const Batch batch, EncodeTransaction(transaction, next_batch_seq_, lookup));
  next_batch_seq_ += batch.messages().size() + 2;

  const int fd = mnl_socket_get_fd(socket_);
  const size_t expected = batch.messages().size();
  RaiseBuffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, batch.size_bytes() + 4096);
  // Every acknowledgement is a datagram the socket must hold until we read it.
  RaiseBuffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, expected * 1024 + 64 * 1024);

  std::vector<iovec> iovecs = batch.Iovecs();
  sockaddr_nl kernel = {};
  kernel.nl_family = AF_NETLINK;
  msghdr message = {};
  message.msg_name = &kernel;
  message.msg_namelen = sizeof(kernel);
  message.msg_iov = iovecs.data();
  message.msg_iovlen = iovecs.size();
  if (sendmsg(fd, &message, 0) < 0) return Errno("sending the nftables batch");

  const uint32_t first_seq = batch.messages().front().seq;
  const uint32_t last_seq = batch.messages().back().seq;
  std::vector<AckError> errors;
  size_t acknowledged = 0;
  std::vector<char> buffer(kReceiveBufferSize);
  while (acknowledged < expected) {
    pollfd readable = {fd, POLLIN, 0};
    const int ready = poll(&readable, 1, errors.empty() ? kAckTimeoutMs : kAckTimeoutAfterErrorMs);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return Errno("waiting for the kernel's acknowledgements");
    if (ready == 0) break;
    const ssize_t received = recv(fd, buffer.data(), buffer.size(), 0);
    if (received < 0) {
      if (errno == EINTR) continue;
      // ENOBUFS: acknowledgements were lost, so whether the batch was applied is unknown.
      return KernelError(errno,
                         "reading the kernel's acknowledgements; the transaction may or "
                         "may not have been applied");
    }
    int remaining = static_cast<int>(received);
    for (const auto* nlh = reinterpret_cast<const nlmsghdr*>(buffer.data());
         mnl_nlmsg_ok(nlh, remaining); nlh = mnl_nlmsg_next(nlh, &remaining)) {
      if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_seq < first_seq ||
          nlh->nlmsg_seq > last_seq) {
        continue;
      }
      ++acknowledged;
      const auto* error = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
      if (error->error != 0) {
        errors.push_back({nlh->nlmsg_seq, -error->error, ExtendedAckMessage(nlh)});
      }
    }
  }

  if (!errors.empty()) {
    // The kernel goes on checking after the first failure; later errors are often its echoes.
    const AckError& first =
        *std::min_element(errors.begin(), errors.end(),
                          [](const AckError& a, const AckError& b) { return a.seq < b.seq; });
    const BatchMessage* failed = batch.Find(first.seq);
    std::string context =
        failed == nullptr
            ? "applying the nftables batch"
            : absl::StrCat(Describe(transaction.operations[failed->operation]), ": ", failed->what);
    absl::Status status = KernelError(first.error, context);
    std::string extra;
    if (!first.message.empty()) absl::StrAppend(&extra, " (", first.message, ")");
    if (errors.size() > 1) absl::StrAppend(&extra, " (", errors.size() - 1, " more errors)");
    return absl::Status(status.code(), absl::StrCat(status.message(), extra));
  }
  if (acknowledged < expected) {
    return absl::DeadlineExceededError(
        absl::StrCat("the kernel acknowledged ", acknowledged, " of ", expected,
                     " messages of the nftables batch; it may or may not have been applied"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Table>> LinuxBackend::Dump(Family family, absl::string_view name) {
  absl::MutexLock lock(&mu_);
  Drain(socket_);
  const auto generation = [this]() -> absl::StatusOr<uint32_t> {
    std::vector<char> buffer;
    nlmsghdr* nlh = Header(buffer, NFT_MSG_GETGEN, Family::kInet, NLM_F_ACK, next_request_seq_++);
    uint32_t id = 0;
    RETURN_IF_ERROR(
        Exchange(socket_, nlh, "reading the ruleset generation", [&](const nlmsghdr* reply) {
          NftnlPtr<nftnl_gen> gen = NftnlAlloc<nftnl_gen>();
          if (nftnl_gen_nlmsg_parse(reply, gen.get()) < 0) {
            return absl::InternalError("unparseable generation");
          }
          id = nftnl_gen_get_u32(gen.get(), NFTNL_GEN_ID);
          return absl::OkStatus();
        }));
    return id;
  };
  for (int attempt = 0; attempt < kDumpAttempts; ++attempt) {
    ASSIGN_OR_RETURN(const uint32_t before, generation());
    ASSIGN_OR_RETURN(std::optional<Table> table, DumpOnce(family, name));
    ASSIGN_OR_RETURN(const uint32_t after, generation());
    if (before == after) return table;
  }
  return absl::AbortedError(
      absl::StrCat("reading ", TableLabel(family, name), ": the ruleset kept changing"));
}

absl::StatusOr<std::optional<Table>> LinuxBackend::DumpOnce(Family family, absl::string_view name) {
  const std::string table_name(name);
  const std::string label = TableLabel(family, name);
  std::vector<char> buffer;

  // The table itself: NotFound means there is none.
  {
    NftnlPtr<nftnl_table> request = NftnlAlloc<nftnl_table>();
    nftnl_table_set_str(request.get(), NFTNL_TABLE_NAME, table_name.c_str());
    nlmsghdr* nlh = Header(buffer, NFT_MSG_GETTABLE, family, NLM_F_ACK, next_request_seq_++);
    nftnl_table_nlmsg_build_payload(nlh, request.get());
    absl::Status status = Exchange(socket_, nlh, absl::StrCat("reading ", label),
                                   [](const nlmsghdr*) { return absl::OkStatus(); });
    if (absl::IsNotFound(status)) return std::nullopt;
    RETURN_IF_ERROR(status);
  }
  Table table{family, table_name, {}, {}};

  // Sets, then each set's elements.
  {
    NftnlPtr<nftnl_set> request = NftnlAlloc<nftnl_set>();
    nftnl_set_set_str(request.get(), NFTNL_SET_TABLE, table_name.c_str());
    nlmsghdr* nlh = Header(buffer, NFT_MSG_GETSET, family, NLM_F_DUMP, next_request_seq_++);
    nftnl_set_nlmsg_build_payload(nlh, request.get());
    RETURN_IF_ERROR(Exchange(socket_, nlh, absl::StrCat("reading the sets of ", label),
                             [&](const nlmsghdr* reply) -> absl::Status {
                               NftnlPtr<nftnl_set> set = NftnlAlloc<nftnl_set>();
                               if (nftnl_set_nlmsg_parse(reply, set.get()) < 0) {
                                 return absl::InternalError("unparseable set from the kernel");
                               }
                               if (table_name != nftnl_set_get_str(set.get(), NFTNL_SET_TABLE)) {
                                 return absl::OkStatus();
                               }
                               ASSIGN_OR_RETURN(std::optional<Set> model, SetOf(set.get()));
                               if (model.has_value()) table.sets.push_back(*std::move(model));
                               return absl::OkStatus();
                             }));
  }
  const auto read_elements = [&](const Set& set) -> absl::StatusOr<std::vector<Element>> {
    NftnlPtr<nftnl_set> elements = NftnlAlloc<nftnl_set>();
    nftnl_set_set_str(elements.get(), NFTNL_SET_TABLE, table_name.c_str());
    nftnl_set_set_str(elements.get(), NFTNL_SET_NAME, set.name.c_str());
    nlmsghdr* nlh = Header(buffer, NFT_MSG_GETSETELEM, family, NLM_F_DUMP, next_request_seq_++);
    nftnl_set_elems_nlmsg_build_payload(nlh, elements.get());
    RETURN_IF_ERROR(Exchange(socket_, nlh,
                             absl::StrCat("reading the elements of set ", set.name, " of ", label),
                             [&](const nlmsghdr* reply) {
                               if (nftnl_set_elems_nlmsg_parse(reply, elements.get()) < 0) {
                                 return absl::InternalError("unparseable set elements");
                               }
                               return absl::OkStatus();
                             }));
    return DecodeElements(set.key_type, set.interval, RawElementsOf(elements.get()));
  };
  for (Set& set : table.sets) {
    ASSIGN_OR_RETURN(set.elements, read_elements(set));
    if (set.interval) continue;
    // A hash set's dump resumes each message by skipping as many elements as it has sent; when
    // the kernel resizes the table in between (it does so in the background after inserts), the
    // order changes and elements repeat or go missing. Read until two reads agree.
    for (int attempt = 1;; ++attempt) {
      ASSIGN_OR_RETURN(std::vector<Element> again, read_elements(set));
      if (again == set.elements) break;
      if (attempt == kDumpAttempts) {
        return absl::AbortedError(absl::StrCat("reading the elements of set ", set.name, " of ",
                                               label, ": the kernel kept changing its answer"));
      }
      set.elements = std::move(again);
    }
  }

  // Chains (the kernel does not filter chain dumps by table, so we do).
  std::map<std::string, size_t> chain_index;
  {
    NftnlPtr<nftnl_chain> request = NftnlAlloc<nftnl_chain>();
    nftnl_chain_set_str(request.get(), NFTNL_CHAIN_TABLE, table_name.c_str());
    nlmsghdr* nlh = Header(buffer, NFT_MSG_GETCHAIN, family, NLM_F_DUMP, next_request_seq_++);
    nftnl_chain_nlmsg_build_payload(nlh, request.get());
    RETURN_IF_ERROR(Exchange(
        socket_, nlh, absl::StrCat("reading the chains of ", label),
        [&](const nlmsghdr* reply) -> absl::Status {
          NftnlPtr<nftnl_chain> chain = NftnlAlloc<nftnl_chain>();
          if (nftnl_chain_nlmsg_parse(reply, chain.get()) < 0) {
            return absl::InternalError("unparseable chain from the kernel");
          }
          if (table_name != nftnl_chain_get_str(chain.get(), NFTNL_CHAIN_TABLE)) {
            return absl::OkStatus();
          }
          Chain model{nftnl_chain_get_str(chain.get(), NFTNL_CHAIN_NAME), std::nullopt, {}};
          if (nftnl_chain_is_set(chain.get(), NFTNL_CHAIN_HOOKNUM)) {
            ASSIGN_OR_RETURN(model.base, BaseChainOf(chain.get()));
          }
          chain_index[model.name] = table.chains.size();
          table.chains.push_back(std::move(model));
          return absl::OkStatus();
        }));
  }

  // Rules, in order within each chain.
  {
    NftnlRulePtr request = NftnlAlloc<nftnl_rule>();
    nftnl_rule_set_str(request.get(), NFTNL_RULE_TABLE, table_name.c_str());
    nlmsghdr* nlh = Header(buffer, NFT_MSG_GETRULE, family, NLM_F_DUMP, next_request_seq_++);
    nftnl_rule_nlmsg_build_payload(nlh, request.get());
    RETURN_IF_ERROR(Exchange(socket_, nlh, absl::StrCat("reading the rules of ", label),
                             [&](const nlmsghdr* reply) -> absl::Status {
                               NftnlRulePtr rule = NftnlAlloc<nftnl_rule>();
                               if (nftnl_rule_nlmsg_parse(reply, rule.get()) < 0) {
                                 return absl::InternalError("unparseable rule from the kernel");
                               }
                               if (table_name != nftnl_rule_get_str(rule.get(), NFTNL_RULE_TABLE)) {
                                 return absl::OkStatus();
                               }
                               const auto it = chain_index.find(
                                   nftnl_rule_get_str(rule.get(), NFTNL_RULE_CHAIN));
                               if (it == chain_index.end())
                                 return absl::OkStatus();  // Added after the chain dump.
                               table.chains[it->second].rules.push_back(DecodeRule(*rule));
                               return absl::OkStatus();
                             }));
  }
  return table;
}

}  // namespace weave::nft
