import DICOM
import Foundation
import TestSupport
import Testing

@testable import Gateway

/// The DIMSE edge through `metis up`, driven by independent peers: dcmtk's
/// echoscu, storescu, findscu, movescu (into dcmtk's storescp) and getscu,
/// and pynetdicom as SCU and as C-MOVE destination.
@Suite("DIMSE edge through metis up", .serialized)
struct DIMSEEdgeTests {
    /// dcmtk's own binaries (a Python `storescu` may come first on PATH), with TCP_NODELAY so that the peer is not the bottleneck.
    static func dcmtk(_ tool: String, _ arguments: [String]) async throws -> ToolProcess.Result {
        try await ToolProcess.run("/usr/bin/env", ["TCP_NODELAY=1", "/usr/bin/\(tool)"] + arguments)
    }

    /// A peer server (storescp, Orthanc) with TCP_NODELAY. Neither output is the test's: a child holding the test
    /// runner's stderr would keep `swift test` waiting after the tests end.
    static func peer(_ executable: String, _ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ["TCP_NODELAY": "1"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Stops a peer with SIGKILL (storescp ignores SIGTERM) and waits for it.
    static func stop(_ process: Process) {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    static var hasDCMTK: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/storescu") }
    static let peerScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts/dimse_peer.py")

    /// Writes `instances` to a new folder; their paths.
    static func write(_ instances: [Data], to folder: URL) throws -> [String] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return try instances.enumerated().map { index, data in
            let url = folder.appendingPathComponent(String(format: "IM%04d.dcm", index))
            try data.write(to: url)
            return url.path
        }
    }

    /// The data sets of the files dcmtk wrote into `folder`, by SOP Instance UID.
    static func received(in folder: URL) throws -> [String: DICOMFile] {
        var files = [String: DICOMFile]()
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            let file = try DICOMReader.read(Data(contentsOf: folder.appendingPathComponent(name)))
            files[file.dataset.string(.sopInstanceUID) ?? name] = file
        }
        return files
    }

    @Test(
        "dcmtk stores a study over two associations, finds it at every level, moves it to a storescp and gets it back",
        .enabled(if: hasDCMTK || ProcessInfo.processInfo.environment["CI"] != nil))
    func dcmtkPeers() async throws {
        let archivePort = try MetisProcesses.freePort()
        let metis = try await DICOMwebTests.Installation(
            dicomPeers: "SCANNER@127.0.0.1:104/store, WORKSTATION@localhost:105, ARCHIVE@127.0.0.1:\(archivePort)/store")
        defer { metis.stop() }
        let port = String(metis.dicomPort)
        let work = metis.directory.appendingPathComponent("peers")
        let mr = try MRStudy(
            study: "2.25.90210", patientID: "PAT-DIMSE", patientName: "Lefèvre^Anaïs", date: "20260312", series: 2, slices: 10)
        let bySeries = Dictionary(grouping: mr.instances, by: \.series)
        let series = bySeries.keys.sorted()
        let first = try Self.write(bySeries[series[0]]!.map(\.bytes), to: work.appendingPathComponent("s1"))
        let second = try Self.write(bySeries[series[1]]!.map(\.bytes), to: work.appendingPathComponent("s2"))

        let health = try await HTTP.request("GET", metis.base + "/healthz")
        let dimse = try #require((try health.json() as? [String: Any])?["dimse"] as? [String: Any])
        #expect(dimse["status"] as? String == "LISTENING" && dimse["address"] as? String == "METIS@127.0.0.1:\(port)")

        // Who may associate.
        #expect(try await Self.dcmtk("echoscu", ["-aet", "SCANNER", "-aec", "METIS", "127.0.0.1", port]).status == 0)
        let stranger = try await Self.dcmtk("echoscu", ["-aet", "STRANGER", "-aec", "METIS", "127.0.0.1", port])
        #expect(stranger.status != 0 && stranger.text.lowercased().contains("calling ae title not recogni"), "\(stranger.text)")
        let misdialled = try await Self.dcmtk("echoscu", ["-aet", "SCANNER", "-aec", "ORTHANC", "127.0.0.1", port])
        #expect(misdialled.status != 0 && misdialled.text.lowercased().contains("called ae title not recogni"), "\(misdialled.text)")
        // SCANNER may only store: its query context is refused.
        let scannerFind = try await Self.dcmtk(
            "findscu", ["-aet", "SCANNER", "-aec", "METIS", "-S", "-k", "QueryRetrieveLevel=STUDY", "127.0.0.1", port])
        #expect(scannerFind.status != 0, "\(scannerFind.text)")

        // Two associations at once, one series each; a JPEG Lossless twin of the second series in its own syntax.
        async let storedFirst = Self.dcmtk("storescu", ["-aet", "SCANNER", "-aec", "METIS", "127.0.0.1", port] + first)
        async let storedSecond = Self.dcmtk("storescu", ["-aet", "SCANNER", "-aec", "METIS", "127.0.0.1", port] + second)
        let (one, two) = try await (storedFirst, storedSecond)
        #expect(one.status == 0 && two.status == 0, "\(one.text)\n\(two.text)")
        let twinFolder = work.appendingPathComponent("jpeg-lossless")
        if CompressedStudyTests.hasEncoders {
            let made = try await ToolProcess.run(
                "python3", [CompressedStudyTests.script.path, "jpeg-lossless", "92", twinFolder.path] + second)
            try #require(made.status == 0, "\(made.text)")
            let twins = try FileManager.default.contentsOfDirectory(atPath: twinFolder.path).sorted().map {
                twinFolder.appendingPathComponent($0).path
            }
            let stored = try await Self.dcmtk("storescu", ["-aet", "SCANNER", "-aec", "METIS", "-xs", "127.0.0.1", port] + twins)
            #expect(stored.status == 0 && !stored.text.contains("E:"), "\(stored.text)")
        }
        let qido = try await HTTP.request("GET", metis.web + "/studies/2.25.90210/series")
        let seriesJSON = try qido.json()
        #expect(qido.status == 200 && DICOMwebTests.values(seriesJSON, "00201209") == ["10", "10"], "\(qido.text)")

        // A modality re-sends after a failure: the same bytes are a success; other bytes under a stored SOP UID are refused.
        let again = try await Self.dcmtk("storescu", ["-v", "-aet", "SCANNER", "-aec", "METIS", "127.0.0.1", port, first[0]])
        #expect(again.status == 0 && again.text.contains("Received Store Response (Success)"), "\(again.text)")
        let altered = work.appendingPathComponent("altered.dcm")
        var bytes = bySeries[series[0]]![0].bytes
        bytes[bytes.count - 1] ^= 0xFF
        try bytes.write(to: altered)
        let conflict = try await Self.dcmtk("storescu", ["-v", "-aet", "SCANNER", "-aec", "METIS", "127.0.0.1", port, altered.path])
        #expect(conflict.text.contains("0x111") || conflict.text.contains("0x0111"), "\(conflict.text)")

        // C-FIND at every level and root, answers extracted by findscu and read back.
        func find(_ root: String, _ keys: [String]) async throws -> [Dataset] {
            let folder = work.appendingPathComponent("find-\(UUID().uuidString.prefix(6))")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let result = try await Self.dcmtk(
                "findscu",
                ["-aet", "WORKSTATION", "-aec", "METIS", root, "-X", "-od", folder.path] + keys.flatMap { ["-k", $0] } + [
                    "127.0.0.1", port,
                ])
            #expect(result.status == 0, "\(result.text)")
            return try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().map {
                try DICOMReader.read(Data(contentsOf: folder.appendingPathComponent($0))).dataset
            }
        }
        let studies = try await find(
            "-S", ["QueryRetrieveLevel=STUDY", "PatientName=lef*", "StudyInstanceUID", "PatientName", "NumberOfStudyRelatedInstances"])
        #expect(
            studies.map { $0.string(.studyInstanceUID) } == ["2.25.90210"] + (CompressedStudyTests.hasEncoders ? ["2.25.90210.92"] : []))
        #expect(studies.first?.int(.numberOfStudyRelatedInstances) == 20)
        #expect(studies.first?.string(.patientName) == "Lefèvre^Anaïs")
        let seriesMatches = try await find(
            "-S", ["QueryRetrieveLevel=SERIES", "StudyInstanceUID=2.25.90210", "SeriesInstanceUID", "Modality"])
        #expect(Set(seriesMatches.compactMap { $0.string(.seriesInstanceUID) }) == Set(series))
        #expect(seriesMatches.allSatisfy { $0.string(.modality) == "MR" })
        let images = try await find(
            "-S",
            [
                "QueryRetrieveLevel=IMAGE", "StudyInstanceUID=2.25.90210", "SeriesInstanceUID=\(series[0])", "SOPInstanceUID",
                "InstanceNumber",
            ])
        #expect(images.count == 10)
        let patients = try await find(
            "-P", ["QueryRetrieveLevel=PATIENT", "PatientID=PAT-DIMSE", "PatientName", "NumberOfPatientRelatedStudies"])
        #expect(patients.count == 1)
        #expect(patients.first?.int(.numberOfPatientRelatedStudies) == (CompressedStudyTests.hasEncoders ? 2 : 1))
        let dates = try await find("-S", ["QueryRetrieveLevel=STUDY", "StudyDate=20260101-20261231", "StudyInstanceUID"])
        #expect(dates.contains { $0.string(.studyInstanceUID) == "2.25.90210" })
        let none = try await find("-S", ["QueryRetrieveLevel=STUDY", "StudyDate=19990101-19991231", "StudyInstanceUID"])
        #expect(none.isEmpty)

        // C-MOVE to a storescp the test runs, and to an AE that is not a destination.
        let archive = work.appendingPathComponent("archive")
        try FileManager.default.createDirectory(at: archive, withIntermediateDirectories: true)
        let storescp = try Self.peer("/usr/bin/storescp", ["-aet", "ARCHIVE", "-od", archive.path, String(archivePort)])
        defer { Self.stop(storescp) }
        try await Task.sleep(for: .milliseconds(300))
        let moved = try await Self.dcmtk(
            "movescu",
            [
                "-v", "-aet", "WORKSTATION", "-aec", "METIS", "-aem", "ARCHIVE", "-S", "-k", "QueryRetrieveLevel=STUDY", "-k",
                "StudyInstanceUID=2.25.90210", "127.0.0.1", port,
            ])
        #expect(moved.status == 0, "\(moved.text)")
        #expect(moved.text.contains("Received Final Move Response (Success)"), "\(moved.text)")
        let archived = try Self.received(in: archive)
        #expect(archived.count == 20)
        for instance in mr.instances {
            let original = try DICOMReader.read(instance.bytes)
            #expect(archived[instance.sop]?.dataset[.pixelData]?.bytes == original.dataset[.pixelData]?.bytes, "\(instance.sop)")
        }
        if CompressedStudyTests.hasEncoders {
            // storescp accepts only native syntaxes: the JPEG Lossless twin arrives transcoded, its pixels those of the native series.
            let twinStudy = "2.25.90210.92"
            let movedTwin = try await Self.dcmtk(
                "movescu",
                [
                    "-aet", "WORKSTATION", "-aec", "METIS", "-aem", "ARCHIVE", "-S", "-k", "QueryRetrieveLevel=STUDY", "-k",
                    "StudyInstanceUID=\(twinStudy)", "127.0.0.1", port,
                ])
            #expect(movedTwin.status == 0, "\(movedTwin.text)")
            let afterTwin = try Self.received(in: archive)
            for instance in bySeries[series[1]]! {
                let twin = try #require(afterTwin[instance.sop + ".92"])
                #expect(
                    twin.transferSyntax.uid == TransferSyntax.explicitVRLittleEndian.uid
                        || twin.transferSyntax.uid == TransferSyntax.implicitVRLittleEndian.uid)
                #expect(twin.dataset[.pixelData]?.bytes == instance.pixels)
            }
        }
        let unknown = try await Self.dcmtk(
            "movescu",
            [
                "-v", "-aet", "WORKSTATION", "-aec", "METIS", "-aem", "SCANNER2", "-S", "-k", "QueryRetrieveLevel=STUDY", "-k",
                "StudyInstanceUID=2.25.90210", "127.0.0.1", port,
            ])
        #expect(unknown.text.contains("MoveDestinationUnknown"), "\(unknown.text)")

