public import ArgumentParser
import Foundation
import MetisProcess
import MetisProto
import MetisRPC
import SwiftProtobuf

/// `metis import DIR`: stores every DICOM file under a folder through the
/// gateway's ingest pipeline (its Ingest RPC on the run directory's socket),
/// as STOW-RS and C-STORE do: audited, and seen by the arrival rules.
public struct ImportCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Store every DICOM file under a folder (or the files named) through a running Metis's gateway.")

    @OptionGroup var common: CommonOptions
    @Argument(help: "Folders and files to import; folders are walked recursively.") var paths: [String]
    @Option(help: "The gateway's Ingest address (default <data>/run/gateway.sock).") var gateway: String?
    @Option(help: "Uploads in flight at once.") var parallel = 4

    public init() {}

    public func run() async throws {
        let configuration = try common.configuration()
        let address = try gateway.map { try RPCAddress(parsing: $0) } ?? configuration.gatewayIngestAddress
        let connection = RPCConnection(address: address, configuration: try configuration.rpcClient())
        defer { Task { await connection.close() } }
        let client = Metis_V1_Ingest.Client(connection)
        let files = try Self.files(under: paths)
        guard !files.isEmpty else { throw ValidationError("no files found under \(paths.joined(separator: ", "))") }

        var report = ImportReport()
        try await withThrowingTaskGroup(of: (String, Result<Metis_V1_StoreInstanceResponse.Outcome, RPCError>).self) { group in
            var next = files.makeIterator()
            func submit() {
                guard let file = next.next() else { return }
                group.addTask {
                    do {
                        let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
                        let response = try await client.storeInstance(
                            .with {
                                $0.dicom = bytes
                                $0.source = "metis import"
                            }, options: CallOptions(timeout: .seconds(120)))
                        return (file, .success(response.outcome))
                    } catch let error as RPCError {
                        return (file, .failure(error))
                    } catch {
                        return (file, .failure(RPCError(code: .invalidArgument, message: "cannot read: \(error.localizedDescription)")))
                    }
                }
            }
            for _ in 0..<max(1, parallel) { submit() }
            while let (file, result) = try await group.next() {
                switch result {
                case .success(let outcome): report.count(outcome)
                case .failure(let error) where error.code == .unavailable || error.code == .deadlineExceeded:
                    throw ValidationError("the Metis gateway at \(address) is not answering (is metis up running?): \(error.message)")
                case .failure(let error): report.rejected.append((file, error))
                }
                submit()
            }
        }
        print(report.summary(total: files.count))
        for (file, error) in report.rejected { print("rejected \(file): \(error.code): \(error.message)") }
        if !report.rejected.isEmpty { throw ExitCode(2) }
    }

    /// Regular files under `paths`, sorted, hidden files skipped.
    static func files(under paths: [String]) throws -> [String] {
        var files = [String]()
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ValidationError("\(path) does not exist")
            }
            guard isDirectory.boolValue else {
                files.append(path)
                continue
            }
            let root = URL(fileURLWithPath: path)
            let walker = FileManager.default.enumerator(
                at: root, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles])
            while let url = walker?.nextObject() as? URL {
                if (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true { files.append(url.path) }
            }
        }
        return files.sorted()
    }
}

/// What an import did, file by file.
struct ImportReport {
    var stored = 0
    var alreadyStored = 0
    var replaced = 0
    var rejected: [(String, RPCError)] = []

    mutating func count(_ outcome: Metis_V1_StoreInstanceResponse.Outcome) {
        switch outcome {
        case .stored: stored += 1
        case .alreadyStored: alreadyStored += 1
        case .replaced: replaced += 1
        default: break
        }
    }

    func summary(total: Int) -> String {
        "imported \(total) files: \(stored) stored, \(alreadyStored) already stored, \(replaced) replaced, \(rejected.count) rejected"
    }
}
