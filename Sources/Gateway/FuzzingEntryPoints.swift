public import Foundation
import MetisProto

/// The gateway's parsers of untrusted bytes, for the fuzz targets in
/// `Tests/Fuzz` only (`@_spi(Fuzzing) import Gateway`): each must answer or
/// throw its typed error for any input, never crash.
@_spi(Fuzzing) public enum FuzzingEntryPoints {
    /// A multipart body (STOW-RS, forms) with `boundary`; the number of parts, or nil when refused.
    public static func multipart(_ body: Data, boundary: String) -> Int? {
        _ = MediaType(boundary)
        guard let parsed = try? MultipartBody(body, boundary: boundary, maximumParts: 1000) else { return nil }
        for part in parsed.parts { _ = part.contentType }
        return parsed.parts.count
    }

    /// A ZIP archive under small limits; the number of entries, or nil when refused.
    public static func zip(_ data: Data) -> Int? {
        var limits = ZipArchive.Limits()
        limits.maximumEntries = 64
        limits.maximumEntrySize = 1 << 20
        limits.maximumTotalSize = 4 << 20
        return (try? ZipArchive(data, limits: limits))?.entries.count
    }

    /// A QIDO-RS query string at the study, series and instance levels; how many levels accepted it.
    public static func qido(_ query: String) -> Int {
        let parameters = DICOMwebRequest.decodeQuery(query)
        return [Metis_V1_QueryRequest.Level.study, .series, .instance].filter {
            (try? QIDORoutes.queryRequest(parameters, level: $0)) != nil
        }.count
    }
}
