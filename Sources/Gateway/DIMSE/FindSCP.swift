import DICOM
import DICOMNetwork
import DIMSE
import Foundation
import Logging
import MetisProto
import MetisRPC
import SwiftProtobuf

/// C-FIND as SCP for Patient Root and Study Root (PS3.4 C.4.1): the
/// identifier's keys become the same storage query QIDO-RS makes (wildcards,
/// ranges, UID lists, case-insensitive names), each match one pending response.
struct FindSCP: Sendable {
    let storage: Metis_V1_Storage.Client
    let aeTitle: String
    let audit: AuditLog?
    let logger: Logger

    /// A C-FIND identifier: its level, match keys and return keys.
    struct Identifier: Sendable {
        enum Level: String, Sendable {
            case patient = "PATIENT", study = "STUDY", series = "SERIES", image = "IMAGE"
        }

        var level: Level
        /// Keyword → value, for keys with a value (universal matches left out).
        var match: [String: String] = [:]
        /// Every key asked for, in order, with the VR its empty value has.
        var keys: [(tag: Tag, vr: VR)] = []

        /// Reads `dataset`; for `patientRoot` false, the PATIENT level is refused.
        init(_ dataset: Dataset, patientRoot: Bool) throws(DIMSEFailure) {
            guard let text = dataset.string(.queryRetrieveLevel)?.trimmingCharacters(in: .whitespaces),
                let level = Level(rawValue: text.uppercased())
            else {
                throw DIMSEFailure(
                    DIMSEStatus.identifierDoesNotMatchSOPClass, "Query/Retrieve Level missing or not PATIENT, STUDY, SERIES or IMAGE")
            }
            guard patientRoot || level != .patient else {
                throw DIMSEFailure(DIMSEStatus.identifierDoesNotMatchSOPClass, "Study Root has no PATIENT level")
            }
            self.level = level
            for element in dataset.elements
            where element.tag.group != 0x0000 && element.tag.group != 0x0002 && element.tag != .specificCharacterSet
                && element.tag != .queryRetrieveLevel
            {
                keys.append((element.tag, element.vr))
                guard element.vr != .SQ, let keyword = DataDictionary.entry(for: element.tag)?.keyword else { continue }
                let value = (dataset.strings(element.tag) ?? []).joined(separator: "\\").trimmingCharacters(in: .whitespaces)
                if !value.isEmpty && value != "*" { match[keyword] = value }
            }
        }
    }

    /// Answers `request`: pending responses through `association`, then the final one (returned).
    func find(_ request: DIMSEMessage, on association: Association) async -> DIMSEMessage {
        guard let context = association.negotiated.contexts[request.contextID], let data = request.dataset else {
            return request.response(status: DIMSEStatus.cannotUnderstand, elements: [.errorComment("C-FIND-RQ without an identifier")])
        }
        let syntax = TransferSyntax(uid: context.transferSyntax)
        let identifier: Identifier
        do {
            let dataset = try DICOMReader.readElements(data, transferSyntax: syntax)
            identifier = try Identifier(dataset, patientRoot: context.abstractSyntax == SOPClass.patientRootFind)
        } catch let failure as DIMSEFailure {
            return request.response(status: failure.status, elements: [.errorComment(failure.comment)])
        } catch {
            return request.response(status: DIMSEStatus.cannotUnderstand, elements: [.errorComment("identifier unreadable: \(error)")])
        }
        var matches = 0
        let status: UInt16
        var comment: String?
        do {
            let (results, unsupported) = try await query(identifier)
            let pending = unsupported.isEmpty ? DIMSEStatus.pending : DIMSEStatus.pendingWithWarning
            // One command set for every pending response (with a data set); only the identifier changes.
            let template = request.response(status: pending, dataset: Data())
            // Pending responses go out in batches, one socket write each; a C-CANCEL is seen between batches.
            var start = 0
            while start < results.count, !Task.isCancelled {
                let batch = results[start..<min(start + 64, results.count)]
                try await association.send(
                    try batch.map {
                        var response = template
                        response.dataset = try encode($0, identifier, syntax)
                        return response
                    })
                matches += batch.count
                start += batch.count
            }
            status = Task.isCancelled ? DIMSEStatus.cancel : DIMSEStatus.success
        } catch let failure as DIMSEFailure {
            status = failure.status
            comment = failure.comment
        } catch {
            status = DIMSEStatus.unableToProcess
            comment = "\(error)"
            logger.warning("C-FIND failed", metadata: ["error": "\(error)"])
        }
        audit?.record(.dimse(.read, operation: "C-FIND \(identifier.level.rawValue)", association: association, status: status))
        logger.debug("C-FIND", metadata: ["dimse.level": "\(identifier.level.rawValue)", "dimse.matches": "\(matches)"])
        return request.response(status: status, elements: comment.map { [.errorComment($0)] } ?? [])
    }

