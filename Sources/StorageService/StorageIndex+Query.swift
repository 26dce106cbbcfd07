import DICOM
import Foundation
import GRDB

extension StorageIndex {
    enum QueryLevel: Sendable {
        case study, series, instance
    }

    struct Query: Sendable {
        var level: QueryLevel
        var match: [String: String] = [:]
        var studyInstanceUID: String?
        var seriesInstanceUID: String?
        var limit: Int?
        var offset = 0
        /// Attributes beyond the level's defaults (keywords or `GGGGEEEE` tags).
        var includeFields: [String] = []
        var includeAll = false
        /// Person names match word by word, by prefix, ignoring case and accents.
        var fuzzyMatching = false
        /// Only the series Metis's segmentation stored as its results (series and instance levels).
        var segmentationResultsOnly = false
    }

    /// One match: its DICOM JSON object and its path under a DICOMweb root
    /// (`studies/{uid}[/series/{uid}[/instances/{uid}]]`).
    struct Match: Sendable {
        var json: String
        var path: String
        var studyInstanceUID: String
        var patientID: String
        /// Empty at study level.
        var seriesInstanceUID = ""
        var modality = ""
        /// Empty above instance level.
        var sopInstanceUID = ""
    }

    private typealias Attribute = AttributeMatching.Attribute

    private static let studyAttributes: [Attribute] = [
        .init(
            keyword: "PatientName", tag: Tag.patientName, vr: .PN, column: "p.patient_name", kind: .personName,
            matchColumn: "p.patient_name_folded"),
        .init(keyword: "PatientID", tag: Tag.patientID, vr: .LO, column: "p.patient_id", kind: .text),
        .init(keyword: "PatientBirthDate", tag: Tag.patientBirthDate, vr: .DA, column: "p.birth_date", kind: .date),
        .init(keyword: "PatientSex", tag: Tag.patientSex, vr: .CS, column: "p.sex", kind: .text),
        .init(keyword: "StudyInstanceUID", tag: Tag.studyInstanceUID, vr: .UI, column: "st.study_instance_uid", kind: .uid),
        .init(keyword: "StudyDate", tag: Tag.studyDate, vr: .DA, column: "st.study_date", kind: .date),
        .init(keyword: "StudyTime", tag: Tag.studyTime, vr: .TM, column: "st.study_time", kind: .time),
        .init(keyword: "StudyDescription", tag: Tag.studyDescription, vr: .LO, column: "st.study_description", kind: .text),
        .init(keyword: "AccessionNumber", tag: Tag.accessionNumber, vr: .SH, column: "st.accession_number", kind: .text),
        .init(keyword: "ModalitiesInStudy", tag: Tag.modalitiesInStudy, vr: .CS, column: "st.modalities_in_study", kind: .codeList),
        .init(
            keyword: "ReferringPhysicianName", tag: Tag.referringPhysicianName, vr: .PN, column: "st.referring_physician_name", kind: .text),
        .init(keyword: "StudyID", tag: Tag.studyID, vr: .SH, column: "st.study_id", kind: .text),
    ]
    private static let seriesAttributes: [Attribute] = [
        .init(keyword: "SeriesInstanceUID", tag: Tag.seriesInstanceUID, vr: .UI, column: "se.series_instance_uid", kind: .uid),
        .init(keyword: "Modality", tag: Tag.modality, vr: .CS, column: "se.modality", kind: .text),
        .init(keyword: "SeriesNumber", tag: Tag.seriesNumber, vr: .IS, column: "se.series_number", kind: .integer),
        .init(keyword: "SeriesDescription", tag: Tag.seriesDescription, vr: .LO, column: "se.series_description", kind: .text),
        .init(keyword: "SeriesDate", tag: Tag.seriesDate, vr: .DA, column: "se.series_date", kind: .date),
        .init(keyword: "SeriesTime", tag: Tag.seriesTime, vr: .TM, column: "se.series_time", kind: .time),
    ]

