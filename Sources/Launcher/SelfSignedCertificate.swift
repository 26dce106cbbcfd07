import CLibCrypto
import Foundation

/// A self-signed certificate (EC P-256, SHA-256, one year) for a test or a
/// first installation, written as PEM through OpenSSL's libcrypto. It is good
/// for both ends of a TLS connection (server and client authentication), so
/// the processes of a site can share one as identity and trust for RPC.
struct SelfSignedCertificate {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// DNS names and IP addresses the certificate is valid for.
    var names: [String]
    var days = 365

    /// Writes `certificate` (mode 0644) and `privateKey` (mode 0600).
    func write(certificate: URL, privateKey: URL) throws {
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else { throw Failure(description: "no EC key context") }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(context) == 1, EVP_PKEY_CTX_set_group_name(context, "P-256") == 1, EVP_PKEY_generate(context, &key) == 1,
            let key
        else { throw Failure(description: "cannot generate a P-256 key") }
        defer { EVP_PKEY_free(key) }

        guard let x509 = X509_new() else { throw Failure(description: "no certificate") }
        defer { X509_free(x509) }
        var serial = [UInt8](repeating: 0, count: 8)
        _ = RAND_bytes(&serial, 8)
        X509_set_version(x509, 2)
        ASN1_INTEGER_set(X509_get_serialNumber(x509), Int(serial.withUnsafeBytes { $0.load(as: UInt32.self) } & 0x7FFF_FFFF))
        X509_gmtime_adj(X509_getm_notBefore(x509), -60)
        X509_gmtime_adj(X509_getm_notAfter(x509), days * 86_400)
        X509_set_pubkey(x509, key)
        let name = X509_get_subject_name(x509)
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, names.first ?? "localhost", -1, -1, 0)
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, "Metis (self-signed)", -1, -1, 0)
        X509_set_issuer_name(x509, name)
        let alternatives = names.map { name in name.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" } ? "IP:\(name)" : "DNS:\(name)" }
        for (nid, value) in [
            (NID_subject_alt_name, alternatives.joined(separator: ",")), (NID_basic_constraints, "critical,CA:FALSE"),
            (NID_ext_key_usage, "serverAuth,clientAuth"),
        ] {
            guard let extensionValue = X509V3_EXT_conf_nid(nil, nil, nid, value) else {
                throw Failure(description: "bad extension \(value)")
            }
            X509_add_ext(x509, extensionValue, -1)
            X509_EXTENSION_free(extensionValue)
        }
        guard X509_sign(x509, key, EVP_sha256()) > 0 else { throw Failure(description: "cannot sign the certificate") }

        try FileManager.default.createDirectory(at: certificate.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: privateKey.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Self.writePEM(to: certificate, mode: 0o644) { PEM_write_bio_X509($0, x509) }
        try Self.writePEM(to: privateKey, mode: 0o600) { PEM_write_bio_PrivateKey($0, key, nil, nil, 0, nil, nil) }
    }

    private static func writePEM(to file: URL, mode: mode_t, _ write: (OpaquePointer) -> Int32) throws {
        let descriptor = open(file.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw Failure(description: "cannot write \(file.path): \(String(cString: strerror(errno)))") }
        close(descriptor)
        guard let bio = BIO_new_file(file.path, "w") else { throw Failure(description: "cannot write \(file.path)") }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else { throw Failure(description: "cannot encode \(file.path)") }
    }
}