    /// The matches as data sets, and the keys storage could not match on.
    private func query(_ identifier: Identifier) async throws -> ([Dataset], [String]) {
        let level: Metis_V1_QueryRequest.Level =
            switch identifier.level {
            case .patient, .study: .study
            case .series: .series
            case .image: .instance
            }
        let response: Metis_V1_QueryResponse
        do {
            response = try await storage.query(
                .with {
                    $0.level = level
                    $0.match = identifier.match
                    $0.includeFields = identifier.keys.map { String(format: "%08X", $0.tag.rawValue) }
                    $0.skipUnsupportedKeys = true
                })
        } catch let error as RPCError where error.code == .invalidArgument {
            throw DIMSEFailure(DIMSEStatus.identifierDoesNotMatchSOPClass, error.message)
        }
        var datasets = try response.matches.map { match -> Dataset in
            try Self.dataset(fromJSON: match.dicomJson)
        }
        if identifier.level == .patient { datasets = Self.patients(datasets) }
        return (datasets, response.unsupportedKeys)
    }

    /// Study matches grouped by Patient ID, in first-seen order, with their study, series and instance counts.
    static func patients(_ studies: [Dataset]) -> [Dataset] {
        var order = [String]()
        var patients = [String: Dataset]()
        var counts = [String: (studies: Int, series: Int, instances: Int)]()
        for study in studies {
            let id = study.string(.patientID) ?? ""
            if patients[id] == nil {
                order.append(id)
                patients[id] = study
            }
            let count = counts[id] ?? (0, 0, 0)
            counts[id] = (
                count.studies + 1, count.series + (study.int(.numberOfStudyRelatedSeries) ?? 0),
                count.instances + (study.int(.numberOfStudyRelatedInstances) ?? 0)
            )
        }
        return order.map { id in
            var patient = patients[id]!
            let count = counts[id]!
            for (tag, value) in [
                (Tag.numberOfPatientRelatedStudies, count.studies), (.numberOfPatientRelatedSeries, count.series),
                (.numberOfPatientRelatedInstances, count.instances),
            ] {
                patient[tag] = .text(tag, .IS, String(value))
            }
            return patient
        }
    }

    /// A match's DICOM JSON as a data set; text outside ASCII is kept as UTF-8 (ISO_IR 192).
    static func dataset(fromJSON json: String) throws -> Dataset {
        guard json.utf8.contains(where: { $0 >= 0x80 }) else { return try DICOMJSON.decode(Data(json.utf8)) }
        var value = try JSONValue.parse(Data(json.utf8))
        if case .object(var members) = value {
            members[Tag.specificCharacterSet.jsonKey] = .object(["vr": .string("CS"), "Value": .array([.string("ISO_IR 192")])])
            value = .object(members)
        }
        return try DICOMJSON.decode(value)
    }

    /// The response identifier: every key asked for (empty when the match has no value), the level, Metis's AE title.
    private func encode(_ match: Dataset, _ identifier: Identifier, _ syntax: TransferSyntax) throws -> Data {
        var response = Dataset()
        for (tag, vr) in identifier.keys {
            response[tag] = match[tag] ?? DataElement(tag: tag, vr: vr, value: vr == .SQ ? .sequence([]) : .bytes(Data()))
        }
        if let characterSet = match[.specificCharacterSet] { response[.specificCharacterSet] = characterSet }
        response[.queryRetrieveLevel] = .text(.queryRetrieveLevel, .CS, identifier.level.rawValue)
        response[.retrieveAETitle] = .text(.retrieveAETitle, .AE, aeTitle)
        return try DICOMWriter.elements(response, transferSyntax: syntax)
    }
}

/// A DIMSE failure status with its Error Comment.
struct DIMSEFailure: Error, Sendable {
    let status: UInt16
    let comment: String

    init(_ status: UInt16, _ comment: String) {
        self.status = status
        self.comment = comment
    }
}
