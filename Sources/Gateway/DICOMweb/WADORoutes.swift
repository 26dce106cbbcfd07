import Foundation
import Hummingbird
import MetisProto
import MetisRPC
import SwiftProtobuf

/// WADO-RS (PS3.18 §10.4): instances, metadata, frames and bulk data.
struct WADORoutes: Sendable {
    let storage: Metis_V1_Storage.Client

    func register(on router: Router<some RequestContext>) {
        let study = "/dicom-web/studies/:study", series = study + "/series/:series", instance = series + "/instances/:instance"
        router.get(RouterPath(study)) { request, context in
            try await instances(request, scope: try Scope(context))
        }
        router.get(RouterPath(series)) { request, context in try await instances(request, scope: try Scope(context)) }
        router.get(RouterPath(instance)) { request, context in try await instances(request, scope: try Scope(context)) }
        router.get(RouterPath(study + "/metadata")) { request, context in try await metadata(request, scope: try Scope(context)) }
        router.get(RouterPath(series + "/metadata")) { request, context in try await metadata(request, scope: try Scope(context)) }
        router.get(RouterPath(instance + "/metadata")) { request, context in try await metadata(request, scope: try Scope(context)) }
        router.get(RouterPath(instance + "/frames/:frames")) { request, context in
            try await frames(request, scope: try Scope(context), list: try context.parameters.require("frames"))
        }
        router.get(RouterPath(instance + "/bulk/**")) { request, context in
            try await bulkData(request, scope: try Scope(context), path: context.parameters.getCatchAll().joined(separator: "/"))
        }
    }

    /// The study, series and instance UIDs a route names.
    struct Scope: Sendable {
        var study: String
        var series = ""
        var instance = ""

        init(_ context: some RequestContext) throws {
            study = try context.parameters.require("study")
            series = context.parameters.get("series") ?? ""
            instance = context.parameters.get("instance") ?? ""
        }
    }

    /// multipart/related; type="application/dicom": one part per instance, streamed from storage.
    private func instances(_ request: Request, scope: Scope) async throws -> Response {
        let web = DICOMwebRequest(request)
        try web.requireMultipart(of: "application/dicom")
        let stream = storage.retrieveInstances(
            .with {
                $0.studyInstanceUid = scope.study
                $0.seriesInstanceUid = scope.series
                $0.sopInstanceUid = scope.instance
                $0.transferSyntaxUids = TransferSyntaxNegotiation.forInstances(web)
            })
        // The first chunk arrives before the headers go out, so an unknown UID is a 404 and a syntax
        // storage cannot produce a 406, not a broken body.
        let chunks = ChunkIterator(stream.makeAsyncIterator())
        guard let first = try await TransferSyntaxNegotiation.calling({ try await chunks.next() }) else {
            throw HTTPError(.notFound, message: "nothing stored under \(scope)")
        }
        let boundary = MultipartWriter.makeBoundary()
        let root = web.root
        let body = ResponseBody { writer in
            var chunk: Metis_V1_InstanceChunk? = first
            while let current = chunk {
                if current.offset == 0 {
                    let location = "\(root)/studies/\(scope.study)/series/\(scope.series)/instances/\(current.sopInstanceUid)"
                    let type =
                        current.transferSyntaxUid.isEmpty
                        ? "application/dicom" : "application/dicom; transfer-syntax=\(current.transferSyntaxUid)"
                    try await writer.write(
                        ByteBuffer(
                            string: MultipartWriter.partHeader(
                                boundary: boundary, contentType: type, length: Int(current.totalSize),
                                location: scope.series.isEmpty ? nil : location)))
                }
                try await writer.write(ByteBuffer(bytes: current.data))
                if current.offset + UInt64(current.data.count) == current.totalSize { try await writer.write(ByteBuffer(string: "\r\n")) }
                chunk = try await chunks.next()
            }
            try await writer.write(ByteBuffer(string: MultipartWriter.closing(boundary: boundary)))
            try await writer.finish(nil)
        }
        return Response(
            status: .ok, headers: [.contentType: "multipart/related; type=\"application/dicom\"; boundary=\(boundary)"], body: body)
    }

    private func metadata(_ request: Request, scope: Scope) async throws -> Response {
        let web = DICOMwebRequest(request)
        try web.require(oneOf: ["application/dicom+json", "application/json"])
        let response = try await calling("metis-storage") {
            try await storage.getMetadata(
                .with {
                    $0.studyInstanceUid = scope.study
                    $0.seriesInstanceUid = scope.series
                    $0.sopInstanceUid = scope.instance
                })
        }
        let objects = response.instances.map { instance in
            // Stored bulk data references ("bulk:<tag path>") become URLs under the instance.
            let base =
                "\(web.root)/studies/\(instance.studyInstanceUid)/series/\(instance.seriesInstanceUid)/instances/\(instance.sopInstanceUid)/bulk/"
            return instance.json.replacing("\"BulkDataURI\":\"bulk:", with: "\"BulkDataURI\":\"\(base)")
        }
        return DICOMJSONResponse.array(objects)
    }

