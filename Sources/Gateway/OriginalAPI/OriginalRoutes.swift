import DICOM
import Foundation
import Hummingbird
import MetisProto
import MetisRPC
import SwiftProtobuf

/// The original prototype's routes, same paths and methods, so that its
/// viewer extension keeps working. Study identifiers are Orthanc's (which the
/// prototype passed through); a StudyInstanceUID is accepted wherever an
/// identifier is. Shapes are documented in docs/api.md.
struct OriginalRoutes: Sendable {
    let storage: Metis_V1_Storage.Client
    let ingest: IngestPipeline
    /// Deleted studies leave the follow-up too.
    let followUp: FollowUpRecorder
    let maximumBodySize: Int

    func register(on router: Router<some RequestContext>) {
        router.get("/getAllStudies") { request, _ in
            let studies = try await studyMatches()
            if request.uri.queryParameters["expand"] != nil {
                return try JSONBody.response(try await studies.asyncMap { try await studyObject($0) })
            }
            return try JSONBody.response(studies.map(\.id))
        }
        router.get("/getStudy/:id") { _, context in
            let study = try await resolve(try context.parameters.require("id"))
            return try JSONBody.response(try await studyObject(study))
        }
        router.get("/getStudyDicoms/:id") { _, context in
            let study = try await resolve(try context.parameters.require("id"))
            return try JSONBody.response(try await instanceObjects(study))
        }
        router.post("/uploadDicom") { request, _ in try await upload(request) }
        router.delete("/delete-study/:uid") { _, context in
            let study = try await resolve(try context.parameters.require("uid"))
            let result = try await followUp.deleteStudy(study.uid) { [storage] in
                try await calling("metis-storage") { try await storage.deleteStudy(.with { $0.studyInstanceUid = study.uid }) }
            }
            return try JSONBody.response(DeletionReport(studyInstanceUID: study.uid, seriesInstanceUID: nil, result: result))
        }
    }

    /// A stored study: its Orthanc identifier, UID and QIDO attributes.
    struct StudyMatch: Sendable {
        var id: String
        var uid: String
        var patientID: String
        var attributes: Dataset
    }

    private func studyMatches(uid: String? = nil) async throws -> [StudyMatch] {
        let response = try await calling("metis-storage") {
            try await storage.query(
                .with {
                    $0.level = .study
                    if let uid { $0.match["StudyInstanceUID"] = uid }
                })
        }
        return try response.matches.map { match in
            StudyMatch(
                id: OrthancIdentifier.study(patientID: match.patientID, study: match.studyInstanceUid), uid: match.studyInstanceUid,
                patientID: match.patientID, attributes: try Self.dataset(match.dicomJson))
        }
    }

    /// The study an identifier or StudyInstanceUID names; 404 when none, 400 when it is neither.
    private func resolve(_ id: String) async throws -> StudyMatch {
        if OrthancIdentifier.isIdentifier(id) {
            guard let study = try await studyMatches().first(where: { $0.id == id }) else {
                throw HTTPError(.notFound, message: "no study \(id)")
            }
            return study
        }
        guard UID.isValid(id) else { throw HTTPError(.badRequest, message: "'\(id)' is neither a study identifier nor a StudyInstanceUID") }
        guard let study = try await studyMatches(uid: id).first else { throw HTTPError(.notFound, message: "no study \(id)") }
        return study
    }

    struct StudyObject: Encodable, Sendable {
        var ID: String
        var `Type` = "Study"
        var IsStable = true
        var ParentPatient: String
        var MainDicomTags: [String: String]
        var PatientMainDicomTags: [String: String]
        var Series: [String]
        var ModalitiesInStudy: [String]
        var NumberOfSeries: Int
        var NumberOfInstances: Int
    }

    private func studyObject(_ study: StudyMatch) async throws -> StudyObject {
        let attributes = study.attributes
        let patientID = study.patientID
        let series = try await calling("metis-storage") {
            try await storage.query(
                .with {
                    $0.level = .series
                    $0.studyInstanceUid = study.uid
                })
        }
        let seriesIDs = series.matches.map {
            OrthancIdentifier.series(patientID: patientID, study: study.uid, series: $0.seriesInstanceUid)
        }
        func tags(_ tags: [Tag]) -> [String: String] { Self.mainDicomTags(tags, of: attributes) }
        return StudyObject(
            ID: study.id, ParentPatient: OrthancIdentifier.patient(patientID),
            MainDicomTags: tags([
                .studyInstanceUID, .studyDate, .studyTime, .studyDescription, .accessionNumber, .studyID, .referringPhysicianName,
            ]),
            PatientMainDicomTags: tags([.patientName, .patientID, .patientBirthDate, .patientSex]),
            Series: seriesIDs, ModalitiesInStudy: attributes.strings(.modalitiesInStudy) ?? [],
            NumberOfSeries: attributes.int(.numberOfStudyRelatedSeries) ?? 0,
            NumberOfInstances: attributes.int(.numberOfStudyRelatedInstances) ?? 0)
    }

    struct InstanceObject: Encodable, Sendable {
        var ID: String
        var `Type` = "Instance"
        var ParentSeries: String
        var IndexInSeries: Int?
        var MainDicomTags: [String: String]
        var StudyInstanceUID: String
        var SeriesInstanceUID: String
        /// WADO-RS URL of the instance, relative to the gateway.
        var RetrieveURL: String
    }

