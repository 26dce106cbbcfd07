import Foundation
import Hummingbird

/// One file of an upload, named as the client named it.
struct UploadedFile: Sendable {
    var name: String
    var data: Data
}

/// A file of an upload that is not sent to storage, and why: skipped
/// (a DICOMDIR, a system file) or rejected (an unreadable archive).
struct SkippedFile: Sendable, Encodable {
    var file: String
    var reason: String
}

/// What an upload body holds.
struct UploadContents: Sendable {
    var files: [UploadedFile] = []
    var skipped: [SkippedFile] = []
    var rejected: [SkippedFile] = []
}

/// Turns an upload body into files: a multipart form or multipart/related
/// body (one file per part), one `application/dicom` file, or a ZIP archive
/// (one file per entry, at any level). ZIP archives inside parts are opened too.
enum UploadExtractor {
    static func contents(body: Data, contentType: String?) throws(HTTPError) -> UploadContents {
        guard let contentType, let type = MediaType(contentType) else {
            throw HTTPError(
                .unsupportedMediaType,
                message: "Content-Type missing: send multipart/form-data, multipart/related, application/dicom or application/zip")
        }
        var contents = UploadContents()
        switch type.essence {
        case "multipart/form-data", "multipart/related":
            let multipart: MultipartBody
            do {
                multipart = try MultipartBody(body, boundary: type.parameters["boundary"] ?? "")
            } catch {
                throw HTTPError(.badRequest, message: "malformed multipart body: \(error)")
            }
            for (index, part) in multipart.parts.enumerated() {
                let name = part.fileName ?? "part \(index + 1)"
                if part.headers["content-disposition"] != nil && part.fileName == nil && part.body.count < 1024
                    && !ZipArchive.looksLikeZip(part.body)
                {
                    continue  // a plain form field, not a file
                }
                add(UploadedFile(name: name, data: part.body), isZip: isZip(part.contentType, part.body), to: &contents)
            }
        case "application/dicom":
            contents.files.append(UploadedFile(name: "body", data: body))
        case "application/zip", "application/x-zip-compressed":
            add(UploadedFile(name: "body.zip", data: body), isZip: true, to: &contents)
        case "application/octet-stream":
            add(UploadedFile(name: "body", data: body), isZip: ZipArchive.looksLikeZip(body), to: &contents)
        default:
            throw HTTPError(
                .unsupportedMediaType,
                message:
                    "Content-Type \(type.essence) is not accepted: send multipart/form-data, multipart/related, application/dicom or application/zip"
            )
        }
        return contents
    }

    private static func isZip(_ type: MediaType?, _ data: Data) -> Bool {
        ["application/zip", "application/x-zip-compressed"].contains(type?.essence ?? "") || ZipArchive.looksLikeZip(data)
    }

    private static func add(_ file: UploadedFile, isZip: Bool, to contents: inout UploadContents) {
        guard isZip else {
            contents.files.append(file)
            return
        }
        do {
            for entry in try ZipArchive(file.data).entries {
                let base = entry.path.split(separator: "/").last.map(String.init) ?? entry.path
                let name = file.name + "/" + entry.path
                // Nothing is written under these names, but a path that climbs out or is absolute only comes from a hostile archive.
                let components = entry.path.split(whereSeparator: { $0 == "/" || $0 == "\\" })
                if entry.path.hasPrefix("/") || entry.path.hasPrefix("\\") || components.contains("..")
                    || (components.first?.hasSuffix(":") ?? false)
                {
                    contents.rejected.append(
                        SkippedFile(file: name, reason: "unsafe path in the archive (absolute or with '..'): not stored"))
                    continue
                }
                if entry.path.hasPrefix("__MACOSX/") || base.hasPrefix("._") || base == ".DS_Store" || base.uppercased() == "DICOMDIR" {
                    contents.skipped.append(
                        SkippedFile(
                            file: name, reason: base.uppercased() == "DICOMDIR" ? "DICOMDIR media index, not an instance" : "system file"))
                    continue
                }
                contents.files.append(UploadedFile(name: name, data: entry.data))
            }
        } catch {
            contents.rejected.append(SkippedFile(file: file.name, reason: "unreadable ZIP archive: \(error)"))
        }
    }
}
