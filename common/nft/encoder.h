// Pure encoding of the model into libnftnl objects and one netlink batch. No sockets here: a
// Batch is bytes plus a record of what each message does, so that LinuxBackend can name the
// operation the kernel refused, and tests can compare the encoding with golden text.
//
// Internal to common/nft. The libnftnl types are only forward-declared so that this header does
// not pull libnftnl into anyone else's includes.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/nft/nftnl_ptr.h"
#include "common/nft/ruleset.h"
#include "common/nft/transaction.h"

namespace weave::nft {

using NftnlRulePtr = NftnlPtr<nftnl_rule>;

// Encodes one rule of chain `chain` in `table` as nft 1.0.6 would: the same expressions, the same
// protocol dependencies (`meta nfproto ipv4` before `ip saddr` in an inet table, `meta l4proto tcp`
// before `tcp dport` unless the rule already pinned it), byte-aligned prefixes loaded as shorter
// payloads, and the comment as rule user data. InvalidArgument if ValidateRule fails.
absl::StatusOr<NftnlRulePtr> EncodeRule(const TableId& table, absl::string_view chain,
                                        const Rule& rule);

// The rule as libnftnl prints it (NFTNL_OUTPUT_DEFAULT), the format of nftables' tests/py
// *.payload files and of `nft --debug=netlink`:
//   inet weave forward
//     [ meta load oifname => reg 1 ]
//     [ cmp eq reg 1 0x76616577 0x00000065 0x00000000 0x00000000 ]
std::string RuleText(const nftnl_rule& rule);

// EncodeRule then RuleText.
absl::StatusOr<std::string> EncodeRuleText(const TableId& table, absl::string_view chain,
                                           const Rule& rule);

// What a set element operation needs to know about the set it changes.
struct SetShape {
  SetKeyType key_type = SetKeyType::kIpv4Addr;
  bool interval = false;
  bool constant = false;
};

// Finds the shape of a set that exists before the transaction (LinuxBackend asks the kernel).
// nullopt if there is no such set.
using SetShapeLookup = std::function<absl::StatusOr<std::optional<SetShape>>(
    const TableId& table, absl::string_view set)>;

// One message of a batch (not counting the batch begin and end markers).
struct BatchMessage {
  uint32_t seq = 0;
  size_t operation = 0;  // Index in Transaction::operations.
  std::string what;      // Within the operation: "rule 3 of chain forward", "set npc-ready".
  std::string summary;   // For tests: "NEWRULE inet weave forward", "DELSETELEM ... (2 elements)".
};

// A netlink batch for NETLINK_NETFILTER: begin marker, messages (each with NLM_F_ACK), end
// marker, in pages of libnftnl's nftnl_batch. Move-only.
class Batch {
 public:
  Batch(Batch&&) noexcept;
  Batch& operator=(Batch&&) noexcept;
  ~Batch();

  // The pages, for one sendmsg(). Valid while the Batch lives.
  std::vector<iovec> Iovecs() const;
  size_t size_bytes() const;

  const std::vector<BatchMessage>& messages() const;
  // The message with sequence number `seq`, or nullptr (e.g. for the begin/end markers).
  const BatchMessage* Find(uint32_t seq) const;

  struct Impl;

 private:
  explicit Batch(std::unique_ptr<Impl> impl);
  friend absl::StatusOr<Batch> EncodeTransaction(const Transaction&, uint32_t,
                                                 const SetShapeLookup&);
  std::unique_ptr<Impl> impl_;
};

// Encodes the whole transaction into one batch whose messages are numbered from `first_seq`
// (the begin marker takes first_seq, the end marker the last number). Validates every value first
// (ValidateTransaction, and elements against their set's key type) and returns InvalidArgument or
// NotFound (an element operation on a set that neither the transaction nor `lookup` knows) naming
// the operation. References between objects (jump targets, sets in rules) are left to the kernel.
absl::StatusOr<Batch> EncodeTransaction(const Transaction& transaction, uint32_t first_seq,
                                        const SetShapeLookup& lookup);

// Key bytes of an element as the kernel stores them (addresses and ports in network order,
// marks in host order, interface names NUL-padded to 16 bytes, the parts of an AddrProtoPort each
// padded to 4 bytes); for an interval element the first value. Shared with the decoder.
std::string ElementKey(SetKeyType type, const Element& element);
size_t KeyLength(SetKeyType type);
// nft's datatype numbers for NFTA_SET_KEY_TYPE (TYPE_IPADDR = 7, ...; a concatenation's number
// is built from its parts' as nft builds it), and back.
uint32_t KeyTypeId(SetKeyType type);
std::optional<SetKeyType> KeyTypeFromId(uint32_t id);

// Netlink constants the backend needs without including libnftnl or the uapi headers.
uint32_t FamilyNumber(Family family);  // NFPROTO_INET, NFPROTO_IPV4, NFPROTO_BRIDGE.

}  // namespace weave::nft