    private func frames(_ request: Request, scope: Scope, list: String) async throws -> Response {
        let web = DICOMwebRequest(request)
        let numbers = list.split(separator: ",", omittingEmptySubsequences: false).map { UInt32($0.trimmingWhitespace()) }
        guard !numbers.isEmpty, numbers.allSatisfy({ $0 != nil && $0! > 0 }) else {
            throw HTTPError(.badRequest, message: "frame list '\(list)' is not a comma-separated list of frame numbers from 1")
        }
        let wanted = TransferSyntaxNegotiation.forFrames(web)
        if wanted.isEmpty { try web.requireMultipart(of: "application/octet-stream") }
        var frames = [Metis_V1_FramePixels]()
        try await TransferSyntaxNegotiation.calling {
            let stream = storage.retrieveFrames(
                .with {
                    $0.studyInstanceUid = scope.study
                    $0.seriesInstanceUid = scope.series
                    $0.sopInstanceUid = scope.instance
                    $0.frameNumbers = numbers.map { $0! }
                    $0.transferSyntaxUids = wanted
                })
            for try await frame in stream { frames.append(frame) }
        }
        let boundary = MultipartWriter.makeBoundary()
        var buffer = ByteBuffer()
        for frame in frames {
            let location =
                "\(web.root)/studies/\(scope.study)/series/\(scope.series)/instances/\(scope.instance)/frames/\(frame.frameNumber)"
            buffer.writeString(
                MultipartWriter.partHeader(
                    boundary: boundary, contentType: TransferSyntaxNegotiation.frameMediaType(frame.transferSyntaxUid),
                    length: frame.data.count, location: location))
            buffer.writeBytes(frame.data)
            buffer.writeString("\r\n")
        }
        buffer.writeString(MultipartWriter.closing(boundary: boundary))
        let partType = TransferSyntaxNegotiation.frameMediaType(frames.first?.transferSyntaxUid ?? "")
        let essence = partType.split(separator: ";")[0]
        let syntax = frames.first?.transferSyntaxUid ?? ""
        return Response(
            status: .ok,
            headers: [
                .contentType: "multipart/related; type=\"\(essence)\"; transfer-syntax=\(syntax); boundary=\(boundary)"
            ],
            body: .init(byteBuffer: buffer))
    }

    /// One bulk data value: multipart/related (the default) or a bare application/octet-stream when asked for.
    private func bulkData(_ request: Request, scope: Scope, path: String) async throws -> Response {
        let web = DICOMwebRequest(request)
        let bare = !web.accept.isEmpty && web.accept.allSatisfy { $0.essence == "application/octet-stream" }
        if !bare { try web.requireMultipart(of: "application/octet-stream") }
        let value = try await calling("metis-storage") {
            try await storage.retrieveBulkData(
                .with {
                    $0.studyInstanceUid = scope.study
                    $0.seriesInstanceUid = scope.series
                    $0.sopInstanceUid = scope.instance
                    $0.tagPath = path
                })
        }
        if bare {
            return Response(
                status: .ok, headers: [.contentType: "application/octet-stream"], body: .init(byteBuffer: ByteBuffer(bytes: value.data)))
        }
        let boundary = MultipartWriter.makeBoundary()
        var buffer = ByteBuffer(
            string: MultipartWriter.partHeader(boundary: boundary, contentType: "application/octet-stream", length: value.data.count))
        buffer.writeBytes(value.data)
        buffer.writeString("\r\n" + MultipartWriter.closing(boundary: boundary))
        return Response(
            status: .ok, headers: [.contentType: "multipart/related; type=\"application/octet-stream\"; boundary=\(boundary)"],
            body: .init(byteBuffer: buffer))
    }
}

extension WADORoutes.Scope: CustomStringConvertible {
    var description: String {
        if !instance.isEmpty { return "instance \(instance)" }
        if !series.isEmpty { return "series \(series)" }
        return "study \(study)"
    }
}

/// Hands a response stream's iterator from the route handler to the body
/// writer; used by one task at a time.
final class ChunkIterator: @unchecked Sendable {
    private var iterator: RPCResponseStream<Metis_V1_InstanceChunk>.AsyncIterator

    init(_ iterator: RPCResponseStream<Metis_V1_InstanceChunk>.AsyncIterator) { self.iterator = iterator }

    func next() async throws -> Metis_V1_InstanceChunk? { try await iterator.next() }
}
