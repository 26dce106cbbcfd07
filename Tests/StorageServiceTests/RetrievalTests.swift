import DICOM
import Foundation
import GRDB
import MetisProto
import MetisRPC
import SwiftProtobuf
import Testing

@testable import StorageService

@Suite("Retrieving series, frames, bulk data, metadata and rendered frames")
struct RetrievalTests {
    /// Study 1.1 with series 1.1.1 (instances 1, 2) and 1.1.2 (instance 1).
    static func populated() async throws -> (StorageHarness, [String: Data]) {
        let harness = try await StorageHarness.start()
        var stored = [String: Data]()
        for (series, count) in [("1.1.1", 2), ("1.1.2", 1)] {
            for number in 1...count {
                var dataset = try DICOMReader.read(
                    try makeInstance(
                        sop: "\(series).\(number)", study: "1.1", series: series, pixels: 64, seed: UInt8(number * 10))
                ).dataset
                dataset[.instanceNumber] = .text(Tag.instanceNumber, .IS, String(number))
                dataset[.seriesNumber] = .text(Tag.seriesNumber, .IS, series == "1.1.1" ? "1" : "2")
                dataset[.referringPhysicianName] = .text(Tag.referringPhysicianName, .PN, "Curie^Marie")
                dataset[.sliceThickness] = .text(Tag.sliceThickness, .DS, "1.5")
                let bytes = try DICOMWriter.write(dataset)
                _ = try await harness.client.storeInstance(.with { $0.dicom = bytes })
                stored["\(series).\(number)"] = bytes
            }
        }
        return (harness, stored)
    }

    static func code(of body: () async throws -> Void) async -> RPCError.Code? {
        do {
            try await body()
            return nil
        } catch let error as RPCError {
            return error.code
        } catch {
            return .unknown
        }
    }

