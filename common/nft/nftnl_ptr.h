// Owning pointers for libnftnl objects. Internal to common/nft; the types are only
// forward-declared so that including this pulls in no libnftnl header.
#pragma once

#include <memory>

struct nftnl_batch;
struct nftnl_chain;
struct nftnl_gen;
struct nftnl_rule;
struct nftnl_set;
struct nftnl_table;
struct nftnl_udata_buf;

namespace weave::nft {

struct NftnlDeleter {
  void operator()(nftnl_batch* batch) const;
  void operator()(nftnl_chain* chain) const;
  void operator()(nftnl_gen* gen) const;
  void operator()(nftnl_rule* rule) const;
  void operator()(nftnl_set* set) const;
  void operator()(nftnl_table* table) const;
  void operator()(nftnl_udata_buf* buf) const;
};

template <typename T>
using NftnlPtr = std::unique_ptr<T, NftnlDeleter>;

// Allocates a T with its libnftnl allocator (nftnl_set_alloc, ...); aborts when out of memory.
template <typename T>
NftnlPtr<T> NftnlAlloc();

}  // namespace weave::nft
