import DICOM
import Foundation
import Hummingbird
import MetisProto
import MetisRPC

/// QIDO-RS (PS3.18 §10.6): searches for studies, series and instances.
struct QIDORoutes: Sendable {
    let storage: Metis_V1_Storage.Client

    func register(on router: Router<some RequestContext>) {
        let root = "/dicom-web"
        router.get("\(root)/studies") { request, context in try await search(request, context, level: .study) }
        router.get("\(root)/series") { request, context in try await search(request, context, level: .series) }
        router.get("\(root)/instances") { request, context in try await search(request, context, level: .instance) }
        router.get("\(root)/studies/:study/series") { request, context in
            try await search(request, context, level: .series, study: context.parameters.require("study"))
        }
        router.get("\(root)/studies/:study/instances") { request, context in
            try await search(request, context, level: .instance, study: context.parameters.require("study"))
        }
        router.get("\(root)/studies/:study/series/:series/instances") { request, context in
            try await search(
                request, context, level: .instance, study: context.parameters.require("study"), series: context.parameters.require("series")
            )
        }
    }

    private func search(
        _ request: Request, _ context: some RequestContext, level: Metis_V1_QueryRequest.Level, study: String? = nil, series: String? = nil
    ) async throws -> Response {
        let web = DICOMwebRequest(request)
        try web.require(oneOf: ["application/dicom+json", "application/json"])
        var query = try Self.queryRequest(web.query, level: level)
        if let study { query.studyInstanceUid = study }
        if let series { query.seriesInstanceUid = series }
        let response = try await calling("metis-storage") { try await storage.query(query) }
        let withURLs = response.matches.map { match in
            // RetrieveURL (0008,1190) of each match, inserted ahead of the other attributes.
            let url = "\"\(Tag.retrieveURL.jsonKey)\":{\"vr\":\"UR\",\"Value\":[\"\(web.root)/\(match.path)\"]}"
            let json = match.dicomJson
            return json == "{}" ? "{\(url)}" : "{\(url)," + json.dropFirst()
        }
        return DICOMJSONResponse.array(withURLs)
    }

    /// The storage query a QIDO query string asks for; 400 for what is not valid.
    static func queryRequest(_ parameters: [(name: String, value: String)], level: Metis_V1_QueryRequest.Level) throws(HTTPError)
        -> Metis_V1_QueryRequest
    {
        var query = Metis_V1_QueryRequest()
        query.level = level
        for (name, value) in parameters {
            switch name.lowercased() {
            case "limit":
                guard let limit = UInt32(value) else {
                    throw HTTPError(.badRequest, message: "limit '\(value)' is not a non-negative integer")
                }
                query.limit = limit
            case "offset":
                guard let offset = UInt32(value) else {
                    throw HTTPError(.badRequest, message: "offset '\(value)' is not a non-negative integer")
                }
                query.offset = offset
            case "includefield":
                for field in value.split(separator: ",").map({ $0.trimmingWhitespace() }) where !field.isEmpty {
                    if field.lowercased() == "all" { query.includeAll = true } else { query.includeFields.append(field) }
                }
            case "fuzzymatching":
                switch value.lowercased() {
                case "true": query.fuzzyMatching = true
                case "false": query.fuzzyMatching = false
                default: throw HTTPError(.badRequest, message: "fuzzymatching must be true or false, not '\(value)'")
                }
            default:
                guard query.match[name] == nil else { throw HTTPError(.badRequest, message: "\(name) is given twice") }
                // UID lists may be comma-separated in DICOMweb and backslash-separated in DICOM.
                query.match[name] =
                    name.hasSuffix("UID") || name.hasPrefix("0020000") || name.hasPrefix("0008001")
                    ? value.replacingOccurrences(of: ",", with: "\\") : value
            }
        }
        return query
    }
}