    /// What `includefield=all` adds from the stored metadata, beyond the index
    /// columns: the patient module and study-level attributes for studies,
    /// series-level ones for series (instances get every attribute).
    private static func belongsToAll(_ tag: Tag, level: QueryLevel) -> Bool {
        switch level {
        case .study:
            return tag.group == 0x0010
                || [
                    Tag.issuerOfAccessionNumberSequence, Tag.procedureCodeSequence, Tag.nameOfPhysiciansReadingStudy,
                    Tag.admittingDiagnosesDescription, Tag.requestedProcedureDescription,
                    Tag.requestingPhysician, Tag.requestingService,
                ].contains(tag)
        case .series:
            return [
                Tag.manufacturer, Tag.institutionName, Tag.stationName, Tag.manufacturerModelName, Tag.bodyPartExamined,
                Tag.protocolName, Tag.frameOfReferenceUID, Tag.laterality, Tag.performedProcedureStepStartDate,
                Tag.performedProcedureStepStartTime,
                Tag.requestAttributesSequence, Tag.seriesDescriptionCodeSequence,
            ].contains(tag)
        case .instance:
            return true
        }
    }
    private static let instanceAttributes: [Attribute] = [
        .init(keyword: "SOPInstanceUID", tag: Tag.sopInstanceUID, vr: .UI, column: "i.sop_instance_uid", kind: .uid),
        .init(keyword: "SOPClassUID", tag: Tag.sopClassUID, vr: .UI, column: "i.sop_class_uid", kind: .uid),
        .init(keyword: "InstanceNumber", tag: Tag.instanceNumber, vr: .IS, column: "i.instance_number", kind: .integer),
        .init(keyword: "Rows", tag: Tag.rows, vr: .US, column: "i.rows", kind: .integer),
        .init(keyword: "Columns", tag: Tag.columns, vr: .US, column: "i.columns", kind: .integer),
        .init(keyword: "NumberOfFrames", tag: Tag.numberOfFrames, vr: .IS, column: "i.number_of_frames", kind: .integer),
    ]

    /// Whether the index can match `key` (a keyword or `GGGGEEEE` tag) at `level`.
    static func canMatch(_ key: String, at level: QueryLevel) -> Bool {
        let attributes =
            switch level {
            case .study: studyAttributes
            case .series: studyAttributes + seriesAttributes
            case .instance: studyAttributes + seriesAttributes + instanceAttributes
            }
        return attributes.contains { $0.keyword == key || $0.tag.jsonKey == key.uppercased() }
    }

    /// Returned when asked for (C-MOVE and C-GET choose presentation contexts with it), not by default.
    private static let availableTransferSyntax = Attribute(
        keyword: "AvailableTransferSyntaxUID", tag: Tag.availableTransferSyntaxUID, vr: .UI, column: "i.transfer_syntax_uid", kind: .uid)

