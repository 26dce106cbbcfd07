import DICOM
import Foundation
import HTTPTypes
import Hummingbird
import MetisProto
import MetisRPC
import SwiftProtobuf
import NIOCore

/// STOW-RS (PS3.18 §10.5) and the removal of studies and series.
struct STOWRoutes: Sendable {
    let storage: Metis_V1_Storage.Client
    let ingest: IngestPipeline
    /// Deleted studies leave the follow-up too.
    let followUp: FollowUpRecorder
    let maximumBodySize: Int

    func register(on router: Router<some RequestContext>) {
        router.post("/dicom-web/studies") { request, _ in try await store(request, study: nil) }
        router.post("/dicom-web/studies/:study") { request, context in
            try await store(request, study: try context.parameters.require("study"))
        }
        router.delete("/dicom-web/studies/:study") { _, context in
            try await delete(study: try context.parameters.require("study"), series: nil)
        }
        router.delete("/dicom-web/studies/:study/series/:series") { _, context in
            try await delete(study: try context.parameters.require("study"), series: try context.parameters.require("series"))
        }
    }

    private func store(_ request: Request, study: String?) async throws -> Response {
        let web = DICOMwebRequest(request)
        guard let type = request.headers[.contentType].flatMap({ MediaType($0) }), type.essence == "multipart/related",
            type.parameters["type"].flatMap({ MediaType($0) })?.essence ?? "application/dicom" == "application/dicom"
        else {
            throw HTTPError(
                .unsupportedMediaType,
                message:
                    "STOW-RS takes multipart/related; type=\"application/dicom\"; boundary=…, not \(request.headers[.contentType] ?? "no Content-Type")"
            )
        }
        try web.require(oneOf: ["application/dicom+json", "application/json"])
        let body = try await collectBody(request, limit: maximumBodySize)
        let multipart: MultipartBody
        do {
            multipart = try MultipartBody(body, boundary: type.parameters["boundary"] ?? "")
        } catch {
            throw HTTPError(.badRequest, message: "malformed multipart body: \(error)")
        }
        guard !multipart.parts.isEmpty else { throw HTTPError(.badRequest, message: "the multipart body holds no instance") }
        var files = [UploadedFile](), refused = [IngestPipeline.Outcome]()
        for (index, part) in multipart.parts.enumerated() {
            if let partType = part.contentType, partType.essence != "application/dicom" {
                refused.append(
                    .refused(
                        "part \(index + 1)", .cannotUnderstand,
                        reason: "part type \(partType.essence) is not application/dicom (metadata-and-bulk-data STOW is not supported)"))
            } else {
                files.append(UploadedFile(name: "part \(index + 1)", data: part.body))
            }
        }
        let results = await ingest.store(files, expectedStudy: study, origin: .dicomweb) + refused
        return Self.response(results, root: web.root, study: study)
    }

