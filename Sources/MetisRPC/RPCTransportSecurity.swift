import Foundation
public import NIOSSL

/// Mutual TLS for the TCP transport (services in other pods or on other
/// machines). Each side presents its certificate and accepts a peer only when
/// the peer's certificate chains to `trust`; a client also checks that the
/// server's certificate names the host (or IP address) it dialled. Unix
/// sockets never use it: their peers are checked by uid instead.
///
/// The trust file may hold a private CA, or simply the one self-signed
/// certificate every Metis process of a site shares (`metis cert self-signed`).
public struct RPCTransportSecurity: Sendable {
    /// A file that cannot be used, with the reason.
    public struct LoadError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    let serverContext: NIOSSLContext
    let clientContext: NIOSSLContext
    /// Where it was loaded from, for logs and errors.
    public let certificateFile: String

    /// Loads the PEM certificate chain and key this process presents and the
    /// PEM certificates it trusts.
    public init(certificateFile: String, privateKeyFile: String, trustFile: String) throws(LoadError) {
        let chain: [NIOSSLCertificate], key: NIOSSLPrivateKey, trust: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificateFile)
        } catch {
            throw LoadError(description: "RPC TLS certificate \(certificateFile): \(Self.reason(error, file: certificateFile))")
        }
        do {
            key = try NIOSSLPrivateKey(file: privateKeyFile, format: .pem)
        } catch {
            throw LoadError(description: "RPC TLS key \(privateKeyFile): \(Self.reason(error, file: privateKeyFile))")
        }
        do {
            trust = try NIOSSLCertificate.fromPEMFile(trustFile)
        } catch {
            throw LoadError(description: "RPC TLS trust file \(trustFile): \(Self.reason(error, file: trustFile))")
        }
        guard !chain.isEmpty else { throw LoadError(description: "RPC TLS certificate \(certificateFile) holds no certificate") }
        guard !trust.isEmpty else { throw LoadError(description: "RPC TLS trust file \(trustFile) holds no certificate") }

        var server = TLSConfiguration.makeServerConfigurationWithMTLS(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key), trustRoots: .certificates(trust))
        server.minimumTLSVersion = .tlsv13
        var client = TLSConfiguration.makeClientConfiguration()
        client.certificateChain = chain.map { .certificate($0) }
        client.privateKey = .privateKey(key)
        client.trustRoots = .certificates(trust)
        client.certificateVerification = .fullVerification
        client.minimumTLSVersion = .tlsv13
        do {
            serverContext = try NIOSSLContext(configuration: server)
            clientContext = try NIOSSLContext(configuration: client)
        } catch {
            throw LoadError(
                description: "RPC TLS: certificate \(certificateFile) and key \(privateKeyFile) cannot be used together: \(error)")
        }
        self.certificateFile = certificateFile
    }

    private static func reason(_ error: any Error, file: String) -> String {
        FileManager.default.isReadableFile(atPath: file) ? "not PEM (\(error))" : "cannot be read"
    }

    /// What to set so that a TCP address off this machine may be used; ends
    /// the errors of a client or server refused plain text.
    static let remedy = "give the TLS certificate, key and trust file (rpc_tls_certificate, rpc_tls_key, rpc_tls_trust)"

    /// The host name a client sends and verifies; nil for an IP address,
    /// which is then checked against the certificate's IP addresses.
    static func serverHostname(_ host: String) -> String? {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1 ? nil : host
    }
}