    @Test("a study's instances stream in series and instance order, byte-identical, each starting at offset 0")
    func studyStream() async throws {
        let (harness, stored) = try await Self.populated()
        var instances = [(String, Data)]()
        for try await chunk in harness.client.retrieveInstances(.with { $0.studyInstanceUid = "1.1" }) {
            if chunk.offset == 0 { instances.append((chunk.sopInstanceUid, Data())) }
            instances[instances.count - 1].1.append(chunk.data)
        }
        #expect(instances.map(\.0) == ["1.1.1.1", "1.1.1.2", "1.1.2.1"])
        for (sop, data) in instances { #expect(data == stored[sop]) }

        var seriesOnly = [String]()
        for try await chunk in harness.client.retrieveInstances(
            .with {
                $0.studyInstanceUid = "1.1"
                $0.seriesInstanceUid = "1.1.2"
            })
        { seriesOnly.append(chunk.sopInstanceUid) }
        #expect(seriesOnly == ["1.1.2.1"])

        let unknown = await Self.code {
            for try await _ in harness.client.retrieveInstances(.with { $0.studyInstanceUid = "9.9" }) {}
        }
        #expect(unknown == .notFound)
        try await harness.stop()
    }

    @Test("frames come back as stored; frame numbers outside the instance are INVALID_ARGUMENT")
    func frames() async throws {
        let (harness, _) = try await Self.populated()
        var frames = [Metis_V1_FramePixels]()
        for try await frame in harness.client.retrieveFrames(
            .with {
                $0.studyInstanceUid = "1.1"
                $0.seriesInstanceUid = "1.1.1"
                $0.sopInstanceUid = "1.1.1.2"
                $0.frameNumbers = [1]
            })
        { frames.append(frame) }
        #expect(frames.count == 1)
        #expect(frames[0].data == Data((0..<64).map { UInt8(truncatingIfNeeded: $0) &+ 20 }))
        #expect(frames[0].transferSyntaxUid == "1.2.840.10008.1.2.1")

        let outOfRange = await Self.code {
            for try await _ in harness.client.retrieveFrames(
                .with {
                    $0.studyInstanceUid = "1.1"
                    $0.seriesInstanceUid = "1.1.1"
                    $0.sopInstanceUid = "1.1.1.2"
                    $0.frameNumbers = [2]
                })
            {}
        }
        #expect(outOfRange == .invalidArgument)
        let wrongSeries = await Self.code {
            for try await _ in harness.client.retrieveFrames(
                .with {
                    $0.studyInstanceUid = "1.1"
                    $0.seriesInstanceUid = "1.1.2"
                    $0.sopInstanceUid = "1.1.1.2"
                    $0.frameNumbers = [1]
                })
            {}
        }
        #expect(wrongSeries == .notFound)
        try await harness.stop()
    }

    @Test(
        "multi-frame native pixel data: frames in the order asked, read at the recorded offset or, for rows indexed before it was recorded, parsed"
    )
    func multiFrame() async throws {
        let harness = try await StorageHarness.start()
        var dataset = try DICOMReader.read(try makeInstance(sop: "1.3.1", study: "1.3", series: "1.3.1", pixels: 3 * 64)).dataset
        // Three frames of 8 × 8 bytes.
        dataset[.columns] = DataElement(tag: .columns, vr: .US, value: .bytes(Data([8, 0])))
        dataset[.numberOfFrames] = .text(.numberOfFrames, .IS, "3")
        _ = try await harness.client.storeInstance(.with { $0.dicom = try DICOMWriter.write(dataset) })
        let expected = (1...3).map { frame in Data((0..<64).map { UInt8(truncatingIfNeeded: (frame - 1) * 64 + $0) }) }

        func frames(_ numbers: [UInt32]) async throws -> [Data] {
            var frames = [Data]()
            for try await frame in harness.client.retrieveFrames(
                .with {
                    $0.studyInstanceUid = "1.3"
                    $0.seriesInstanceUid = "1.3.1"
                    $0.sopInstanceUid = "1.3.1"
                    $0.frameNumbers = numbers
                })
            { frames.append(frame.data) }
            return frames
        }
        let index = try StorageIndex(path: harness.storage.appendingPathComponent("index.sqlite").path)
        #expect(try index.frameLayout(study: "1.3", series: "1.3.1", instance: "1.3.1")?.frameLength == 64)
        #expect(try await frames([3, 1, 2]) == [expected[2], expected[0], expected[1]])
        let outOfRange = await Self.code { _ = try await frames([4]) }
        #expect(outOfRange == .invalidArgument)

        try await index.database.write { try $0.execute(sql: "UPDATE instances SET pixel_data_offset = NULL, frame_length = NULL") }
        #expect(try index.frameLayout(study: "1.3", series: "1.3.1", instance: "1.3.1")?.frameLength == nil)
        #expect(try await frames([3, 1, 2]) == [expected[2], expected[0], expected[1]])
        #expect(await Self.code { _ = try await frames([4]) } == .invalidArgument)
        try await harness.stop()
    }

    @Test("metadata at study, series and instance level, with bulk data as tag-path references that resolve")
    func metadataAndBulkData() async throws {
        let (harness, _) = try await Self.populated()
        let study = try await harness.client.getMetadata(.with { $0.studyInstanceUid = "1.1" })
        #expect(study.instances.map(\.sopInstanceUid) == ["1.1.1.1", "1.1.1.2", "1.1.2.1"])
        let series = try await harness.client.getMetadata(
            .with {
                $0.studyInstanceUid = "1.1"
                $0.seriesInstanceUid = "1.1.1"
            })
        #expect(series.instances.count == 2)
        let instance = try await harness.client.getMetadata(
            .with {
                $0.studyInstanceUid = "1.1"
                $0.seriesInstanceUid = "1.1.1"
                $0.sopInstanceUid = "1.1.1.1"
            })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(instance.instances[0].json.utf8)) as? [String: [String: Any]])
        #expect(object["7FE00010"]?["BulkDataURI"] as? String == "bulk:7FE00010")
        #expect((object["00280010"]?["Value"] as? [Int]) == [8])