        // C-GET on the same association.
        let got = work.appendingPathComponent("got")
        try FileManager.default.createDirectory(at: got, withIntermediateDirectories: true)
        let get = try await Self.dcmtk(
            "getscu",
            [
                "-aet", "WORKSTATION", "-aec", "METIS", "-S", "-k", "QueryRetrieveLevel=SERIES", "-k", "StudyInstanceUID=2.25.90210", "-k",
                "SeriesInstanceUID=\(series[1])", "-od", got.path, "127.0.0.1", port,
            ])
        #expect(get.status == 0, "\(get.text)")
        let gotten = try Self.received(in: got)
        #expect(Set(gotten.keys) == Set(bySeries[series[1]]!.map(\.sop)))

        // Every association and instance is in the audit log, without a patient name.
        let audit = try String(contentsOf: metis.directory.appendingPathComponent("data/gateway/audit.jsonl"), encoding: .utf8)
        #expect(audit.contains("\"A-ASSOCIATE STRANGER -> METIS\""))
        #expect(audit.contains("\"client\":\"SCANNER@127.0.0.1\"") && audit.contains("C-STORE \(bySeries[series[0]]![0].sop)"))
        #expect(audit.contains("C-STORE to ARCHIVE"))
        #expect(!audit.contains("Lef"))
    }

    @Test(
        "pynetdicom echoes, stores, finds and moves to itself as an independent SCU and SCP",
        .enabled(if: PythonModules.available("pynetdicom", "pydicom")))
    func pynetdicomPeer() async throws {
        let destinationPort = try MetisProcesses.freePort()
        let metis = try await DICOMwebTests.Installation(dicomPeers: "PYNETDICOM@127.0.0.1:\(destinationPort)")
        defer { metis.stop() }
        let mr = try MRStudy(study: "2.25.31337", patientID: "PAT-PY", patientName: "Martin^Éric", date: "20250101", series: 1, slices: 5)
        let files = try Self.write(mr.instances.map(\.bytes), to: metis.directory.appendingPathComponent("py"))
        let result = try await ToolProcess.run(
            "python3", [Self.peerScript.path, "127.0.0.1", String(metis.dicomPort), String(destinationPort), "2.25.31337"] + files)
        try #require(result.status == 0, "\(result.text)")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(result.text.split(separator: "\n").last.map(String.init)?.utf8 ?? "".utf8))
                as? [String: Any])
        #expect(report["echo"] as? Int == 0)
        #expect(report["stored"] as? [Int] == [0, 0, 0, 0, 0])
        #expect(report["found"] as? [String] == ["2.25.31337"])
        #expect(report["names"] as? [String] == ["Martin^Éric"])
        #expect(report["move"] as? Int == 0)
        #expect(report["received"] as? Int == 5)
        #expect(report["identical"] as? Bool == true)
    }

    @Test(
        "metis dicom echoes, stores, finds, gets and moves against Orthanc, an independent Query/Retrieve SCP",
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/Orthanc")
                || FileManager.default.isExecutableFile(atPath: "/usr/bin/Orthanc")))
    func metisSCUAgainstOrthanc() async throws {
        let orthancPort = try MetisProcesses.freePort(), orthancHTTP = try MetisProcesses.freePort()
        let metis = try await DICOMwebTests.Installation(
            dicomPeers: "ORTHANC@127.0.0.1:\(orthancPort), DOWN@127.0.0.1:\(try MetisProcesses.freePort())")
        defer { metis.stop() }
        let folder = metis.directory.appendingPathComponent("orthanc")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let configuration = """
            {"Name": "peer", "StorageDirectory": "\(folder.path)/db", "IndexDirectory": "\(folder.path)/db", "HttpPort": \(orthancHTTP),
             "DicomPort": \(orthancPort), "DicomAet": "ORTHANC", "RemoteAccessAllowed": false, "AuthenticationEnabled": false,
             "Plugins": [], "DicomModalities": {"metis": ["METIS", "127.0.0.1", \(metis.dicomPort)]}}
            """
        try configuration.write(to: folder.appendingPathComponent("orthanc.json"), atomically: true, encoding: .utf8)
        let orthanc = try Self.peer(
            FileManager.default.isExecutableFile(atPath: "/usr/sbin/Orthanc") ? "/usr/sbin/Orthanc" : "/usr/bin/Orthanc",
            [folder.appendingPathComponent("orthanc.json").path])
        defer { Self.stop(orthanc) }
        var ready = false
        for _ in 0..<100 where !ready {
            ready = await MetisProcesses.get("http://127.0.0.1:\(orthancHTTP)/system") != nil
            if !ready { try await Task.sleep(for: .milliseconds(100)) }
        }
        try #require(ready, "Orthanc did not start")

        let mr = try MRStudy(study: "2.25.2718", patientID: "PAT-PRIOR", patientName: "Prior^Study", date: "20240101", series: 1, slices: 5)
        let files = try Self.write(mr.instances.map(\.bytes), to: folder.appendingPathComponent("send"))
        let peer = "ORTHANC@127.0.0.1:\(orthancPort)"
        func metisDICOM(_ arguments: [String]) async throws -> ToolProcess.Result {
            try await ToolProcess.run(MetisProcesses.executable("metis").path, ["dicom"] + arguments, standardError: .merged)
        }
        let echo = try await metisDICOM(["echo", peer])
        #expect(echo.status == 0 && echo.text.contains("C-ECHO 0x0000"), "\(echo.text)")
        let store = try await metisDICOM(["store", peer] + files)
        #expect(store.status == 0 && store.text.components(separatedBy: "0x0000 (Success)").count == 6, "\(store.text)")
        let find = try await metisDICOM(["find", peer, "--level", "SERIES", "-k", "StudyInstanceUID=2.25.2718", "-k", "SeriesInstanceUID"])
        #expect(find.status == 0 && find.text.contains("\"2.25.2718.1\""), "\(find.text)")
        let got = folder.appendingPathComponent("got")
        let get = try await metisDICOM(["get", peer, "--level", "STUDY", "-k", "StudyInstanceUID=2.25.2718", "--output", got.path])
        #expect(get.status == 0, "\(get.text)")
        let received = try Self.received(in: got)
        for instance in mr.instances {
            #expect(received[instance.sop]?.dataset[.pixelData]?.bytes == instance.pixels, "\(instance.sop)")
        }
        // A prior retrieved from the PACS: Orthanc moves the study to Metis, which stores it and shows it in QIDO.
        let move = try await metisDICOM(["move", peer, "--destination", "METIS", "--level", "STUDY", "-k", "StudyInstanceUID=2.25.2718"])
        #expect(move.status == 0 && move.text.contains("5 completed"), "\(move.text)")
        let qido = try await HTTP.request("GET", metis.web + "/studies?StudyInstanceUID=2.25.2718")
        #expect(DICOMwebTests.values(try qido.json(), "00201208") == ["5"], "\(qido.text)")
        // The same from the web: query the PACS for the patient's priors, and retrieve one into Metis.
        func remote(_ path: String, _ body: String) async throws -> HTTP.Answer {
            try await HTTP.request(
                "POST", metis.base + "/api/v1/remote/" + path, headers: ["Content-Type": "application/json"], body: Data(body.utf8))
        }
        let priors = try await remote(
            "ORTHANC/query", #"{"level": "STUDY", "keys": {"PatientID": "PAT-PRIOR", "StudyInstanceUID": "", "StudyDate": ""}}"#)
        #expect(priors.status == 200, "\(priors.text)")
        #expect(DICOMwebTests.values(try priors.json(), "0020000D") == ["2.25.2718"], "\(priors.text)")
        #expect(DICOMwebTests.values(try priors.json(), "00080020") == ["20240101"], "\(priors.text)")
        let series = try await remote(
            "ORTHANC/query",
            #"{"level": "SERIES", "root": "patient", "keys": {"PatientID": "PAT-PRIOR", "StudyInstanceUID": "2.25.2718", "SeriesInstanceUID": ""}}"#
        )
        #expect(DICOMwebTests.values(try series.json(), "0020000E") == ["2.25.2718.1"], "\(series.text)")
        let retrieved = try await remote("ORTHANC/retrieve", #"{"level": "STUDY", "keys": {"StudyInstanceUID": "2.25.2718"}}"#)
        let report = try #require(try retrieved.json() as? [String: Any], "\(retrieved.text)")
        #expect(retrieved.status == 200 && report["completed"] as? Int == 5 && report["failed"] as? Int == 0, "\(retrieved.text)")
        #expect(try await remote("NOSUCHPEER/query", #"{"level": "STUDY", "keys": {}}"#).status == 404)
        #expect(try await remote("ORTHANC/query", #"{"level": "GALAXY", "keys": {}}"#).status == 400)
        #expect(try await remote("ORTHANC/query", #"{"level": "STUDY", "keys": {"NotAKeyword": ""}}"#).status == 400)
        #expect(try await remote("ORTHANC/query", "not json").status == 400)
        let down = try await remote("DOWN/query", #"{"level": "STUDY", "keys": {"PatientID": ""}}"#)
        #expect(down.status == 502 && down.text.contains("DOWN"), "\(down.text)")
        let unknownPeer = try await metisDICOM(["echo", "NOSUCHPEER"])
        #expect(unknownPeer.status != 0 && unknownPeer.text.contains("dicom_peers"), "\(unknownPeer.text)")
    }

    @Test(
        "metis dicom store sends a JPEG Lossless file natively to a storescp that refuses the compressed syntax",
        .enabled(if: hasDCMTK && CompressedStudyTests.hasEncoders))
    func storeTranscodes() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-send-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        let mr = try MRStudy(study: "2.25.5151", patientID: "PAT-SEND", patientName: "Send^Test", date: "20260303", series: 1, slices: 3)
        let native = try Self.write(mr.instances.map(\.bytes), to: directory.appendingPathComponent("native"))
        let compressed = directory.appendingPathComponent("jpeg-lossless")
        let made = try await ToolProcess.run("python3", [CompressedStudyTests.script.path, "jpeg-lossless", "-", compressed.path] + native)
        try #require(made.status == 0, "\(made.text)")
        let port = try MetisProcesses.freePort()
        let archive = directory.appendingPathComponent("archive")
        try FileManager.default.createDirectory(at: archive, withIntermediateDirectories: true)
        // storescp accepts only the uncompressed syntaxes unless told otherwise.
        let storescp = try Self.peer("/usr/bin/storescp", ["-aet", "ARCHIVE", "-od", archive.path, String(port)])
        defer { Self.stop(storescp) }
        try await Task.sleep(for: .milliseconds(300))
        let sent = try await ToolProcess.run(
            MetisProcesses.executable("metis").path, ["dicom", "store", "ARCHIVE@127.0.0.1:\(port)", compressed.path],
            standardError: .merged)
        #expect(sent.status == 0, "\(sent.text)")
        #expect(sent.text.components(separatedBy: "sent transcoded to").count == 4, "\(sent.text)")
        let received = try Self.received(in: archive)
        #expect(received.count == 3)
        for instance in mr.instances {
            let file = try #require(received[instance.sop])
            #expect(TransferSyntax.nativeLittleEndian.contains { $0.uid == file.transferSyntax.uid })
            #expect(file.dataset[.pixelData]?.bytes == instance.pixels, "\(instance.sop)")
        }
    }

    @Test(
        "SIGKILL of the DIMSE edge mid-stream: every instance acknowledged with Success is stored intact, a re-send stores the rest",
        .enabled(if: hasDCMTK || ProcessInfo.processInfo.environment["CI"] != nil))
    func killedMidStream() async throws {
        let metis = try await DICOMwebTests.Installation(dicomPeers: "SCANNER@127.0.0.1:104/store")
        defer { metis.stop() }
        let mr = try MRStudy(study: "2.25.999", patientID: "PAT-KILL", patientName: "Kill^Test", date: "20260101", series: 1, slices: 600)
        let files = try Self.write(mr.instances.map(\.bytes), to: metis.directory.appendingPathComponent("stream"))
        let health = try #require(await MetisProcesses.health(metis.base + "/healthz"))
        func stored() async -> Int {
            guard let answer = try? await HTTP.request("GET", metis.web + "/studies?StudyInstanceUID=2.25.999"),
                let json = try? answer.json()
            else { return -1 }
            return Int(DICOMwebTests.values(json, "00201208").first ?? "") ?? 0
        }
        async let sending = Self.dcmtk(
            "storescu", ["-v", "-aet", "SCANNER", "-aec", "METIS", "127.0.0.1", String(metis.dicomPort)] + files)
        var seen = 0
        for _ in 0..<1000 where seen < 30 {
            seen = await stored()
            try await Task.sleep(for: .milliseconds(10))
        }
        kill(health.pid, SIGKILL)
        let stream = try await sending
        #expect(stream.status != 0, "storescu should see the association end")
        // The files storescu saw acknowledged with Success, from its log.
        var acknowledged = [String]()
        var current: String?
        for line in stream.text.split(separator: "\n") {
            if let range = line.range(of: "Sending file: ") { current = String(line[range.upperBound...]) }
            if line.contains("Received Store Response (Success)"), let file = current { acknowledged.append(file) }
        }
        #expect(acknowledged.count >= 30 && acknowledged.count < files.count, "\(acknowledged.count) acknowledged")
        // metis up restarts the gateway; every acknowledged instance is there, its data set byte-identical.
        try #require(await MetisProcesses.waitForHealthy(metis.base + "/healthz", timeout: .seconds(60)) != nil)
        let byPath = Dictionary(uniqueKeysWithValues: zip(files, mr.instances))
        for path in acknowledged {
            let instance = try #require(byPath[path])
            let answer = try await HTTP.request(
                "GET", metis.web + "/studies/2.25.999/series/\(instance.series)/instances/\(instance.sop)",
                headers: ["Accept": "multipart/related; type=\"application/dicom\""])
            let part = try #require(try DICOMwebTests.parts(answer).first, "\(instance.sop): \(answer.status)")
            #expect(
                Part10.dataset(of: part.body) == Part10.dataset(of: instance.bytes), "\(instance.sop)")
        }
        let again = try await Self.dcmtk("storescu", ["-aet", "SCANNER", "-aec", "METIS", "127.0.0.1", String(metis.dicomPort)] + files)
        #expect(again.status == 0, "\(again.text)")
        #expect(await stored() == 600)
    }

    @Test(
        "with instance_conflicts = overwrite, other bytes under a stored SOP Instance UID replace it over C-STORE",
        .enabled(if: hasDCMTK || ProcessInfo.processInfo.environment["CI"] != nil))
    func overwritePolicy() async throws {
        let metis = try await DICOMwebTests.Installation(
            dicomPeers: "SCANNER@127.0.0.1:104/store", arguments: ["--instance-conflicts", "overwrite"])
        defer { metis.stop() }
        let mr = try MRStudy(study: "2.25.4711", patientID: "PAT-OVER", patientName: "Over^Write", date: "20260101", series: 1, slices: 1)
        let instance = mr.instances[0]
        var altered = instance.bytes
        altered[altered.count - 1] ^= 0xFF
        let paths = try Self.write([instance.bytes, altered], to: metis.directory.appendingPathComponent("over"))
        for path in paths {
            let sent = try await Self.dcmtk(
                "storescu", ["-v", "-aet", "SCANNER", "-aec", "METIS", "127.0.0.1", String(metis.dicomPort), path])
            #expect(sent.text.contains("Received Store Response (Success)"), "\(sent.text)")
        }
        let answer = try await HTTP.request(
            "GET", metis.web + "/studies/2.25.4711/series/\(instance.series)/instances/\(instance.sop)",
            headers: ["Accept": "multipart/related; type=\"application/dicom\""])
        let part = try #require(try DICOMwebTests.parts(answer).first)
        #expect(part.body.last == altered.last)
    }
}
