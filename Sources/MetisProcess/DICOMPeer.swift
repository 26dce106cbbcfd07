import Foundation

/// A DICOM application entity Metis knows (`dicom_peers`): its AE title, where
/// it listens, and what it and Metis do with each other.
public struct DICOMPeer: Sendable, Equatable, CustomStringConvertible {
    /// The services a peer is allowed, both ways.
    public enum Service: String, Sendable, CaseIterable, Comparable {
        /// The peer sends instances to Metis (C-STORE), and Metis sends to it (C-MOVE destination, results).
        case store
        /// C-FIND: the peer queries Metis, and Metis queries it.
        case query
        /// C-MOVE and C-GET: the peer retrieves from Metis, and Metis from it.
        case retrieve

        public static func < (lhs: Service, rhs: Service) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public var aeTitle: String
    public var host: String
    public var port: Int
    public var services: Set<Service>
    /// Metis reaches it over TLS (PS3.15 Annex B): `+tls` after the services, or `/tls` alone.
    public var tls: Bool

    public init(aeTitle: String, host: String, port: Int, services: Set<Service> = Set(Service.allCases), tls: Bool = false) {
        self.aeTitle = aeTitle
        self.host = host
        self.port = port
        self.services = services
        self.tls = tls
    }

    /// `AE@host:port[/service+service]`, as `dicom_peers` writes it.
    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        var names = services == Set(Service.allCases) ? [] : services.sorted().map(\.rawValue)
        if tls { names.append("tls") }
        let suffix = names.isEmpty ? "" : "/" + names.joined(separator: "+")
        return "\(aeTitle)@\(shownHost):\(port)\(suffix)"
    }

    /// Parses one `AE@host:port[/store+query+retrieve]` entry (IPv6 hosts in brackets).
    public static func parse(_ text: String) throws(ConfigurationError) -> DICOMPeer {
        let entry = text.trimmingCharacters(in: .whitespaces)
        let example = "e.g. PACS@10.1.2.3:104/query+retrieve or MRI1@[fd00::5]:11112/store"
        guard let at = entry.firstIndex(of: "@") else { throw ConfigurationError("DICOM peer '\(entry)' has no '@' (\(example))") }
        let aeTitle = String(entry[..<at])
        try validateAETitle(aeTitle, in: entry)
        var rest = Substring(entry[entry.index(after: at)...])
        var services = Set(Service.allCases)
        var tls = false
        if let slash = rest.lastIndex(of: "/") {
            services = []
            var named = false
            for name in rest[rest.index(after: slash)...].split(separator: "+") {
                named = true
                if name.lowercased() == "tls" {
                    tls = true
                    continue
                }
                guard let service = Service(rawValue: name.lowercased()) else {
                    throw ConfigurationError("DICOM peer '\(entry)': unknown service '\(name)' (store, query, retrieve; tls)")
                }
                services.insert(service)
            }
            guard named else { throw ConfigurationError("DICOM peer '\(entry)' names no service after '/'") }
            if services.isEmpty { services = Set(Service.allCases) }
            rest = rest[..<slash]
        }
        let host: Substring
        let portText: Substring
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]"), rest[rest.index(after: close)...].hasPrefix(":") else {
                throw ConfigurationError("DICOM peer '\(entry)': an IPv6 host is written [address]:port (\(example))")
            }
            host = rest[rest.index(after: rest.startIndex)..<close]
            portText = rest[rest.index(close, offsetBy: 2)...]
        } else {
            guard let colon = rest.lastIndex(of: ":"), !rest[..<colon].contains(":") else {
                throw ConfigurationError("DICOM peer '\(entry)' needs host:port (\(example))")
            }
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        }
        guard !host.isEmpty else { throw ConfigurationError("DICOM peer '\(entry)' has an empty host") }
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw ConfigurationError("DICOM peer '\(entry)': port must be 1...65535, got '\(portText)'")
        }
        return DICOMPeer(aeTitle: aeTitle, host: String(host), port: port, services: services, tls: tls)
    }

    /// Comma-separated entries; AE titles must be unique.
    public static func parseList(_ text: String) throws(ConfigurationError) -> [DICOMPeer] {
        var peers = [DICOMPeer]()
        for entry in text.split(separator: ",") where !entry.trimmingCharacters(in: .whitespaces).isEmpty {
            let peer = try parse(String(entry))
            guard !peers.contains(where: { $0.aeTitle == peer.aeTitle }) else {
                throw ConfigurationError("DICOM peer AE title '\(peer.aeTitle)' is listed twice")
            }
            peers.append(peer)
        }
        return peers
    }

    /// PS3.5 AE: 1 to 16 characters of the default repertoire, no backslash or control characters, not all spaces.
    public static func validateAETitle(_ title: String, in context: String) throws(ConfigurationError) {
        let valid =
            (1...16).contains(title.count) && title.trimmingCharacters(in: .whitespaces) == title
            && title.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 0x20 && $0 != "\\" }
        guard valid else {
            throw ConfigurationError(
                "'\(title)' in \(context) is not an AE title (1 to 16 ASCII characters, no backslash, no leading or trailing space)")
        }
    }
}
