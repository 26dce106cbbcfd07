import Foundation
import Hummingbird
import MetisProto
import MetisRPC
import SwiftProtobuf

/// The follow-up over HTTP: `/api/v1` (the tracking service's messages in
/// the protobuf JSON mapping, lowerCamelCase names, every field present),
/// exports as CSV and JSON, and the original prototype's `/followup-*` routes
/// with their original keys.
struct FollowUpRoutes: Sendable {
    let tracking: Metis_V1_Tracking.Client
    let patientLists = PatientListCache()

    func register(on router: Router<some RequestContext>) {
        router.get("/api/v1/patients") { request, _ in
            let query = DICOMwebRequest.decodeQuery(request.uri.query ?? "")
            let limit = try Self.number(query.first { $0.name == "limit" }?.value, name: "limit")
            let offset = try Self.number(query.first { $0.name == "offset" }?.value, name: "offset")
            return try await patientLists.response(
                for: .init(original: false, limit: UInt32(limit ?? 0), offset: UInt32(offset ?? 0)),
                ifNoneMatch: request.headers[.ifNoneMatch], tracking: tracking, write: PatientListJSON.protobuf)
        }
        router.get("/api/v1/patients/:id/timeline") { _, context in
            let id = try context.parameters.require("id")
            return try Self.protobufJSON(
                try await calling("metis-tracking") { try await tracking.getTimeline(.with { $0.patientID = id }) })
        }
        router.get("/api/v1/patients/:id/studies") { _, context in
            let id = try context.parameters.require("id")
            return try Self.protobufJSON(
                try await calling("metis-tracking") { try await tracking.listStudies(.with { $0.patientID = id }) })
        }
        router.get("/api/v1/studies/:uid/lesions") { _, context in
            let uid = try context.parameters.require("uid")
            return try Self.protobufJSON(
                try await calling("metis-tracking") { try await tracking.listLesions(.with { $0.studyInstanceUid = uid }) })
        }
        router.get("/api/v1/patients/:id/export.csv") { _, context in
            try await export(patient: try context.parameters.require("id"), csv: true)
        }
        router.get("/api/v1/patients/:id/export.json") { _, context in
            try await export(patient: try context.parameters.require("id"), csv: false)
        }
        router.get("/api/v1/export.csv") { _, _ in try await export(patient: nil, csv: true) }
        router.get("/api/v1/export.json") { _, _ in try await export(patient: nil, csv: false) }

        // The original prototype's follow-up routes.
        router.get("/followup-patients") { request, _ in
            try await patientLists.response(
                for: .init(original: true, limit: 0, offset: 0), ifNoneMatch: request.headers[.ifNoneMatch], tracking: tracking,
                write: { PatientListJSON.original($0.patients) })
        }
        router.get("/followup-etudes") { request, _ in
            let query = DICOMwebRequest.decodeQuery(request.uri.query ?? "")
            var studies = try await calling("metis-tracking") { try await tracking.listStudies(.init()) }.studies
            if let patient = query.first(where: { $0.name == "idPatient" })?.value {
                guard let key = Int64(patient) else {
                    throw HTTPError(.badRequest, message: "idPatient must be an integer, got '\(patient)'")
                }
                studies = studies.filter { $0.patientKey == key }
            }
            return try JSONBody.response(studies.map(OriginalStudy.init))
        }
        router.get("/followup-metastases") { request, _ in
            let query = DICOMwebRequest.decodeQuery(request.uri.query ?? "")
            var studies = try await calling("metis-tracking") { try await tracking.export(.init()) }.studies
            if let study = query.first(where: { $0.name == "idEtude" })?.value {
                guard let key = Int64(study) else { throw HTTPError(.badRequest, message: "idEtude must be an integer, got '\(study)'") }
                studies = studies.filter { $0.study.key == key }
                guard !studies.isEmpty else { throw HTTPError(.notFound, message: "no followed-up study \(key)") }
            }
            return try JSONBody.response(
                studies.flatMap { study in
                    study.lesions.map { OriginalMetastasis(study: study.study.key, lesion: $0) }
                })
        }
    }

    /// One row per lesion per study, with its track.
    struct ExportRow: Codable, Sendable {
        var patientID: String
        var studyInstanceUID: String
        var studyDate: String
        var seriesInstanceUID: String
        var engine: String
        var modelVersion: String
        var trackID: Int64
        var roiNumber: UInt32
        var label: String
        var volumeMm3: Double
        var longestDiameterMm: Double
        var longestAxialDiameterMm: Double
        var perpendicularDiameterMm: Double
        var firstSlice: UInt32
        var lastSlice: UInt32
        var centroidXMm: Double
        var centroidYMm: Double
        var centroidZMm: Double

