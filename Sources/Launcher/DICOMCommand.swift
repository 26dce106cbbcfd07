public import ArgumentParser
import DICOM
import DICOMNetwork
import DIMSE
import Foundation
import Logging
import MetisProcess

/// `metis dicom echo|store|find|move|get`: Metis's DIMSE SCU, for administrators checking peers.
public struct DICOMCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "dicom", abstract: "Talk DIMSE to another AE: echo, store, find, move, get.",
        subcommands: [Echo.self, Store.self, Find.self, Move.self, Get.self])

    public init() {}

    /// The peer and the titles: `AE@host:port`, or a peer of `dicom_peers` by its AE title.
    struct Peer: ParsableArguments {
        @OptionGroup var common: CommonOptions
        @Argument(help: "The peer: AE@host:port, or the AE title of a configured dicom_peers entry.") var peer: String
        @Option(name: .customLong("aet"), help: "Calling AE title (default: dicom_ae_title, METIS).") var callingAETitle: String?

        func resolve() throws -> (peer: DICOMPeer, calling: String, configuration: MetisConfiguration) {
            let configuration = try common.configuration()
            let calling = callingAETitle ?? configuration.dicomAETitle
            if let known = configuration.dicomPeers.first(where: { $0.aeTitle == peer }) { return (known, calling, configuration) }
            do {
                return (try DICOMPeer.parse(peer), calling, configuration)
            } catch {
                throw ValidationError("\(error.description); or name one of dicom_peers")
            }
        }

        /// An association proposing `contexts` (abstract syntax → transfer syntaxes), each its own context.
        func associate(_ contexts: [(String, [String])], roles: [UserInformation.RoleSelection] = []) async throws -> Association {
            let (peer, calling, configuration) = try resolve()
            // A +tls peer is called over TLS, trusting dicom_tls_trust (or the system's roots), with Metis's certificate.
            let tls =
                try peer.tls
                ? DIMSEConnector.clientTLS(
                    trust: configuration.dicomTLSTrust, certificate: configuration.tls?.certificate, key: configuration.tls?.privateKey)
                : nil
            let request = AssociationRequest(
                calledAETitle: peer.aeTitle, callingAETitle: calling,
                presentationContexts: contexts.prefix(128).enumerated().map {
                    ProposedContext(id: UInt8(2 * $0.offset + 1), abstractSyntax: $0.element.0, transferSyntaxes: $0.element.1)
                },
                userInformation: UserInformation(
                    maximumLength: AssociationSettings().maximumReceiveLength, implementationClassUID: UID.implementationClass,
                    implementationVersionName: UID.implementationVersionName, roles: roles))
            do {
                return try await DIMSEConnector.associate(
                    host: peer.host, port: peer.port, request: request, tls: tls, logger: Logger(label: "metis.dicom"))
            } catch {
                throw DICOMCommandError("\(peer): \(error)")
            }
        }
    }

    static let native = TransferSyntax.nativeLittleEndian.map(\.uid)

    /// `-k Keyword=value` match keys and `-k Keyword` return keys as an identifier.
    static func identifier(_ keys: [String], level: String?) throws -> Dataset {
        let pairs = keys.map { key in
            let parts = key.split(separator: "=", maxSplits: 1).map(String.init)
            return (key: parts.first ?? "", value: parts.count > 1 ? parts[1] : "")
        }
        do {
            return try QueryIdentifier.make(level: level, keys: pairs)
        } catch {
            throw ValidationError("-k: \(error.description) (--level or -k QueryRetrieveLevel=…)")
        }
    }

    static func statusText(_ status: UInt16?) -> String {
        guard let status else { return "no status" }
        return String(format: "0x%04X", status) + " (\(DIMSEStatus.kind(status)))"
    }

    struct Echo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "C-ECHO: exit 0 when the peer answers Success.")
        @OptionGroup var peer: Peer

        func run() async throws {
            let association = try await peer.associate([(SOPClass.verification, DICOMCommand.native)])
            let client = DIMSEClient(association)
            let status = try await client.echo()
            try await client.release()
            print("C-ECHO \(DICOMCommand.statusText(status))")
            if status != DIMSEStatus.success { throw ExitCode(1) }
        }
    }

    struct Store: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "C-STORE files and folders (recursively) in their own transfer syntax, one association; transcoded to Explicit or Implicit VR Little Endian where the peer refuses a compressed one."
        )
        @OptionGroup var peer: Peer
        @Argument(help: "DICOM files or folders.") var paths: [String]

        func run() async throws {
            var files = [(path: String, file: DICOMFile, data: Data)]()
            for path in try ImportCommand.files(under: paths) {
                let data = try Data(contentsOf: URL(fileURLWithPath: path))
                guard let file = try? DICOMReader.read(data, options: .init(stopBeforePixelData: true)),
                    file.dataset.string(.sopClassUID) != nil
                else {
                    print("\(path): not a DICOM file, skipped")
                    continue
                }
                files.append((path, file, data))
            }
            guard !files.isEmpty else { throw DICOMCommandError("no DICOM files to send") }
            var pairs = [(String, [String])]()
            for entry in files {
                let sopClass = entry.file.dataset.string(.sopClassUID)!
                let syntax = entry.file.transferSyntax.uid
                // A compressed file is offered in its syntax, and natively in case the peer refuses that one.
                for offered in DICOMCommand.native.contains(syntax) ? [DICOMCommand.native] : [[syntax], DICOMCommand.native]
                where !pairs.contains(where: { $0.0 == sopClass && $0.1 == offered }) {
                    pairs.append((sopClass, offered))
                }
            }
            let association = try await peer.associate(pairs)
            let client = DIMSEClient(association)
            var failures = 0
            for entry in files {
                let dataset = entry.file.dataset
                let syntax = entry.file.transferSyntax.uid
                let sopClass = dataset.string(.sopClassUID)!, instance = dataset.string(.sopInstanceUID) ?? ""
                let contexts = association.negotiated.contexts.filter { $0.value.abstractSyntax == sopClass }.sorted { $0.key < $1.key }
                let bytes: Data, context: UInt8
                if let same = contexts.first(where: { $0.value.transferSyntax == syntax }) {
                    (bytes, context) = (Part10.dataset(of: entry.data), same.key)
                } else if let native = contexts.first(where: { DICOMCommand.native.contains($0.value.transferSyntax) }) {
                    do {
                        let target = TransferSyntax(uid: native.value.transferSyntax)
                        bytes = Part10.dataset(of: try Transcoder.transcode(try DICOMReader.read(entry.data), to: target))
                        context = native.key
                        print("\(entry.path): the peer refused \(syntax); sent transcoded to \(target.uid)")
                    } catch {
                        print("\(entry.path): the peer refused \(syntax), and it cannot be transcoded: \(error)")
                        failures += 1
                        continue
                    }
                } else {
                    print("\(entry.path): the peer accepted no context for \(sopClass)")
                    failures += 1
                    continue
                }
                let response = try await client.store(contextID: context, sopClassUID: sopClass, sopInstanceUID: instance, dataset: bytes)
                let comment = response.command.string(.errorComment).map { ": \($0)" } ?? ""
                print("\(entry.path): \(DICOMCommand.statusText(response.status))\(comment)")
                if DIMSEStatus.kind(response.status ?? 0xFFFF) == "Failure" { failures += 1 }
            }
            try await client.release()
            if failures > 0 { throw ExitCode(1) }
        }
    }

    struct Query: ParsableArguments {
        @Option(help: "Query/Retrieve level: PATIENT, STUDY, SERIES or IMAGE.") var level: String?
        @Option(help: "Information model: study (default) or patient root.") var root = "study"
        @Option(name: .short, help: "A key: Keyword=value to match, or Keyword to return (repeatable).") var k: [String] = []

        func sopClass(_ classes: [String]) throws -> String {
            switch root.lowercased() {
            case "study": return classes[1]
            case "patient": return classes[0]
            default: throw ValidationError("--root must be study or patient, got '\(root)'")
            }
        }
    }

    struct Find: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "C-FIND: prints each match as one DICOM JSON line.")
        @OptionGroup var peer: Peer
        @OptionGroup var query: Query

        func run() async throws {
            let sopClass = try query.sopClass(SOPClass.find)
            let identifier = try DICOMCommand.identifier(query.k, level: query.level)
            let association = try await peer.associate([(sopClass, DICOMCommand.native)])
            let client = DIMSEClient(association)
            let final = try await client.find(sopClassUID: sopClass, identifier: identifier) { match in
                print(DICOMJSON.encode(match).jsonText)
            }
            try await client.release()
            FileHandle.standardError.write(Data("C-FIND \(DICOMCommand.statusText(final.status))\n".utf8))
            if final.status != DIMSEStatus.success { throw ExitCode(1) }
        }
    }

    struct Move: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "C-MOVE to a destination AE; prints the sub-operation counts.")
        @OptionGroup var peer: Peer
        @OptionGroup var query: Query
        @Option(help: "The destination AE title (the peer must know it).") var destination: String

        func run() async throws {
            let sopClass = try query.sopClass(SOPClass.move)
            let identifier = try DICOMCommand.identifier(query.k, level: query.level)
            let association = try await peer.associate([(sopClass, DICOMCommand.native)])
            let client = DIMSEClient(association)
            let final = try await client.move(sopClassUID: sopClass, destination: destination, identifier: identifier) { pending in
                print("pending: \(pending.command.int(.numberOfRemainingSuboperations) ?? 0) remaining")
            }
            try await client.release()
            let counts = [Tag.numberOfCompletedSuboperations, .numberOfFailedSuboperations, .numberOfWarningSuboperations].map {
                final.command.int($0) ?? 0
            }
            print("C-MOVE \(DICOMCommand.statusText(final.status)): \(counts[0]) completed, \(counts[1]) failed, \(counts[2]) warning")
            if final.status != DIMSEStatus.success { throw ExitCode(1) }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "C-GET into a folder, on the same association.")
        @OptionGroup var peer: Peer
        @OptionGroup var query: Query
        @Option(help: "Folder the instances are written to.") var output: String
        @Option(help: "Storage SOP classes to accept (repeatable; default: MR, CT, PET, SC, SEG, RT and SR classes).")
        var sopClass: [String] = []

        func run() async throws {
            let sopClassUID = try query.sopClass(SOPClass.get)
            let identifier = try DICOMCommand.identifier(query.k, level: query.level)
            let storage = sopClass.isEmpty ? SOPClass.commonStorage : sopClass
            let syntaxes = TransferSyntax.readable.map(\.uid)
            let association = try await peer.associate(
                [(sopClassUID, DICOMCommand.native)] + storage.map { ($0, syntaxes) },
                roles: storage.map { UserInformation.RoleSelection(abstractSyntax: $0, scu: false, scp: true) })
            let folder = URL(fileURLWithPath: output, isDirectory: true)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let client = DIMSEClient(association)
            let final = try await client.get(sopClassUID: sopClassUID, identifier: identifier) { store, syntax in
                guard let dataset = store.dataset, let instance = store.affectedSOPInstanceUID, let sopClass = store.affectedSOPClassUID
                else {
                    return DIMSEStatus.cannotUnderstand
                }
                guard
                    let file = try? Part10.wrap(
                        encodedDataset: dataset, sopClassUID: sopClass, sopInstanceUID: instance, transferSyntaxUID: syntax,
                        sourceAETitle: association.negotiated.calledAETitle)
                else { return DIMSEStatus.cannotUnderstand }
                do {
                    try file.write(to: folder.appendingPathComponent("\(instance).dcm"), options: .atomic)
                    return DIMSEStatus.success
                } catch {
                    return DIMSEStatus.outOfResources
                }
            }
            try await client.release()
            print(
                "C-GET \(DICOMCommand.statusText(final.status)): \(final.command.int(.numberOfCompletedSuboperations) ?? 0) instances in \(output)"
            )
            if final.status != DIMSEStatus.success { throw ExitCode(1) }
        }
    }
}

/// A DIMSE command that could not be carried out.
struct DICOMCommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
