// A DIMSE load generator on Metis's own SCU (DICOMNetwork), faster than storescu or pynetdicom:
//   dimse-load store HOST PORT CALLED_AE ASSOCIATIONS FILE...   C-STORE every file once, spread over the associations
//   dimse-load find HOST PORT CALLED_AE REPEAT                  C-FIND (Study Root, STUDY level, every study) REPEAT times
//   dimse-load move HOST PORT CALLED_AE DESTINATION STUDY_UID   one C-MOVE of a study
// Prints one JSON line with the count and the seconds. Calling AE: DIMSELOAD.
import DICOM
import DICOMNetwork
import DIMSE
import Foundation
import Logging

let arguments = CommandLine.arguments
guard arguments.count >= 6 else {
    FileHandle.standardError.write(Data("usage: dimse-load store|find|move HOST PORT CALLED_AE …\n".utf8))
    exit(2)
}
let (mode, host, port, called) = (arguments[1], arguments[2], Int(arguments[3])!, arguments[4])
let logger = Logger(label: "dimse-load")
let native = TransferSyntax.nativeLittleEndian.map(\.uid)

func associate(_ contexts: [(String, [String])]) async throws -> DIMSEClient {
    let request = AssociationRequest(
        calledAETitle: called, callingAETitle: "DIMSELOAD",
        presentationContexts: contexts.enumerated().map {
            ProposedContext(id: UInt8(2 * $0.offset + 1), abstractSyntax: $0.element.0, transferSyntaxes: $0.element.1)
        },
        userInformation: UserInformation(maximumLength: 256 * 1024, implementationClassUID: UID.implementationClass))
    return DIMSEClient(try await DIMSEConnector.associate(host: host, port: port, request: request, logger: logger))
}

func report(_ fields: [String: Any]) {
    let data = try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

switch mode {
case "store":
    let associations = Int(arguments[5])!
    // Files are read and parsed before the clock starts: the load is the network and the peer.
    let files = try arguments[6...].map { path -> (sopClass: String, instance: String, dataset: Data) in
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let file = try DICOMReader.read(data, options: .init(stopBeforePixelData: true))
        return (
            file.dataset.string(.sopClassUID)!, file.dataset.string(.sopInstanceUID)!,
            Part10.dataset(of: data)
        )
    }
    let classes = Array(Set(files.map(\.sopClass)))
    let start = ContinuousClock.now
    let failures = try await withThrowingTaskGroup(of: Int.self) { group in
        for lane in 0..<associations {
            group.addTask {
                let client = try await associate(classes.map { ($0, [TransferSyntax.explicitVRLittleEndian.uid]) })
                var failed = 0
                for index in stride(from: lane, to: files.count, by: associations) {
                    let file = files[index]
                    let context = try await client.context(for: file.sopClass)
                    let response = try await client.store(
                        contextID: context, sopClassUID: file.sopClass, sopInstanceUID: file.instance, dataset: file.dataset)
                    if response.status != DIMSEStatus.success { failed += 1 }
                }
                try await client.release()
                return failed
            }
        }
        var failed = 0
        for try await count in group { failed += count }
        return failed
    }
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds)
    report(["mode": "store", "associations": associations, "instances": files.count, "failed": failures, "seconds": seconds])
case "find":
    let repeats = Int(arguments[5])!
    let client = try await associate([(SOPClass.studyRootFind, native)])
    var identifier = Dataset()
    identifier[.queryRetrieveLevel] = .text(.queryRetrieveLevel, .CS, "STUDY")
    for tag in [Tag.studyInstanceUID, .patientID, .patientName, .studyDate] {
        identifier[tag] = DataElement(tag: tag, vr: DataDictionary.entry(for: tag)!.vr, value: .bytes(Data()))
    }
    var matches = 0
    let start = ContinuousClock.now
    for _ in 0..<repeats {
        _ = try await client.find(sopClassUID: SOPClass.studyRootFind, identifier: identifier) { _ in matches += 1 }
    }
    let elapsed = ContinuousClock.now - start
    try await client.release()
    report([
        "mode": "find", "queries": repeats, "matches": matches,
        "seconds": Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds),
    ])
case "move":
    let destination = arguments[5], study = arguments[6]
    let client = try await associate([(SOPClass.studyRootMove, native)])
    var identifier = Dataset()
    identifier[.queryRetrieveLevel] = .text(.queryRetrieveLevel, .CS, "STUDY")
    identifier[.studyInstanceUID] = .text(.studyInstanceUID, .UI, study)
    let start = ContinuousClock.now
    let final = try await client.move(sopClassUID: SOPClass.studyRootMove, destination: destination, identifier: identifier)
    let elapsed = ContinuousClock.now - start
    try await client.release()
    report([
        "mode": "move", "status": Int(final.status ?? 0xFFFF), "completed": final.command.int(.numberOfCompletedSuboperations) ?? 0,
        "seconds": Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds),
    ])
default:
    FileHandle.standardError.write(Data("unknown mode \(mode)\n".utf8))
    exit(2)
}
