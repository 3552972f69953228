#include "common/nft/nftnl_ptr.h"

#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/gen.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include <cstdlib>

namespace weave::nft {
namespace {

template <typename T>
NftnlPtr<T> Checked(T* object) {
  if (object == nullptr) std::abort();  // Out of memory.
  return NftnlPtr<T>(object);
}

}  // namespace

void NftnlDeleter::operator()(nftnl_batch* batch) const { nftnl_batch_free(batch); }
void NftnlDeleter::operator()(nftnl_chain* chain) const { nftnl_chain_free(chain); }
void NftnlDeleter::operator()(nftnl_gen* gen) const { nftnl_gen_free(gen); }
void NftnlDeleter::operator()(nftnl_rule* rule) const { nftnl_rule_free(rule); }
void NftnlDeleter::operator()(nftnl_set* set) const { nftnl_set_free(set); }
void NftnlDeleter::operator()(nftnl_table* table) const { nftnl_table_free(table); }
void NftnlDeleter::operator()(nftnl_udata_buf* buf) const { nftnl_udata_buf_free(buf); }

template <>
NftnlPtr<nftnl_chain> NftnlAlloc() {
  return Checked(nftnl_chain_alloc());
}
template <>
NftnlPtr<nftnl_gen> NftnlAlloc() {
  return Checked(nftnl_gen_alloc());
}
template <>
NftnlPtr<nftnl_rule> NftnlAlloc() {
  return Checked(nftnl_rule_alloc());
}
template <>
NftnlPtr<nftnl_set> NftnlAlloc() {
  return Checked(nftnl_set_alloc());
}
template <>
NftnlPtr<nftnl_table> NftnlAlloc() {
  return Checked(nftnl_table_alloc());
}

}  // namespace weave::nft