        static let header = [
            "patient_id", "study_instance_uid", "study_date", "series_instance_uid", "engine", "model_version", "track_id", "roi_number",
            "label", "volume_mm3", "longest_diameter_mm", "longest_axial_diameter_mm", "perpendicular_diameter_mm", "first_slice",
            "last_slice", "centroid_x_mm", "centroid_y_mm", "centroid_z_mm",
        ]

        var fields: [String] {
            [
                patientID, studyInstanceUID, studyDate, seriesInstanceUID, engine, modelVersion, String(trackID), String(roiNumber), label,
                String(volumeMm3), String(longestDiameterMm), String(longestAxialDiameterMm), String(perpendicularDiameterMm),
                String(firstSlice), String(lastSlice), String(centroidXMm), String(centroidYMm), String(centroidZMm),
            ]
        }
    }

    private func export(patient: String?, csv: Bool) async throws -> Response {
        let export = try await calling("metis-tracking") { try await tracking.export(.with { $0.patientID = patient ?? "" }) }
        var rows = [ExportRow]()
        for entry in export.studies {
            let study = entry.study
            rows += entry.lesions.map { lesion in
                let c = lesion.centroidMm.count == 3 ? lesion.centroidMm : [0, 0, 0]
                return ExportRow(
                    patientID: study.patientID, studyInstanceUID: study.studyInstanceUid, studyDate: study.studyDate,
                    seriesInstanceUID: study.seriesInstanceUid, engine: study.engine, modelVersion: study.modelVersion,
                    trackID: lesion.trackID,
                    roiNumber: lesion.roiNumber, label: lesion.label, volumeMm3: lesion.volumeMm3,
                    longestDiameterMm: lesion.longestDiameterMm,
                    longestAxialDiameterMm: lesion.longestAxialDiameterMm, perpendicularDiameterMm: lesion.perpendicularDiameterMm,
                    firstSlice: lesion.firstSlice, lastSlice: lesion.lastSlice, centroidXMm: c[0], centroidYMm: c[1], centroidZMm: c[2])
            }
        }
        let name = patient.map { "metis-follow-up-\(Self.fileSafe($0))" } ?? "metis-follow-up"
        guard csv else {
            var response = try JSONBody.response(rows)
            response.headers[.contentDisposition] = "attachment; filename=\"\(name).json\""
            return response
        }
        var text = ExportRow.header.joined(separator: ",") + "\r\n"
        for row in rows { text += row.fields.map(Self.csvField).joined(separator: ",") + "\r\n" }
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8; header=present", .contentDisposition: "attachment; filename=\"\(name).csv\"",
            ],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// RFC 4180: quoted when it holds a comma, quote or line break; quotes doubled.
    static func csvField(_ value: String) -> String {
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func fileSafe(_ value: String) -> String {
        String(value.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
    }

    static func number(_ text: String?, name: String) throws -> Int? {
        guard let text else { return nil }
        guard let value = Int(text), value >= 0, value <= Int(UInt32.max) else {
            throw HTTPError(.badRequest, message: "\(name) must be a non-negative integer, got '\(text)'")
        }
        return value
    }

    static func protobufJSON(_ message: some SwiftProtobuf.Message) throws -> Response {
        var options = JSONEncodingOptions()
        options.alwaysPrintInt64sAsNumbers = true
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: try message.jsonString(options: options))))
    }
}

/// `GET /followup-etudes`: the original `etude` keys.
struct OriginalStudy: Encodable, Sendable {
    // swift-format-ignore: AlwaysUseLowerCamelCase
    var id_study: Int64
    var id: String
    var id_serie: String
    var id_SOP: String
    var date: String
    var idPatient: Int64

    init(_ study: Metis_V1_TrackedStudy) {
        id_study = study.key
        id = study.studyInstanceUid
        id_serie = study.seriesInstanceUid
        id_SOP = study.structureSetSopInstanceUid
        date = Self.isoDate(study.studyDate)
        idPatient = study.patientKey
    }

    /// DICOM DA (YYYYMMDD) as YYYY-MM-DD; anything else as it is.
    static func isoDate(_ da: String) -> String {
        guard da.count == 8, da.allSatisfy(\.isNumber) else { return da }
        let characters = Array(da)
        return String(characters[0..<4]) + "-" + String(characters[4..<6]) + "-" + String(characters[6..<8])
    }
}

/// `GET /followup-metastases`: the original `metastase` keys (mm³ and mm).
struct OriginalMetastasis: Encodable, Sendable {
    var idMetastase: Int64
    var idEtude: Int64
    var volume: Double
    var diametre: Double
    var slideDebut: UInt32
    var slideFin: UInt32
    var idTrack: Int64

    init(study: Int64, lesion: Metis_V1_TrackedLesion) {
        idMetastase = lesion.id
        idEtude = study
        volume = lesion.volumeMm3
        diametre = lesion.longestDiameterMm
        // The original counted slices from 1.
        slideDebut = lesion.firstSlice + 1
        slideFin = lesion.lastSlice + 1
        idTrack = lesion.trackID
    }
}