    /// The matches of `query`, each a DICOM JSON object of its level's attributes and counts, in a stable order.
    func query(_ query: Query) async throws -> [Match] {
        let attributes: [Attribute]
        var from: String
        var counts: [(tag: Tag, sql: String)] = []
        let order: String
        switch query.level {
        case .study:
            attributes = Self.studyAttributes
            from = "studies st JOIN patients p ON p.id = st.patient_id"
            counts = [
                (Tag.numberOfStudyRelatedSeries, "(SELECT COUNT(*) FROM series c WHERE c.study_id = st.id)"),
                (
                    Tag.numberOfStudyRelatedInstances,
                    "(SELECT COUNT(*) FROM instances ci JOIN series cs ON cs.id = ci.series_id WHERE cs.study_id = st.id)"
                ),
            ]
            order = "st.study_date, st.study_time, st.id"
        case .series:
            attributes = Self.studyAttributes + Self.seriesAttributes
            from = "series se JOIN studies st ON st.id = se.study_id JOIN patients p ON p.id = st.patient_id"
            counts = [(Tag.numberOfSeriesRelatedInstances, "(SELECT COUNT(*) FROM instances c WHERE c.series_id = se.id)")]
            order = "st.id, se.series_number, se.id"
        case .instance:
            attributes = Self.studyAttributes + Self.seriesAttributes + Self.instanceAttributes + [Self.availableTransferSyntax]
            from =
                "instances i JOIN series se ON se.id = i.series_id JOIN studies st ON st.id = se.study_id JOIN patients p ON p.id = st.patient_id"
            order = "se.id, i.instance_number, i.id"
        }
        var conditions = [String]()
        var arguments = [String]()
        var match = query.match
        if let study = query.studyInstanceUID { match["StudyInstanceUID"] = study }
        if let series = query.seriesInstanceUID { match["SeriesInstanceUID"] = series }
        if query.segmentationResultsOnly {
            guard query.level != .study else { throw StorageError.invalid("segmentation results are chosen at series or instance level") }
            conditions.append("se.segmentation_source IS NOT NULL")
        }
        for (key, value) in match.sorted(by: { $0.key < $1.key }) {
            guard let attribute = attributes.first(where: { $0.keyword == key || $0.tag.jsonKey == key.uppercased() }) else {
                throw StorageError.invalid("cannot match on '\(key)' at \(query.level) level")
            }
            if query.fuzzyMatching, attribute.kind == .personName {
                for word in PersonNameFolding.queryWords(
                    value.replacingOccurrences(of: "*", with: " ").replacingOccurrences(of: "?", with: " "))
                {
                    conditions.append("p.patient_name_words GLOB ?")
                    arguments.append("* " + AttributeMatching.escapedForGlob(word) + "*")
                }
            } else if let condition = try AttributeMatching.condition(for: attribute, matching: value) {
                conditions.append(condition.sql)
                arguments += condition.arguments
            }
        }
        var returned =
            query.level == .study
            ? Self.studyAttributes
            : query.level == .series
                ? Self.seriesAttributes + Self.studyAttributes.filter { $0.keyword == "StudyInstanceUID" }
                : Self.instanceAttributes + Self.studyAttributes.filter { $0.keyword == "StudyInstanceUID" }
                    + Self.seriesAttributes.filter { $0.keyword == "SeriesInstanceUID" }
        // Requested attributes: from an index column when there is one, else from a representative instance's metadata.
        var fromMetadata = Set<Tag>()
        for field in query.includeFields {
            guard let tag = Self.tag(field) else { throw StorageError.invalid("includefield '\(field)' is not a DICOM keyword or tag") }
            if let attribute = attributes.first(where: { $0.tag == tag }) {
                if !returned.contains(where: { $0.tag == tag }) { returned.append(attribute) }
            } else {
                fromMetadata.insert(tag)
            }
        }
        if query.includeAll {
            for attribute in attributes where !returned.contains(where: { $0.tag == attribute.tag }) { returned.append(attribute) }
        }
        let readsMetadata = query.includeAll || !fromMetadata.isEmpty
        var columns = returned.map(\.column) + counts.map(\.sql)
        switch query.level {
        case .study: columns.append("'studies/' || st.study_instance_uid")
        case .series: columns.append("'studies/' || st.study_instance_uid || '/series/' || se.series_instance_uid")
        case .instance:
            columns.append(
                "'studies/' || st.study_instance_uid || '/series/' || se.series_instance_uid || '/instances/' || i.sop_instance_uid")
        }
        // What identifies each match, typed, after the path.
        var identity = ["st.study_instance_uid", "p.patient_id"]
        if query.level != .study { identity += ["se.series_instance_uid", "se.modality"] }
        if query.level == .instance { identity.append("i.sop_instance_uid") }
        columns += identity
        if readsMetadata {
            switch query.level {
            case .study:
                columns.append(
                    "(SELECT ci.metadata_json FROM instances ci JOIN series cs ON cs.id = ci.series_id WHERE cs.study_id = st.id ORDER BY ci.id LIMIT 1)"
                )
            case .series: columns.append("(SELECT c.metadata_json FROM instances c WHERE c.series_id = se.id ORDER BY c.id LIMIT 1)")
            case .instance: columns.append("i.metadata_json")
            }
        }
        var sql = "SELECT \(columns.joined(separator: ", ")) FROM \(from)"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY \(order)"
        if let limit = query.limit { sql += " LIMIT \(limit)" } else if query.offset > 0 { sql += " LIMIT -1" }
        if query.offset > 0 { sql += " OFFSET \(query.offset)" }
        let statementArguments = StatementArguments(arguments)
        let statement = sql
        let countTags = counts.map(\.tag)
        let level = query.level
        let pathColumn = returned.count + countTags.count
        let returnedAttributes = returned
        let returnedTags = Set(returned.map(\.tag))
        let extraTags = fromMetadata
        let includeAll = query.includeAll
        let identityColumn = pathColumn + 1
        let metadataColumn = identityColumn + identity.count
        return try await database.read { db in
            try Row.fetchAll(db.cachedStatement(sql: statement), arguments: statementArguments).map { row in
                var members = [(key: String, text: Substring)]()
                if readsMetadata, let text = row[metadataColumn] as String? {
                    for member in JSONMembers.members(
                        of: text,
                        where: { key in
                            guard let tag = Self.tag(key), !returnedTags.contains(tag) else { return false }
                            return extraTags.contains(tag) || (includeAll && Self.belongsToAll(tag, level: level))
                        }) where !member.value.contains("\"BulkDataURI\"")
                    {
                        members.append((member.key, member.value))
                    }
                }
                for (index, attribute) in returnedAttributes.enumerated() {
                    members.append((attribute.tag.jsonKey, Substring(Self.json(attribute.vr, row[index] as DatabaseValue).jsonText)))
                }
                for (offset, tag) in countTags.enumerated() {
                    members.append(
                        (tag.jsonKey, Substring(Self.json(.IS, row[returnedAttributes.count + offset] as DatabaseValue).jsonText)))
                }
                members.sort { $0.key < $1.key }
                var json = "{"
                for (index, member) in members.enumerated() {
                    if index > 0 { json += "," }
                    json += "\"" + member.key + "\":"
                    json += member.text
                }
                json += "}"
                var match = Match(
                    json: json, path: row[pathColumn], studyInstanceUID: row[identityColumn], patientID: row[identityColumn + 1] ?? "")
                if level != .study {
                    match.seriesInstanceUID = row[identityColumn + 2]
                    match.modality = row[identityColumn + 3] ?? ""
                }
                if level == .instance { match.sopInstanceUID = row[identityColumn + 4] }
                return match
            }
        }
    }