    /// The PS3.18 store response: 200 all stored, 202 some failed, 409 none
    /// stored (503 when storage itself failed), with the reasons per instance.
    static func response(_ results: [IngestPipeline.Outcome], root: String, study: String?) -> Response {
        var object = [String: JSONValue]()
        let stored = results.filter(\.succeeded), failed = results.filter { !$0.succeeded }
        let studies = Set(stored.compactMap(\.studyInstanceUID))
        if let only = study ?? (studies.count == 1 ? studies.first : nil) {
            object[Tag.retrieveURL.jsonKey] = attribute("UR", [.string("\(root)/studies/\(only)")])
        }
        if !stored.isEmpty {
            object[Tag.referencedSOPSequence.jsonKey] = .object([
                "vr": .string("SQ"),
                "Value": .array(
                    stored.map { result in
                        var item = [String: JSONValue]()
                        item[Tag.referencedSOPClassUID.jsonKey] = attribute("UI", [.string(result.sopClassUID ?? "")])
                        item[Tag.referencedSOPInstanceUID.jsonKey] = attribute("UI", [.string(result.sopInstanceUID ?? "")])
                        if !result.warnings.isEmpty {
                            // Stored as sent despite conformance defects: said in Text Value, as for failures.
                            item[Tag.textValue.jsonKey] = attribute(
                                "UT", [.string("\(result.file): " + result.warnings.joined(separator: "; "))])
                        }
                        item[Tag.retrieveURL.jsonKey] = attribute(
                            "UR",
                            [
                                .string(
                                    "\(root)/studies/\(result.studyInstanceUID ?? "")/series/\(result.seriesInstanceUID ?? "")/instances/\(result.sopInstanceUID ?? "")"
                                )
                            ])
                        return .object(item)
                    }),
            ])
        }
        if !failed.isEmpty {
            object[Tag.failedSOPSequence.jsonKey] = .object([
                "vr": .string("SQ"),
                "Value": .array(
                    failed.map { result in
                        var item = [String: JSONValue]()
                        item[Tag.referencedSOPClassUID.jsonKey] =
                            result.sopClassUID.map { attribute("UI", [.string($0)]) } ?? .object(["vr": .string("UI")])
                        item[Tag.referencedSOPInstanceUID.jsonKey] =
                            result.sopInstanceUID.map { attribute("UI", [.string($0)]) } ?? .object(["vr": .string("UI")])
                        item[Tag.failureReason.jsonKey] = attribute("US", [.integer(Int64(Self.failureReason(result.refusal)))])
                        // Error Comment (0000,0902) is not allowed in a data set; the reason goes in Text Value.
                        item[Tag.textValue.jsonKey] = attribute("UT", [.string("\(result.file): \(result.reason ?? "failed")")])
                        return .object(item)
                    }),
            ])
        }
        let status: HTTPResponse.Status
        let warned = stored.filter { !$0.warnings.isEmpty }
        if failed.isEmpty && warned.isEmpty {
            status = .ok
        } else if !stored.isEmpty {
            status = .accepted
        } else {
            status = failed.allSatisfy(\.isClientError) ? .conflict : .serviceUnavailable
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = (try? encoder.encode(JSONValue.object(object))).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        var response = DICOMJSONResponse.object(json, status: status)
        // PS3.18 §8.6.1.2: warnings also as HTTP Warning header fields (code 299).
        for result in warned.prefix(20) {
            let text = "\(result.sopInstanceUID ?? result.file): \(result.warnings.joined(separator: "; "))"
            response.headers.append(
                HTTPField(name: .init("Warning")!, value: "299 metis \"\(text.replacingOccurrences(of: "\"", with: "'"))\""))
        }
        return response
    }

    /// The Failure Reason (0008,1197) of a refusal: PS3.18 §10.5.3 and PS3.4 Annex B.2.3's codes.
    static func failureReason(_ refusal: IngestPipeline.Refusal?) -> UInt16 {
        switch refusal {
        case .cannotUnderstand: 0xC000
        case .duplicateSOPInstance: 0x0111
        case .commandMismatch: 0xA900
        case .tooLarge, .unavailable: 0xA700
        case .conflictingHierarchy, .studyMismatch, nil: 0x0110
        }
    }

    private static func attribute(_ vr: String, _ values: [JSONValue]) -> JSONValue {
        .object(["vr": .string(vr), "Value": .array(values)])
    }

    private func delete(study: String, series: String?) async throws -> Response {
        let result: Metis_V1_DeleteResponse
        if let series {
            result = try await calling("metis-storage") {
                try await storage.deleteSeries(
                    .with {
                        $0.studyInstanceUid = study
                        $0.seriesInstanceUid = series
                    })
            }
        } else {
            result = try await followUp.deleteStudy(study) { [storage] in
                try await calling("metis-storage") { try await storage.deleteStudy(.with { $0.studyInstanceUid = study }) }
            }
        }
        return try JSONBody.response(DeletionReport(studyInstanceUID: study, seriesInstanceUID: series, result: result))
    }
}

/// What deleting a study or series answers.
struct DeletionReport: Encodable, Sendable {
    var studyInstanceUID: String
    var seriesInstanceUID: String?
    var instancesDeleted: UInt32
    var bytesFreed: UInt64

    init(studyInstanceUID: String, seriesInstanceUID: String?, result: Metis_V1_DeleteResponse) {
        self.studyInstanceUID = studyInstanceUID
        self.seriesInstanceUID = seriesInstanceUID
        instancesDeleted = result.instancesDeleted
        bytesFreed = result.bytesFreed
    }
}

/// Reads a whole request body, refusing with 413 past `limit` bytes.
func collectBody(_ request: Request, limit: Int) async throws -> Data {
    if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
        throw HTTPError(.contentTooLarge, message: "the body has \(length) bytes; the limit is \(limit)")
    }
    do {
        let buffer = try await request.body.collect(upTo: limit)
        return Data(buffer.readableBytesView)
    } catch is NIOTooManyBytesError {
        throw HTTPError(.contentTooLarge, message: "the body is larger than the limit of \(limit) bytes")
    }
}

/// JSON (not DICOM JSON) bodies of the gateway's own routes.
enum JSONBody {
    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}
