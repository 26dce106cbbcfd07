import Foundation
import Hummingbird
import MetisRPC

/// The `transfer-syntax` rules of PS3.18 §8.7.3: which syntaxes a WADO-RS
/// client takes, most wanted first, from its Accept ranges, and the media
/// type each syntax's frames are labelled with.
enum TransferSyntaxNegotiation {
    static let explicitVRLittleEndian = "1.2.840.10008.1.2.1"

    /// The default syntax of each frame media type (PS3.18 Table 8.7.3-5).
    static let frameMediaTypes: [String: String] = [
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

    private static func wanted(_ web: DICOMwebRequest, partTypes: [String: String]) -> [String] {
        if web.accept.isEmpty { return [partTypes["application/dicom"] ?? explicitVRLittleEndian] }
        var syntaxes = [String]()
        for range in web.accept {
            let part: String?
            switch range.essence {
            case "multipart/related":
                part = range.parameters["type"].flatMap { MediaType($0)?.essence } ?? partTypes.keys.first { $0.hasPrefix("application/") }
            case "*/*", "multipart/*": part = partTypes.keys.first { $0.hasPrefix("application/") }
            default: part = range.essence
            }
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
