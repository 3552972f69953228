#include "test/kube/test_pki.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"

namespace weave::testing::kube {
namespace {

struct Deleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Deleter>;
using Cert = std::unique_ptr<X509, Deleter>;
using Bio = std::unique_ptr<BIO, Deleter>;

absl::Status OpenSslError(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": OpenSSL error ", ERR_get_error()));
}

absl::Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return OpenSslError(absl::StrCat("extension ", OBJ_nid2sn(nid), "=", value));
  const int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok ? absl::OkStatus() : OpenSslError("adding an extension");
}

struct Issued {
  Cert cert;
  Key key;
};

// A certificate for `common_name` signed by `issuer` (self-signed when `issuer` is null) with
// the extensions given as (nid, value) pairs.
absl::StatusOr<Issued> Issue(const std::string& common_name, const Issued* issuer,
                             const std::vector<std::pair<int, std::string>>& extensions) {
  Issued issued{Cert(X509_new()), Key(EVP_EC_gen("P-256"))};
  X509* cert = issued.cert.get();
  if (!cert || !issued.key) return OpenSslError("generating a P-256 key");
  std::unique_ptr<BIGNUM, Deleter> serial(BN_new());
  BN_rand(serial.get(), 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
  BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert));
  X509_set_version(cert, 2);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 10L * 365 * 24 * 3600);
  X509_set_pubkey(cert, issued.key.get());
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509* issuer_cert = issuer ? issuer->cert.get() : cert;
  X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert));
  for (const auto& [nid, value] : extensions) {
    if (absl::Status s = AddExtension(cert, issuer_cert, nid, value); !s.ok()) return s;
  }
  EVP_PKEY* signer = issuer ? issuer->key.get() : issued.key.get();
  if (X509_sign(cert, signer, EVP_sha256()) == 0) return OpenSslError("signing a certificate");
  return issued;
}

absl::Status WritePem(const std::string& path, const Issued& issued, bool key) {
  Bio bio(BIO_new_file(path.c_str(), "w"));
  if (!bio) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  const int ok = key ? PEM_write_bio_PrivateKey(bio.get(), issued.key.get(), nullptr, nullptr, 0,
                                                nullptr, nullptr)
                     : PEM_write_bio_X509(bio.get(), issued.cert.get());
  if (key) chmod(path.c_str(), 0600);
  return ok ? absl::OkStatus() : OpenSslError(absl::StrCat("writing ", path));
}

absl::StatusOr<Issued> ReadPair(const std::string& cert_path, const std::string& key_path) {
  Bio cert_bio(BIO_new_file(cert_path.c_str(), "r"));
  Bio key_bio(BIO_new_file(key_path.c_str(), "r"));
  if (!cert_bio || !key_bio) return absl::NotFoundError(absl::StrCat("no ", cert_path));
  Issued pair{Cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr)),
              Key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr))};
  if (!pair.cert || !pair.key) return OpenSslError(absl::StrCat("reading ", cert_path));
  return pair;
}

}  // namespace

absl::StatusOr<TestPki> EnsureTestPki(const std::string& dir, const std::vector<std::string>& ips) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return absl::UnavailableError(absl::StrCat("creating ", dir, ": ", error.message()));
  TestPki pki{dir + "/ca.crt", dir + "/server.crt", dir + "/server.key"};
  const std::string ca_key_path = dir + "/ca.key";

  absl::StatusOr<Issued> ca = ReadPair(pki.ca_cert_path, ca_key_path);
  if (!ca.ok()) {
    ca = Issue("weave-fake-apiserver-ca", nullptr,
               {{NID_basic_constraints, "critical,CA:TRUE"},
                {NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature"},
                {NID_subject_key_identifier, "hash"}});
    if (!ca.ok()) return ca.status();
    if (absl::Status s = WritePem(ca_key_path, *ca, true); !s.ok()) return s;
    if (absl::Status s = WritePem(pki.ca_cert_path, *ca, false); !s.ok()) return s;
  }
  std::vector<std::string> names = {"IP:127.0.0.1", "IP:::1", "DNS:localhost",
                                    "DNS:kubernetes.default.svc"};
  for (const std::string& ip : ips) names.push_back("IP:" + ip);
  absl::StatusOr<Issued> server =
      Issue("kube-apiserver", &*ca,
            {{NID_basic_constraints, "critical,CA:FALSE"},
             {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
             {NID_ext_key_usage, "serverAuth"},
             {NID_authority_key_identifier, "keyid"},
             {NID_subject_alt_name, absl::StrJoin(names, ",")}});
  if (!server.ok()) return server.status();
  if (absl::Status s = WritePem(pki.server_key_path, *server, true); !s.ok()) return s;
  if (absl::Status s = WritePem(pki.server_cert_path, *server, false); !s.ok()) return s;
  return pki;
}

absl::Status WriteKubeconfig(const std::string& path, const std::string& server_url,
                             const std::string& ca_cert_path, const std::string& token) {
  // JSON is YAML, and every client reads it.
  nlohmann::json config = {
      {"apiVersion", "v1"},
      {"kind", "Config"},
      {"clusters",
       {{{"name", "fake"},
         {"cluster", {{"server", server_url}, {"certificate-authority", ca_cert_path}}}}}},
      {"users", {{{"name", "fake"}, {"user", {{"token", token}}}}}},
      {"contexts",
       {{{"name", "fake"},
         {"context", {{"cluster", "fake"}, {"user", "fake"}, {"namespace", "default"}}}}}},
      {"current-context", "fake"},
      {"preferences", nlohmann::json::object()}};
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << config.dump(2) << "\n";
    if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", temp));
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot rename ", temp, " to ", path));
  }
  return absl::OkStatus();
}

}  // namespace weave::testing::kube
