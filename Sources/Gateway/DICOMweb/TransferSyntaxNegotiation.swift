import Foundation
import Hummingbird
import MetisRPC

/// The `transfer-syntax` rules of PS3.18 §8.7.3: which syntaxes a WADO-RS
/// client takes, most wanted first, from its Accept ranges, and the media
/// type each syntax's frames are labelled with.
enum TransferSyntaxNegotiation {
    static let explicitVRLittleEndian = "1.2.840.10008.1.2.1"

    /// The default syntax of each frame media type (PS3.18 Table 8.7.3-5).
    private static let frameMediaTypes: [String: String] = [
        "application/octet-stream": explicitVRLittleEndian, "image/jpeg": "1.2.840.10008.1.2.4.50",
        "image/jls": "1.2.840.10008.1.2.4.80", "image/jp2": "1.2.840.10008.1.2.4.90", "image/jphc": "1.2.840.10008.1.2.4.201",
        "image/dicom-rle": "1.2.840.10008.1.2.5",
    ]

    /// The syntaxes a client takes for instances (`application/dicom`): absent means Explicit VR Little Endian.
    static func forInstances(_ web: DICOMwebRequest) -> [String] {
        wanted(web, partTypes: ["application/dicom": explicitVRLittleEndian])
    }

    /// The syntaxes a client takes for frames (`application/octet-stream` or a compressed image type).
    static func forFrames(_ web: DICOMwebRequest) -> [String] {
        wanted(web, partTypes: frameMediaTypes)
    }

    /// In Accept order, each range's `transfer-syntax` (or its part type's default). A multipart range names its
    /// part type in `type` (none: the application type); any other range is the part type, wildcards included.
    private static func wanted(_ web: DICOMwebRequest, partTypes: [String: String]) -> [String] {
        if web.accept.isEmpty { return [explicitVRLittleEndian] }
        let types = partTypes.keys.sorted()  // application/… before image/…
        var syntaxes = [String]()
        for range in web.accept {
            let inner = range.essence.hasPrefix("multipart/") ? range.parameters["type"].flatMap { MediaType($0) } : range
            let part = inner.map { inner in types.first(where: inner.accepts) } ?? types.first { $0.hasPrefix("application/") }
            guard let part, let defaultSyntax = partTypes[part] else { continue }
            let syntax = range.parameters["transfer-syntax"] ?? defaultSyntax
            if !syntaxes.contains(syntax) { syntaxes.append(syntax) }
        }
        return syntaxes
    }

    /// The part media type of a frame in `syntax`: compressed frames by their image type (PS3.18 Table 8.7.3-5).
    static func frameMediaType(_ syntax: String) -> String {
        let type: String =
            switch syntax {
            case "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70": "image/jpeg"
            case "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81": "image/jls"
            case "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91": "image/jp2"
            case "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202", "1.2.840.10008.1.2.4.203": "image/jphc"
            case "1.2.840.10008.1.2.5": "image/dicom-rle"
            default: "application/octet-stream"
            }
        return "\(type); transfer-syntax=\(syntax)"
    }

    /// A storage refusal to produce any wanted syntax is a 406 naming what it can produce.
    static func calling<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as RPCError where error.code == .failedPrecondition {
            throw HTTPError(.notAcceptable, message: error.message)
        } catch let error as RPCError {
            throw HTTPError(error, service: "metis-storage")
        }
    }
}
