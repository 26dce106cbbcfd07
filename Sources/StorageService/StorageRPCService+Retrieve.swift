import DICOM
import Foundation
import MetisProto
import MetisRPC
import SwiftProtobuf

/// Retrieval beyond single instances: a study's or series' instances as one
/// stream, frames, bulk data, metadata and rendered frames.
extension StorageRPCService {
    func retrieveInstances(
        request: Metis_V1_RetrieveInstancesRequest,
        response: ResponseStreamWriter<Metis_V1_InstanceChunk>,
        context: ServerContext
    ) async throws {
        let locations = try await locations(request.studyInstanceUid, request.seriesInstanceUid, request.sopInstanceUid)
        let wanted = request.transferSyntaxUids
        for location in locations {
            let stored = try blobs.read(location.sha256)
            if wanted.isEmpty || wanted.first == "*" {
                try await Self.writeChunks(of: stored, sopInstanceUID: location.sopInstanceUID, syntax: nil, to: response)
                continue
            }
            let (bytes, syntax) = try await disk.run { () throws -> (Data, String) in
                try Self.transcoded(stored, wanted: wanted, instance: location.sopInstanceUID)
            }
            try await Self.writeChunks(of: bytes, sopInstanceUID: location.sopInstanceUID, syntax: syntax, to: response)
        }
    }

    /// The instance in the first of `wanted` it is stored in or can be transcoded to (blocking: for the disk threads).
    private static func transcoded(_ stored: Data, wanted: [String], instance: String) throws -> (Data, String) {
        let file = try parse(stored, instance: instance)
        let decodable =
            (try? PixelData(file.dataset, transferSyntax: file.transferSyntax))?.isDecodable ?? (file.dataset[.pixelData] == nil)
        guard let target = Transcoder.choose(wanted, stored: file.transferSyntax, decodable: decodable) else {
            throw unacceptable(wanted, stored: file.transferSyntax, instance: instance, decodable: decodable)
        }
        if target == file.transferSyntax { return (stored, target.uid) }
        do {
            return (try Transcoder.transcode(file, to: target), target.uid)
        } catch {
            throw StorageError(kind: .unacceptableSyntax, message: "instance \(instance) cannot be transcoded to \(target): \(error)")
        }
    }

    private static func unacceptable(_ wanted: [String], stored: TransferSyntax, instance: String, decodable: Bool) -> StorageError {
        let possible = [stored.uid] + (decodable ? Transcoder.producible.map(\.uid).filter { $0 != stored.uid } : [])
        return StorageError(
            kind: .unacceptableSyntax,
            message:
                "instance \(instance) is stored as \(stored) and cannot be sent as \(wanted.joined(separator: " or ")); "
                + "it can be sent as \(possible.joined(separator: ", "))")
    }

    func retrieveFrames(
        request: Metis_V1_RetrieveFramesRequest,
        response: ResponseStreamWriter<Metis_V1_FramePixels>,
        context: ServerContext
    ) async throws {
        guard !request.frameNumbers.isEmpty else { throw StorageError.invalid("no frame numbers") }
        guard !request.sopInstanceUid.isEmpty else { throw StorageError.invalid("SOP Instance UID missing") }
        try Self.checkScope(request.studyInstanceUid, request.seriesInstanceUid, request.sopInstanceUid)
        let numbers = request.frameNumbers
        // Native pixel data: the frames are read where the index says they lie, without parsing the file.
        let (layout, direct) = try await disk.run { () throws -> (StorageIndex.FrameLayout, [Data]?) in
            guard
                let layout = try index.frameLayout(
                    study: request.studyInstanceUid, series: request.seriesInstanceUid, instance: request.sopInstanceUid)
            else { throw Self.notFound(request.studyInstanceUid, request.seriesInstanceUid, request.sopInstanceUid) }
            guard let offset = layout.pixelDataOffset, let length = layout.frameLength else { return (layout, nil) }
            try Self.checkFrameNumbers(numbers, count: layout.numberOfFrames)
            return (layout, try numbers.map { try blobs.read(layout.sha256, offset: offset + (Int($0) - 1) * length, count: length) })
        }
        let stored = TransferSyntax(uid: layout.transferSyntaxUID)
        let wanted = request.transferSyntaxUids.isEmpty ? ["*"] : request.transferSyntaxUids
        // The first wanted syntax the frames are in or can be transcoded to decides (decodability is
        // checked when transcoding); native little-endian frames are the same bytes in either native syntax.
        let target = Transcoder.choose(wanted, stored: stored, decodable: true)
        let nativeStored = !stored.isEncapsulated && stored.isLittleEndian && !stored.isDeflated
        let frames: [Data]
        let syntax: String
        if let target, target == stored || (nativeStored && !target.isEncapsulated) {
            frames = try direct ?? Self.parsedFrames(numbers, of: try blobs.read(layout.sha256), instance: request.sopInstanceUid)
            syntax = target.uid
        } else {
            let data = try blobs.read(layout.sha256)
            (frames, syntax) = try await disk.run { () throws -> ([Data], String) in
                try Self.transcodedFrames(numbers, of: data, wanted: wanted, instance: request.sopInstanceUid)
            }
        }
        for (number, data) in zip(numbers, frames) {
            try await response.write(
                .with {
                    $0.frameNumber = number
                    $0.data = data
                    $0.transferSyntaxUid = syntax
                })
        }
    }