    private func instanceObjects(_ study: StudyMatch) async throws -> [InstanceObject] {
        let patientID = study.patientID
        let response = try await calling("metis-storage") {
            try await storage.query(
                .with {
                    $0.level = .instance
                    $0.studyInstanceUid = study.uid
                })
        }
        return try response.matches.map { match in
            let attributes = try Self.dataset(match.dicomJson)
            let series = match.seriesInstanceUid, sop = match.sopInstanceUid
            let tags = Self.mainDicomTags(
                [.sopInstanceUID, .sopClassUID, .instanceNumber, .rows, .columns, .numberOfFrames], of: attributes)
            return InstanceObject(
                ID: OrthancIdentifier.instance(patientID: patientID, study: study.uid, series: series, instance: sop),
                ParentSeries: OrthancIdentifier.series(patientID: patientID, study: study.uid, series: series),
                IndexInSeries: attributes.int(.instanceNumber), MainDicomTags: tags, StudyInstanceUID: study.uid, SeriesInstanceUID: series,
                RetrieveURL: "/dicom-web/studies/\(study.uid)/series/\(series)/instances/\(sop)")
        }
    }

    /// A QIDO match of metis-storage (one DICOM JSON object) as a data set.
    private static func dataset(_ json: String) throws -> Dataset {
        do {
            return try DICOMJSON.decode(Data(json.utf8))
        } catch {
            throw HTTPError(.internalServerError, message: "metis-storage answered a match that is not DICOM JSON: \(error)")
        }
    }

    /// Orthanc's MainDicomTags: keyword → value (as text) of each attribute present.
    private static func mainDicomTags(_ tags: [Tag], of attributes: Dataset) -> [String: String] {
        var result = [String: String]()
        for tag in tags {
            guard let keyword = DataDictionary.entry(for: tag)?.keyword else { continue }
            // Text as stored; binary numbers (US Rows, Columns) as DICOM would write them in an IS.
            let numbers = attributes.numbers(tag)?.map { $0 == $0.rounded() && abs($0) < 1e15 ? String(Int64($0)) : String($0) }
            guard let values = attributes.strings(tag) ?? numbers else { continue }
            result[keyword] = values.joined(separator: "\\")
        }
        return result
    }

    /// What `/uploadDicom` answers: a line per file, and the studies touched.
    struct UploadReport: Encodable, Sendable {
        struct File: Encodable, Sendable {
            var file: String
            var status: IngestPipeline.Outcome.Status
            var sopInstanceUID: String?
            var studyInstanceUID: String?
            var seriesInstanceUID: String?
            var reason: String?
            /// Conformance defects of a file stored as sent.
            var warnings: [String]?
        }
        struct Study: Encodable, Sendable {
            var ID: String
            var StudyInstanceUID: String
        }
        var stored: Int
        var alreadyStored: Int
        var failed: Int
        var files: [File]
        var skipped: [SkippedFile]
        var studies: [Study]
    }

    private func upload(_ request: Request) async throws -> Response {
        let body = try await collectBody(request, limit: maximumBodySize)
        let contents = try UploadExtractor.contents(body: body, contentType: request.headers[.contentType])
        guard !contents.files.isEmpty || !contents.rejected.isEmpty else {
            throw HTTPError(.badRequest, message: "the upload holds no file")
        }
        let results = await ingest.store(contents.files, origin: .upload)
        var files = results.map {
            UploadReport.File(
                file: $0.file, status: $0.status, sopInstanceUID: $0.sopInstanceUID, studyInstanceUID: $0.studyInstanceUID,
                seriesInstanceUID: $0.seriesInstanceUID, reason: $0.reason, warnings: $0.warnings.isEmpty ? nil : $0.warnings)
        }
        files += contents.rejected.map { UploadReport.File(file: $0.file, status: .failed, reason: $0.reason) }
        var studies = [UploadReport.Study]()
        var seen = Set<String>()
        for result in results where result.succeeded {
            guard let study = result.studyInstanceUID, seen.insert(study).inserted else { continue }
            studies.append(.init(ID: OrthancIdentifier.study(patientID: result.patientID ?? "", study: study), StudyInstanceUID: study))
        }
        let succeeded = results.filter(\.succeeded)
        let failed = files.count - succeeded.count
        let report = UploadReport(
            stored: succeeded.filter { $0.status != .alreadyStored }.count,
            alreadyStored: succeeded.filter { $0.status == .alreadyStored }.count,
            failed: failed, files: files, skipped: contents.skipped, studies: studies)
        let status: HTTPResponse.Status
        if failed == 0 {
            status = .ok
        } else if !succeeded.isEmpty {
            status = .accepted
        } else if results.contains(where: { !$0.isClientError }) {
            status = .serviceUnavailable
        } else {
            status = results.contains { $0.refusal == .duplicateSOPInstance } ? .conflict : .badRequest
        }
        return try JSONBody.response(report, status: status)
    }
}

extension Array where Element: Sendable {
    fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results = [T]()
        results.reserveCapacity(count)
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
