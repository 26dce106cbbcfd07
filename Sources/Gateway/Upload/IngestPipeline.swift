import Foundation
import MetisProto
import MetisRPC
import SwiftProtobuf

/// The one way instances enter Metis. STOW-RS, `/uploadDicom` (files, forms,
/// ZIP), `metis import` (the Ingest RPC) and C-STORE hand their files here;
/// each file is stored by metis-storage, a few at a time, and its outcome
/// reported in upload order, in one model each edge maps to its protocol.
/// Stored instances are announced to the arrival rules with their origin.
/// The gateway never parses the files: storage reads them, and says what a
/// refused one names.
struct IngestPipeline: Sendable {
    let storage: Metis_V1_Storage.Client
    /// Told of every instance stored or replaced.
    var arrivals: (any ArrivalObserver)?
    /// Uploads in flight at once (storage parses and hashes in parallel).
    var concurrency = 4
    /// An instance must fit in one RPC frame.
    var maximumInstanceSize = 60 << 20

    /// How an instance arrived: the edge, and who sent it there.
    struct Origin: Sendable, Hashable, Codable {
        enum Channel: String, Sendable, Codable {
            case dicomweb = "STOW-RS"
            case upload = "upload"
            case dimse = "DIMSE"
            case importTool = "import"
        }
        var channel: Channel
        /// The calling AE title for DIMSE; what the client said otherwise ("metis import").
        var source: String = ""

        static let dicomweb = Origin(channel: .dicomweb)
        static let upload = Origin(channel: .upload)
    }

    /// One file to store and what the caller expects it to be.
    struct Item: Sendable {
        var file: UploadedFile
        /// The study the URL names (STOW-RS to /studies/{study}).
        var expectedStudy: String?
        /// The C-STORE command's Affected SOP Class and Instance UIDs.
        var expectedSOPClass: String?
        var expectedSOPInstance: String?

        init(_ file: UploadedFile, expectedStudy: String? = nil) {
            self.file = file
            self.expectedStudy = expectedStudy
        }
    }

    /// Why a file was not stored.
    enum Refusal: Sendable, Equatable {
        /// Not a readable instance (or not DICOM at all).
        case cannotUnderstand
        /// Its SOP Instance UID is stored with other bytes.
        case duplicateSOPInstance
        /// Its series or study is stored under another study or patient.
        case conflictingHierarchy
        /// Of another study than the URL named.
        case studyMismatch
        /// Of another SOP class or instance than the C-STORE command said.
        case commandMismatch
        /// Larger than an instance may be.
        case tooLarge
        /// Storage could not take it (down, disk full): the client may retry.
        case unavailable
    }

    /// What became of one file.
    struct Outcome: Sendable {
        enum Status: String, Sendable, Encodable {
            case stored, alreadyStored, replaced, failed
        }

        var file: String
        var status: Status
        var sopClassUID: String?
        var sopInstanceUID: String?
        var studyInstanceUID: String?
        var seriesInstanceUID: String?
        var patientID: String?
        /// Why a failed file was refused, in words.
        var reason: String?
        var refusal: Refusal?
        /// Conformance defects of a stored file, stored as sent (lenient validation).
        var warnings: [String] = []

        var succeeded: Bool { status != .failed }
        /// The failure came from an input the client can fix (not a service outage).
        var isClientError: Bool { refusal != .unavailable }

        /// A file refused before it reached storage.
        static func refused(_ file: String, _ refusal: Refusal, reason: String) -> Outcome {
            Outcome(file: file, status: .failed, reason: reason, refusal: refusal)
        }
    }

    /// Stores `items`, `concurrency` at a time; outcomes in the same order.
    func store(_ items: [Item], origin: Origin) async -> [Outcome] {
        if items.count == 1 { return [await store(items[0], origin: origin)] }
        var outcomes = [Outcome?](repeating: nil, count: items.count)
        await withTaskGroup(of: (Int, Outcome).self) { group in
            var next = 0
            func startNext() {
                guard next < items.count else { return }
                let index = next
                next += 1
                group.addTask { (index, await store(items[index], origin: origin)) }
            }
            for _ in 0..<concurrency { startNext() }
            for await (index, outcome) in group {
                outcomes[index] = outcome
                startNext()
            }
        }
        return outcomes.map { $0! }
    }

    /// Stores `files` as they are.
    func store(_ files: [UploadedFile], expectedStudy: String? = nil, origin: Origin) async -> [Outcome] {
        await store(files.map { Item($0, expectedStudy: expectedStudy) }, origin: origin)
    }

    private func store(_ item: Item, origin: Origin) async -> Outcome {
        let file = item.file
        guard file.data.count <= maximumInstanceSize else {
            return .refused(
                file.name, .tooLarge, reason: "\(file.data.count) bytes: an instance may hold at most \(maximumInstanceSize) bytes")
        }
        do {
            let response = try await storage.storeInstance(
                .with {
                    $0.dicom = file.data
                    $0.expectedStudyInstanceUid = item.expectedStudy ?? ""
                    $0.expectedSopClassUid = item.expectedSOPClass ?? ""
                    $0.expectedSopInstanceUid = item.expectedSOPInstance ?? ""
                })
            let status: Outcome.Status =
                switch response.outcome {
                case .alreadyStored: .alreadyStored
                case .replaced: .replaced
                default: .stored
                }
            let outcome = Outcome(
                file: file.name, status: status, sopClassUID: response.sopClassUid, sopInstanceUID: response.sopInstanceUid,
                studyInstanceUID: response.studyInstanceUid, seriesInstanceUID: response.seriesInstanceUid, patientID: response.patientID,
                warnings: response.warnings)
            if status != .alreadyStored { await arrivals?.arrived(outcome, origin: origin) }
            return outcome
        } catch let error as RPCError {
            guard let details = error.details(as: Metis_V1_StoreRefusal.self) else {
                return .refused(file.name, .unavailable, reason: "metis-storage: \(error.message)")
            }
            let refusal: Refusal =
                switch details.reason {
                case .duplicateSopInstance: .duplicateSOPInstance
                case .conflictingHierarchy: .conflictingHierarchy
                case .studyMismatch: .studyMismatch
                case .commandMismatch: .commandMismatch
                default: .cannotUnderstand
                }
            func named(_ uid: String) -> String? { uid.isEmpty ? nil : uid }
            return Outcome(
                file: file.name, status: .failed, sopClassUID: named(details.sopClassUid), sopInstanceUID: named(details.sopInstanceUid),
                studyInstanceUID: named(details.studyInstanceUid), seriesInstanceUID: named(details.seriesInstanceUid),
                patientID: named(details.patientID), reason: error.message, refusal: refusal)
        } catch {
            return .refused(file.name, .unavailable, reason: "\(error)")
        }
    }
}

/// Told of each instance the pipeline stored (the arrival rules' monitor).
protocol ArrivalObserver: Sendable {
    func arrived(_ outcome: IngestPipeline.Outcome, origin: IngestPipeline.Origin) async
}
