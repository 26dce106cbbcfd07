import DICOM
import Foundation
#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A generated multi-series MR study held in memory: 16×16 16-bit axial
/// slices with geometry, a Latin-1 patient name, as a scanner would send it.
struct MRStudy {
    struct Instance {
        var series: String
        var sop: String
        var bytes: Data
        var pixels: Data
    }

    let study: String
    let patientID: String
    var instances: [Instance] = []

    init(study: String, patientID: String, patientName: String, date: String, series: Int, slices: Int) throws {
        self.study = study
        self.patientID = patientID
        for seriesNumber in 1...series {
            let seriesUID = "\(study).\(seriesNumber)"
            for slice in 1...slices {
                var dataset = Dataset(characterSet: SpecificCharacterSet(terms: ["ISO_IR 100"]))
                func text(_ tag: Tag, _ vr: VR, _ value: String) { dataset[tag] = .text(tag, vr, value) }
                func us(_ tag: Tag, _ value: UInt16) {
                    dataset[tag] = DataElement(tag: tag, vr: .US, value: .bytes(Data([UInt8(value & 0xFF), UInt8(value >> 8)])))
                }
                text(.specificCharacterSet, .CS, "ISO_IR 100")
                text(.sopClassUID, .UI, "1.2.840.10008.5.1.4.1.1.4")
                text(.sopInstanceUID, .UI, "\(seriesUID).\(slice)")
                text(.studyInstanceUID, .UI, study)
                text(.seriesInstanceUID, .UI, seriesUID)
                text(.patientID, .LO, patientID)
                dataset[.patientName] = DataElement(tag: .patientName, vr: .PN, value: .bytes(patientName.data(using: .isoLatin1)!))
                text(Tag.studyDate, .DA, date)
                text(Tag.studyTime, .TM, "101500")
                text(Tag.modality, .CS, "MR")
                dataset[.studyDescription] = DataElement(
                    tag: Tag.studyDescription, vr: .LO, value: .bytes("IRM cérébrale ".data(using: .isoLatin1)!))
                text(Tag.seriesDescription, .LO, ["T1 gado", "FLAIR", "T2"][(seriesNumber - 1) % 3])
                text(Tag.seriesNumber, .IS, String(seriesNumber))
                text(Tag.instanceNumber, .IS, String(slice))
                text(Tag.imagePositionPatient, .DS, "-120\\-120\\\(slice * 2)")
                text(Tag.imageOrientationPatient, .DS, "1\\0\\0\\0\\1\\0")
                text(Tag.pixelSpacing, .DS, "0.9\\0.9")
                text(.photometricInterpretation, .CS, "MONOCHROME2")
                us(.samplesPerPixel, 1)
                us(.rows, 16)
                us(.columns, 16)
                us(.bitsAllocated, 16)
                us(.bitsStored, 12)
                us(Tag.highBit, 11)
                us(.pixelRepresentation, 0)
                var pixels = Data()
                for index in 0..<256 {
                    let value = UInt16((index * 13 + slice * 7 + seriesNumber * 101) % 4096)
                    pixels.append(contentsOf: [UInt8(value & 0xFF), UInt8(value >> 8)])
                }
                dataset[.pixelData] = DataElement(tag: .pixelData, vr: .OW, value: .bytes(pixels))
                instances.append(
                    Instance(series: seriesUID, sop: "\(seriesUID).\(slice)", bytes: try DICOMWriter.write(dataset), pixels: pixels))
            }
        }
    }
}

/// Plain HTTP for the tests (URLSession), answers with status, headers and body.
enum HTTP {
    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: Data

        var text: String { String(decoding: body, as: UTF8.self) }
        func json() throws -> Any { try JSONSerialization.jsonObject(with: body) }
    }

    static func request(_ method: String, _ url: String, headers: [String: String] = [:], body: Data? = nil) async throws -> Answer {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        // Correctness, not speed, is under test: a synchronous segmentation on a machine the whole suite loads may take minutes.
        request.timeoutInterval = 600
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = body
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var fields = [String: String]()
        for (name, value) in http.allHeaderFields { fields["\(name)".lowercased()] = "\(value)" }
        return Answer(status: http.statusCode, headers: fields, body: data)
    }

    /// A multipart/related (or form-data) body of `parts`.
    static func multipart(_ parts: [(headers: String, data: Data)], boundary: String) -> Data {
        var body = Data()
        for part in parts {
            body += Data("--\(boundary)\r\n\(part.headers)\r\n\r\n".utf8)
            body += part.data
            body += Data("\r\n".utf8)
        }
        body += Data("--\(boundary)--\r\n".utf8)
        return body
    }
}
