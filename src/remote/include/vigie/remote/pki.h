// Vigie's own certificate authority for the remote-service gateway (docs/remote.md): it
// issues the broker's server certificate and the connectors' client certificates. Keys are
// EC P-256, written 0600 before any byte; certificates are X.509 v3 signed with SHA-256.
// Nothing here touches the store: the registry records serials, revocations and tokens.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "vigie/core/result.h"

namespace vigie::remote {

using core::Result;
using core::Status;

struct CertInfo {
  std::string serial;       // lower-case hex, no leading zeros stripped beyond OpenSSL's
  std::string subject_cn;   // the subject's common name
  std::string not_before;   // ISO 8601 UTC, "2026-11-26T14:00:00Z"
  std::string not_after;    // ISO 8601 UTC
  std::string fingerprint;  // lower-case hex SHA-256 of the DER encoding
};

struct IssuedCert {
  std::string pem;
  CertInfo info;
};

// The CA's files in `dir`: ca.pem (certificate) and ca.key (private key, 0600).
std::filesystem::path ca_cert_path(const std::filesystem::path& dir);
std::filesystem::path ca_key_path(const std::filesystem::path& dir);

// Creates the CA in `dir` when ca.pem and ca.key are not both there: a self-signed
// certificate, CN "Vigie remote-service CA", valid 10 years, basicConstraints critical
// CA:TRUE pathlen:0, keyUsage critical keyCertSign,cRLSign. Returns true when it created one.
Result<bool> ensure_ca(const std::filesystem::path& dir);

// Reads a certificate (PEM text) or a PEM file.
Result<CertInfo> cert_info(std::string_view pem);
Result<CertInfo> cert_info_file(const std::filesystem::path& pem_path);

// The broker's server certificate, cert_path/key_path, signed by the CA in `ca_dir`, with a
// subjectAltName for each of `names` (DNS names and IP addresses, told apart by syntax),
// EKU serverAuth, valid `validity_days`. Issued again (new key) when missing, when its names
// differ from `names`, when it was not signed by this CA, or when less than a third of its
// validity remains. Returns true when it issued one.
Result<bool> ensure_server_cert(const std::filesystem::path& ca_dir,
                                const std::filesystem::path& cert_path,
                                const std::filesystem::path& key_path,
                                const std::vector<std::string>& names, int validity_days);

// A new key pair written to `key_path` (0600, written through a temporary file and renamed)
// and a PKCS#10 request for it, subject CN `common_name`; returns the request's PEM.
Result<std::string> make_key_and_csr(const std::filesystem::path& key_path,
                                     std::string_view common_name);

// Signs a client certificate for the request `csr_pem`: the request's signature must verify
// (kInvalidInput otherwise, saying why). The subject is CN `common_name`, O "Vigie connector",
// whatever the request asked; extensions are Vigie's own (CA:FALSE, digitalSignature, EKU
// clientAuth), none copied from the request. Serial: 127 random bits.
Result<IssuedCert> sign_client_csr(const std::filesystem::path& ca_dir, std::string_view csr_pem,
                                   std::string_view common_name, int validity_days);

// Whether `cert_pem` was signed by the CA in `ca_dir` and is within its validity now.
Status verify_issued(const std::filesystem::path& ca_dir, std::string_view cert_pem);

}  // namespace vigie::remote