        let bulk = try await harness.client.retrieveBulkData(
            .with {
                $0.studyInstanceUid = "1.1"
                $0.seriesInstanceUid = "1.1.1"
                $0.sopInstanceUid = "1.1.1.1"
                $0.tagPath = "7FE00010"
            })
        #expect(bulk.data == Data((0..<64).map { UInt8(truncatingIfNeeded: $0) &+ 10 }))
        let missing = await Self.code {
            _ = try await harness.client.retrieveBulkData(
                .with {
                    $0.studyInstanceUid = "1.1"
                    $0.seriesInstanceUid = "1.1.1"
                    $0.sopInstanceUid = "1.1.1.1"
                    $0.tagPath = "00420011"
                })
        }
        #expect(missing == .notFound)
        #expect(await Self.code { _ = try await harness.client.getMetadata(.with { $0.studyInstanceUid = "2.2" }) } == .notFound)
        #expect(await Self.code { _ = try await harness.client.getMetadata(.init()) } == .invalidArgument)
        try await harness.stop()
    }

    @Test("bulk data paths walk sequences item by item")
    func nestedBulkDataPath() throws {
        let icon = Dataset([DataElement(tag: .pixelData, vr: .OB, value: .bytes(Data([1, 2, 3, 4])))])
        let second = Dataset([DataElement(tag: .pixelData, vr: .OB, value: .bytes(Data([5, 6])))])
        let dataset = Dataset([DataElement(tag: Tag.iconImageSequence, vr: .SQ, value: .sequence([icon, second]))])
        #expect(StorageRPCService.element(at: "00880200/1/7FE00010", in: dataset)?.bytes == Data([5, 6]))
        #expect(StorageRPCService.element(at: "00880200/2/7FE00010", in: dataset) == nil)
        #expect(StorageRPCService.element(at: "00880200/0", in: dataset) == nil)
        // The metadata names nested bulk data with the same paths.
        let json = DICOMJSON.data(dataset) { element, path in element.tag == .pixelData ? "bulk:" + path : nil }
        #expect(String(decoding: json, as: UTF8.self).contains("bulk:00880200/1/7FE00010"))
    }

    @Test("a rendered frame is a PNG of the middle image, scaled to fit and windowed")
    func rendered() async throws {
        let (harness, _) = try await Self.populated()
        let image = try await harness.client.render(
            .with {
                $0.studyInstanceUid = "1.1"
                $0.maxSize = 4
            })
        #expect(image.image.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        #expect(image.mediaType == "image/png")
        #expect(image.sopInstanceUid == "1.1.1.2")  // the middle of series 1's two images
        #expect(image.width == 4 && image.height == 4)
        let full = try await harness.client.render(
            .with {
                $0.studyInstanceUid = "1.1"
                $0.seriesInstanceUid = "1.1.2"
                $0.sopInstanceUid = "1.1.2.1"
                $0.windowCenter = 40
                $0.windowWidth = 20
            })
        #expect(full.width == 8 && full.height == 8)
        // Decoded back through zlib, pixels below the window are black and above it white.
        let pixels = try PNGDecoding.grayscale(full.image)
        #expect(pixels[0] == 0)  // value 10
        #expect(pixels[63] == 255)  // value 73
        let jpeg = try await harness.client.render(
            .with {
                $0.studyInstanceUid = "1.1"
                $0.mediaType = "image/jpeg"
            })
        #expect(jpeg.mediaType == "image/jpeg")
        #expect(jpeg.image.prefix(3) == Data([0xFF, 0xD8, 0xFF]))
        await #expect(throws: RPCError.self) {
            _ = try await harness.client.render(
                .with {
                    $0.studyInstanceUid = "1.1"
                    $0.mediaType = "image/gif"
                })
        }
        try await harness.stop()
    }

    @Test("names in other character sets are indexed decoded: QIDO finds them by their own script, DICOM JSON shows them")
    func characterSetsSearchable() async throws {
        let harness = try await StorageHarness.start()
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("DICOMTests/Fixtures/charsets")
        for name in ["japanese-ir87", "korean-ir149", "cyrillic", "greek"] {
            _ = try await harness.client.storeInstance(
                .with { $0.dicom = try Data(contentsOf: folder.appendingPathComponent(name + ".dcm")) })
        }
        for (pattern, expected) in [("山田*", "METIS-JAPANESE-IR87"), ("홍*", "METIS-KOREAN-IR149"), ("Люксембург*", "METIS-CYRILLIC")] {
            let found = try await harness.client.query(
                .with {
                    $0.level = .study
                    $0.match = ["PatientName": pattern]
                })
            #expect(found.matches.map(\.patientID) == [expected], "\(pattern)")
        }
        let greek = try await harness.client.query(
            .with {
                $0.level = .study
                $0.match = ["PatientID": "METIS-GREEK"]
            })
        #expect(greek.matches.first?.dicomJson.contains("Διονυσιος") == true)
        try await harness.stop()
    }

    @Test("includefield from stored metadata, includefield=all, and fuzzy person-name matching")
    func includeFieldsAndFuzzy() async throws {
        let (harness, _) = try await Self.populated()
        let withThickness = try await harness.client.query(
            .with {
                $0.level = .study
                $0.includeFields = ["SliceThickness", "00080090"]
            })
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(withThickness.matches[0].dicomJson.utf8)) as? [String: [String: Any]])
        #expect(object["00180050"]?["Value"] as? [Double] == [1.5])
        #expect((object["00080090"]?["Value"] as? [[String: String]])?.first?["Alphabetic"] == "Curie^Marie")
        #expect(withThickness.matches.map(\.path) == ["studies/1.1"])

        let all = try await harness.client.query(
            .with {
                $0.level = .instance
                $0.includeAll = true
                $0.seriesInstanceUid = "1.1.2"
            })
        let instance = try #require(try JSONSerialization.jsonObject(with: Data(all.matches[0].dicomJson.utf8)) as? [String: [String: Any]])
        #expect(instance["00280100"] != nil)  // BitsAllocated, from the metadata
        #expect(instance["7FE00010"] == nil)  // never bulk data
        #expect(all.matches.map(\.path) == ["studies/1.1/series/1.1.2/instances/1.1.2.1"])
        #expect(all.matches.map(\.sopInstanceUid) == ["1.1.2.1"])
        #expect(all.matches.map(\.seriesInstanceUid) == ["1.1.2"])
        #expect(all.matches.map(\.studyInstanceUid) == ["1.1"])

        func fuzzy(_ name: String, _ enabled: Bool = true) async throws -> Int {
            try await harness.client.query(
                .with {
                    $0.level = .study
                    $0.match = ["PatientName": name]
                    $0.fuzzyMatching = enabled
                }
            ).matches.count
        }
        #expect(try await fuzzy("hel") == 1)  // Dupont^Hélène: a word prefix, accents ignored
        #expect(try await fuzzy("HELENE dup") == 1)
        #expect(try await fuzzy("lene") == 0)  // not a word prefix
        #expect(try await fuzzy("hel", false) == 0)  // exact matching without the flag
        #expect(
            await Self.code {
                _ = try await harness.client.query(
                    .with {
                        $0.level = .study; $0.includeFields = ["NotAKeyword"]
                    })
            } == .invalidArgument)
        try await harness.stop()
    }
}