    /// Frames in the first of `wanted` they are stored in or can be transcoded to (blocking: for the disk threads).
    private static func transcodedFrames(_ numbers: [UInt32], of data: Data, wanted: [String], instance: String) throws -> ([Data], String)
    {
        let (file, pixels) = try framedPixels(numbers, of: data, instance: instance)
        guard let target = Transcoder.choose(wanted, stored: file.transferSyntax, decodable: pixels.isDecodable) else {
            throw unacceptable(wanted, stored: file.transferSyntax, instance: instance, decodable: pixels.isDecodable)
        }
        if target == file.transferSyntax { return (try storedFrames(numbers, of: pixels, instance: instance), target.uid) }
        return (
            try numbers.map { number in
                do {
                    return try Transcoder.frame(Int(number) - 1, of: pixels, in: target)
                } catch {
                    throw StorageError.invalid("frame \(number) of \(instance) cannot be decoded: \(error)")
                }
            }, target.uid
        )
    }

    /// Frames as stored, parsed out of the whole file: other transfer syntaxes, and rows indexed before v4.
    private static func parsedFrames(_ numbers: [UInt32], of data: Data, instance: String) throws -> [Data] {
        try storedFrames(numbers, of: try framedPixels(numbers, of: data, instance: instance).pixels, instance: instance)
    }

    /// The parsed instance and its pixel data, the frame numbers checked against it.
    private static func framedPixels(_ numbers: [UInt32], of data: Data, instance: String) throws -> (file: DICOMFile, pixels: PixelData) {
        let file = try parse(data, instance: instance)
        let pixels: PixelData
        do {
            pixels = try PixelData(file.dataset, transferSyntax: file.transferSyntax)
        } catch {
            throw StorageError.invalid("instance \(instance) has no usable pixel data: \(error)")
        }
        try checkFrameNumbers(numbers, count: pixels.numberOfFrames)
        return (file, pixels)
    }

    private static func storedFrames(_ numbers: [UInt32], of pixels: PixelData, instance: String) throws -> [Data] {
        try numbers.map { number in
            do {
                return try pixels.storedFrame(Int(number) - 1)
            } catch {
                throw StorageError.invalid("frame \(number) of \(instance) cannot be read: \(error)")
            }
        }
    }

    private static func checkFrameNumbers(_ numbers: [UInt32], count: Int) throws(StorageError) {
        for number in numbers where number < 1 || Int(number) > count {
            throw .invalid("frame \(number) out of range: the instance has frames 1 to \(count)")
        }
    }

    func retrieveBulkData(request: Metis_V1_RetrieveBulkDataRequest, context: ServerContext) async throws -> Metis_V1_BulkData {
        let (file, _) = try await parsedInstance(request.studyInstanceUid, request.seriesInstanceUid, request.sopInstanceUid)
        guard let element = Self.element(at: request.tagPath, in: file.dataset) else {
            throw StorageError(kind: .notFound, message: "no bulk data at \(request.tagPath) in instance \(request.sopInstanceUid)")
        }
        let data: Data
        switch element.value {
        case .bytes(let bytes): data = bytes
        case .encapsulated(let pixels): data = pixels.fragments.reduce(into: Data()) { $0.append($1) }
        case .sequence: throw StorageError.invalid("\(request.tagPath) is a sequence, not bulk data")
        }
        return .with {
            $0.data = data
            $0.vr = element.vr.description
            $0.transferSyntaxUid = file.transferSyntax.uid
        }
    }

    func getMetadata(request: Metis_V1_GetMetadataRequest, context: ServerContext) async throws -> Metis_V1_MetadataResponse {
        try Self.checkScope(request.studyInstanceUid, request.seriesInstanceUid, request.sopInstanceUid)
        let rows = try await index.metadata(
            study: request.studyInstanceUid, series: request.seriesInstanceUid.nonEmpty, instance: request.sopInstanceUid.nonEmpty)
        guard !rows.isEmpty else { throw Self.notFound(request.studyInstanceUid, request.seriesInstanceUid, request.sopInstanceUid) }
        return .with {
            $0.instances = rows.map { row in
                .with {
                    $0.studyInstanceUid = row.location.studyInstanceUID
                    $0.seriesInstanceUid = row.location.seriesInstanceUID
                    $0.sopInstanceUid = row.location.sopInstanceUID
                    $0.json = row.json
                }
            }
        }
    }

