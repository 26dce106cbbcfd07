public import ArgumentParser
import Foundation

/// `metis cert self-signed`: a certificate and key for the gateway's HTTPS or the RPC transport's mutual TLS.
public struct CertCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "cert", abstract: "Make TLS certificates for the gateway and the RPC transport.", subcommands: [SelfSigned.self])

    public init() {}

    struct SelfSigned: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "self-signed",
            abstract: "Write a self-signed certificate and key (EC P-256, one year): for tests and first installations, not for production."
        )
        @Option(help: "Certificate file to write (PEM).") var certificate = "metis-cert.pem"
        @Option(help: "Private key file to write (PEM, mode 0600).") var key = "metis-key.pem"
        @Option(
            name: .customLong("name"),
            help: "A DNS name or IP address the certificate is for; repeat for several (default localhost and 127.0.0.1).")
        var names: [String] = []
        @Option(help: "Days of validity.") var days = 365

        func run() throws {
            let certificateFile = URL(fileURLWithPath: certificate), keyFile = URL(fileURLWithPath: key)
            try SelfSignedCertificate(names: names.isEmpty ? ["localhost", "127.0.0.1", "::1"] : names, days: days)
                .write(certificate: certificateFile, privateKey: keyFile)
            print(
                "wrote \(certificateFile.path) and \(keyFile.path); use them with --tls-certificate and --tls-key (or tls_certificate and tls_key),"
            )
            print("or, for RPC over TCP, with --rpc-tls-certificate, --rpc-tls-key and the certificate itself as --rpc-tls-trust")
        }
    }
}