/// Reads back the 8-bit grayscale PNGs the renderer writes (one IDAT, filter 0).
enum PNGDecoding {
    struct Failure: Error {}

    static func grayscale(_ png: Data) throws -> [UInt8] {
        let bytes = [UInt8](png)
        var position = 8, width = 0, height = 0
        var compressed = [UInt8]()
        while position + 8 <= bytes.count {
            let length =
                Int(bytes[position]) << 24 | Int(bytes[position + 1]) << 16 | Int(bytes[position + 2]) << 8 | Int(bytes[position + 3])
            let type = String(decoding: bytes[position + 4..<position + 8], as: UTF8.self)
            let body = Array(bytes[position + 8..<position + 8 + length])
            if type == "IHDR" {
                width = Int(body[0]) << 24 | Int(body[1]) << 16 | Int(body[2]) << 8 | Int(body[3])
                height = Int(body[4]) << 24 | Int(body[5]) << 16 | Int(body[6]) << 8 | Int(body[7])
            }
            if type == "IDAT" { compressed += body }
            position += 12 + length
        }
        let raw = try ZlibInflate.inflate(compressed, expected: (width + 1) * height)
        var pixels = [UInt8]()
        for row in 0..<height { pixels += raw[row * (width + 1) + 1..<(row + 1) * (width + 1)] }
        return pixels
    }
}

@Suite("Reading top-level JSON members as raw text")
struct JSONMembersTests {
    @Test("values of every kind come back verbatim; nested keys are not members")
    func members() {
        let json =
            #"{"00081030":{"vr":"LO","Value":["a,b}\"c"]}, "00100010" : {"vr":"PN","Value":[{"Alphabetic":"Dupont^Hélène"}]},"x":[1,[2,{"00100010":3}]],"n":-1.5e3,"t":true,"z":null}"#
        let all = JSONMembers.members(of: json) { _ in true }
        #expect(all.map(\.key) == ["00081030", "00100010", "x", "n", "t", "z"])
        #expect(all[0].value == #"{"vr":"LO","Value":["a,b}\"c"]}"#)
        #expect(all[1].value == #"{"vr":"PN","Value":[{"Alphabetic":"Dupont^Hélène"}]}"#)
        #expect(all[2].value == #"[1,[2,{"00100010":3}]]"#)
        #expect(all[3].value == "-1.5e3")
        #expect(all[5].value == "null")
        #expect(JSONMembers.members(of: json) { $0 == "00100010" }.count == 1)
        #expect(JSONMembers.members(of: "not json") { _ in true }.isEmpty)
    }
}