    func render(request: Metis_V1_RenderRequest, context: ServerContext) async throws -> Metis_V1_RenderedImage {
        var sop = request.sopInstanceUid, series = request.seriesInstanceUid
        if sop.isEmpty {
            // The middle image of the series, or of the study's first series that has images.
            try Self.checkScope(request.studyInstanceUid, request.seriesInstanceUid, "")
            let candidates = try await index.imageInstances(study: request.studyInstanceUid, series: request.seriesInstanceUid.nonEmpty)
            guard !candidates.isEmpty else {
                throw StorageError(
                    kind: .notFound,
                    message:
                        "no image to render in \(request.seriesInstanceUid.nonEmpty.map { "series \($0)" } ?? "study \(request.studyInstanceUid)")"
                )
            }
            (series, sop) = candidates[candidates.count / 2]
        }
        let (file, _) = try await parsedInstance(request.studyInstanceUid, series, sop)
        let frames = max(1, file.dataset.int(.numberOfFrames) ?? 1)
        let frame = request.frameNumber == 0 ? frames / 2 : Int(request.frameNumber) - 1
        guard (0..<frames).contains(frame) else {
            throw StorageError.invalid("frame \(request.frameNumber) out of range: the instance has frames 1 to \(frames)")
        }
        let renderer = FrameRenderer(
            windowCenter: request.windowWidth > 0 ? request.windowCenter : nil,
            windowWidth: request.windowWidth > 0 ? request.windowWidth : nil,
            maxSize: request.maxSize > 0 ? Int(request.maxSize) : nil)
        let mediaType = request.mediaType.isEmpty ? "image/png" : request.mediaType
        guard ["image/png", "image/jpeg"].contains(mediaType) else {
            throw StorageError.invalid("rendered images are image/png or image/jpeg, not \(mediaType)")
        }
        let image = try renderer.render(file.dataset, transferSyntax: file.transferSyntax, frame: frame)
        let encoded =
            mediaType == "image/jpeg"
            ? try JPEGImageEncoder.encode(image.pixels, width: image.width, height: image.height, channels: image.channels)
            : PNGEncoder.encode(image.pixels, width: image.width, height: image.height, channels: image.channels)
        return .with {
            $0.image = encoded
            $0.mediaType = mediaType
            $0.width = UInt32(image.width)
            $0.height = UInt32(image.height)
            $0.sopInstanceUid = sop
        }
    }

    /// The instances a retrieve names; NOT_FOUND when there are none.
    private func locations(_ study: String, _ series: String, _ instance: String) async throws -> [StorageIndex.InstanceLocation] {
        try Self.checkScope(study, series, instance)
        let locations = try await index.locations(study: study, series: series.nonEmpty, instance: instance.nonEmpty)
        guard !locations.isEmpty else { throw Self.notFound(study, series, instance) }
        return locations
    }

    /// One instance read from its blob and parsed.
    private func parsedInstance(_ study: String, _ series: String, _ instance: String) async throws -> (
        DICOMFile, StorageIndex.InstanceLocation
    ) {
        guard !instance.isEmpty else { throw StorageError.invalid("SOP Instance UID missing") }
        let location = try await locations(study, series, instance)[0]
        return (try Self.parse(try blobs.read(location.sha256), instance: instance), location)
    }

    private static func parse(_ data: Data, instance: String) throws(StorageError) -> DICOMFile {
        do {
            return try DICOMReader.read(data)
        } catch {
            throw .io("stored instance \(instance) cannot be parsed: \(error)")
        }
    }

    private static func checkScope(_ study: String, _ series: String, _ instance: String) throws(StorageError) {
        guard !study.isEmpty else { throw .invalid("Study Instance UID missing") }
        if !instance.isEmpty && series.isEmpty { throw .invalid("an instance is named within its series") }
    }

    private static func notFound(_ study: String, _ series: String, _ instance: String) -> StorageError {
        if !instance.isEmpty {
            return StorageError(kind: .notFound, message: "no instance \(instance) in series \(series) of study \(study)")
        }
        if !series.isEmpty { return StorageError(kind: .notFound, message: "no series \(series) in study \(study)") }
        return StorageError(kind: .notFound, message: "no study \(study)")
    }

    /// The element at a bulk data tag path: tags and item indexes, "30060039/0/30060040/2/30060050".
    static func element(at path: String, in dataset: Dataset) -> DataElement? {
        let parts = path.split(separator: "/").map(String.init)
        guard parts.count % 2 == 1 else { return nil }
        var current = dataset
        var index = 0
        while true {
            guard let raw = UInt32(parts[index], radix: 16), parts[index].count == 8, let element = current[Tag(rawValue: raw)] else {
                return nil
            }
            if index == parts.count - 1 { return element }
            guard case .sequence(let items) = element.value, let item = Int(parts[index + 1]), items.indices.contains(item) else {
                return nil
            }
            current = items[item]
            index += 2
        }
    }
}

extension String {
    /// nil when empty: optional request fields arrive as empty strings.
    var nonEmpty: String? { isEmpty ? nil : self }
}
