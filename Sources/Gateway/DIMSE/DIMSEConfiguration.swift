public import DICOMNetwork
import Foundation
public import MetisProcess

/// Where the DIMSE edge listens, who may associate, and to whom it sends.
public struct DIMSEConfiguration: Sendable {
    public var aeTitle: String
    public var host: String
    public var port: Int
    public var peers: [DICOMPeer]
    /// AEs not in `peers` may associate (from any host, for every service); they are never a C-MOVE destination.
    public var acceptUnknown: Bool
    public var association = AssociationSettings()
    /// PEM certificate chain and key of DICOM over TLS (the HTTPS ones), its port, and whom Metis trusts as a TLS client.
    public var tls: (certificate: String, privateKey: String, port: Int)?
    public var tlsTrust: String?

    public init(
        aeTitle: String, host: String, port: Int, peers: [DICOMPeer], acceptUnknown: Bool,
        tls: (certificate: String, privateKey: String, port: Int)? = nil, tlsTrust: String? = nil
    ) {
        self.tls = tls
        self.tlsTrust = tlsTrust
        self.aeTitle = aeTitle
        self.host = host
        self.port = port
        self.peers = peers
        self.acceptUnknown = acceptUnknown
    }
}
