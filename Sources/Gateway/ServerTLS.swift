import NIOSSL

/// The TLS settings of the gateway's listeners, HTTPS and DICOM TLS alike:
/// the configured certificate chain and key, TLS 1.2 at least.
enum ServerTLS {
    static func configuration(certificate: String, privateKey: String) throws(GatewayError) -> TLSConfiguration {
        let certificates: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(certificate)
            key = try NIOSSLPrivateKey(file: privateKey, format: .pem)
        } catch {
            throw GatewayError.tls("cannot read the TLS certificate \(certificate) or key \(privateKey): \(error)")
        }
        var settings = TLSConfiguration.makeServerConfiguration(
            certificateChain: certificates.map { .certificate($0) }, privateKey: .privateKey(key))
        settings.minimumTLSVersion = .tlsv12
        return settings
    }
}