    /// The tag a keyword or `GGGGEEEE` names.
    static func tag(_ key: String) -> Tag? {
        if key.count == 8, let raw = UInt32(key, radix: 16) { return Tag(rawValue: raw) }
        return DataDictionary.entry(forKeyword: key)?.tag
    }

    private static func json(_ vr: VR, _ value: DatabaseValue) -> JSONValue {
        var attribute: [String: JSONValue] = ["vr": .string(vr.description)]
        switch value.storage {
        case .null: break
        case .int64(let number): attribute["Value"] = .array([.integer(number)])
        case .double(let number): attribute["Value"] = .array([.number(number)])
        case .string(let text) where text.isEmpty: break
        case .string(let text):
            switch vr {
            case .PN:
                let groups = text.split(separator: "=", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
                var name = [String: JSONValue]()
                for (key, group) in zip(["Alphabetic", "Ideographic", "Phonetic"], groups) where !group.isEmpty {
                    name[key] = .string(group)
                }
                attribute["Value"] = .array([.object(name)])
            case .CS where text.contains("\\"):
                attribute["Value"] = .array(text.split(separator: "\\").map { .string(String($0)) })
            default:
                attribute["Value"] = .array([.string(text)])
            }
        case .blob: break
        }
        return .object(attribute)
    }
}
