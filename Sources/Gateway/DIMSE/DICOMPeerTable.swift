import DICOMNetwork
import DIMSE
import Foundation
import Logging
import MetisProcess
import NIOSSL

/// The configured peers with their hosts resolved once, at start: who an
/// association may come from, and where a C-MOVE destination listens.
struct DICOMPeerTable: Sendable {
    private let peers: [String: (peer: DICOMPeer, addresses: Set<String>)]
    /// How Metis calls a `+tls` peer: its certificate checked against the trust, and the host it dials.
    private let clientTLS: NIOSSLContext?

    init(_ peers: [DICOMPeer], clientTLS: NIOSSLContext? = nil, logger: Logger) {
        self.clientTLS = clientTLS
        var table = [String: (DICOMPeer, Set<String>)]()
        for peer in peers {
            let addresses = Self.resolve(peer.host)
            if addresses.isEmpty {
                logger.warning(
                    "DICOM peer host does not resolve: its associations will be refused",
                    metadata: ["dimse.peer": "\(peer.aeTitle)", "dimse.host": "\(peer.host)"])
            }
            table[peer.aeTitle] = (peer, addresses)
        }
        self.peers = table
    }

    func peer(_ aeTitle: String) -> DICOMPeer? { peers[aeTitle]?.peer }

    /// Opens an association to `peer`, over TLS when it is a `+tls` peer.
    func associate(
        _ peer: DICOMPeer, request: AssociationRequest, settings: AssociationSettings, logger: Logger
    ) async throws -> Association {
        guard !peer.tls || clientTLS != nil else {
            throw AssociationError.connectionFailed("\(peer.aeTitle) is a TLS peer, but no client TLS is set up")
        }
        return try await DIMSEConnector.associate(
            host: peer.host, port: peer.port, request: request, settings: settings, tls: peer.tls ? clientTLS : nil, logger: logger)
    }

    /// Whether a connection from `host` (an IP address as the socket reports it) may be `peer`.
    func isReachable(_ peer: DICOMPeer, from host: String) -> Bool {
        guard let addresses = peers[peer.aeTitle]?.addresses else { return false }
        return addresses.contains(Self.normalised(host))
    }

    /// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) compare as IPv4.
    static func normalised(_ address: String) -> String {
        address.lowercased().hasPrefix("::ffff:") && address.contains(".") ? String(address.dropFirst(7)) : address.lowercased()
    }

    /// The numeric addresses `host` names (itself when it is one).
    static func resolve(_ host: String) -> Set<String> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var addresses = Set<String>()
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(entry.pointee.ai_addr, entry.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                addresses.insert(normalised(String(cString: buffer)))
            }
            cursor = entry.pointee.ai_next
        }
        return addresses
    }
}
