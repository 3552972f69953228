// The kernel's nf_tables through one NETLINK_NETFILTER socket (libmnl + libnftnl).
//
// Apply sends the whole transaction as one batch (begin, messages, end) in one sendmsg and reads
// an acknowledgement for every message; the kernel commits all of it or, on any error, none of
// it. A transaction of 1000 set elements is a handful of messages and one round trip. Element
// operations on sets the transaction does not create first ask the kernel for the set's key type
// and flags (one request per set).
//
// Dump reads the table, its sets with their elements, its chains and rules, and decodes rules back
// into the model (see Backend::Dump); it retries if the ruleset generation changed while reading,
// so what it returns was the state at one moment. The elements of a hash (non-interval) set are
// read until two reads agree: the kernel resumes a multi-message set dump by position, and a
// background resize of the hash table in between repeats or skips elements.
//
// Needs CAP_NET_ADMIN in the network namespace of the socket. Thread-safe (calls are serialized).
#pragma once

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/nft/backend.h"

struct mnl_socket;

namespace weave::nft {

class LinuxBackend : public Backend {
 public:
  // Opens the socket in the calling thread's network namespace.
  static absl::StatusOr<std::unique_ptr<LinuxBackend>> Open();

  // Opens the socket in the network namespace at `netns_path` (e.g. "/run/netns/NAME"); the
  // socket, and so this backend, stays in that namespace. The calling thread's namespace is not
  // changed (the socket is opened from a short-lived thread).
  static absl::StatusOr<std::unique_ptr<LinuxBackend>> OpenInNamespace(
      const std::string& netns_path);

  LinuxBackend(const LinuxBackend&) = delete;
  LinuxBackend& operator=(const LinuxBackend&) = delete;
  ~LinuxBackend() override;

  absl::Status Apply(const Transaction& transaction) override;
  absl::StatusOr<std::optional<Table>> Dump(Family family, absl::string_view name) override;

 private:
  explicit LinuxBackend(mnl_socket* socket);

  absl::StatusOr<std::optional<Table>> DumpOnce(Family family, absl::string_view name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  mnl_socket* const socket_;
  // Batches and single requests number their messages from different ranges, so that a reply
  // can never be taken for the other's.
  uint32_t next_batch_seq_ ABSL_GUARDED_BY(mu_) = 1;
  uint32_t next_request_seq_ ABSL_GUARDED_BY(mu_) = 1u << 31;
};

}  // namespace weave::nft
