import DICOM
import DIMSE
import Foundation
import Logging
import NIOCore
import NIOPosix
import Testing

@testable import DICOMNetwork

/// Associations over loopback TCP between Metis's own requestor and acceptor, and raw bytes
/// a misbehaving peer sends: the acceptor must reject, abort and time out as PS3.8 says.
@Suite("Associations over TCP")
struct AssociationTests {
    static let logger = Logger(label: "test.dimse")

    static func request(called: String = "METIS", maximum: UInt32 = 16384) -> AssociationRequest {
        AssociationRequest(
            calledAETitle: called, callingAETitle: "TESTSCU",
            presentationContexts: [
                ProposedContext(
                    id: 1, abstractSyntax: SOPClass.verification, transferSyntaxes: [TransferSyntax.implicitVRLittleEndian.uid]),
                ProposedContext(
                    id: 3, abstractSyntax: "1.2.840.10008.5.1.4.1.1.4",
                    transferSyntaxes: ["1.2.840.10008.1.2.4.100", TransferSyntax.explicitVRLittleEndian.uid]),
                ProposedContext(id: 5, abstractSyntax: "1.2.3.4", transferSyntaxes: [TransferSyntax.implicitVRLittleEndian.uid]),
            ],
            userInformation: UserInformation(maximumLength: maximum, implementationClassUID: "1.2.3", implementationVersionName: "TEST"))
    }

    static let policy = AcceptorPolicy(
        aeTitle: "METIS", syntaxes: [SOPClass.verification: [TransferSyntax.implicitVRLittleEndian.uid]],
        storageSyntaxes: [TransferSyntax.explicitVRLittleEndian.uid, TransferSyntax.implicitVRLittleEndian.uid], maximumLength: 32768,
        implementationClassUID: UID.implementationClass, implementationVersionName: UID.implementationVersionName)

    /// An echo-and-store SCP on a free port; `received` counts data sets.
    final class Server: Sendable {
        let server: DIMSEServer
        let task: Task<Void, any Error>
        let port: Int

        init(settings: AssociationSettings = .init()) async throws {
            let server = DIMSEServer(
                host: "127.0.0.1", port: 0, settings: settings, logger: AssociationTests.logger,
                decide: { request, _ in AssociationTests.policy.answer(request) },
                serve: { association in
                    do {
                        for try await message in association.messages {
                            let status =
                                message.commandField == .cStoreRequest && message.dataset?.count != 70_000
                                ? DIMSEStatus.cannotUnderstand : DIMSEStatus.success
                            try await association.send(message.response(status: status))
                        }
                    } catch {}
                })
            self.server = server
            task = Task { try await server.run() }
            port = try #require(try await server.listeningAddress()?.port)
        }

        func stop() async {
            server.shutdown()
            _ = try? await task.value
        }
    }

    @Test("echo and a store fragmented to the acceptor's maximum length, then release; unsupported contexts refused")
    func echoStoreRelease() async throws {
        let server = try await Server()
        let association = try await DIMSEConnector.associate(
            host: "127.0.0.1", port: server.port, request: Self.request(), logger: Self.logger)
        #expect(association.negotiated.contexts.count == 2)
        #expect(association.negotiated.contexts[3]?.transferSyntax == TransferSyntax.explicitVRLittleEndian.uid)
        #expect(association.negotiated.peerMaximumLength == 32768)
        let client = DIMSEClient(association)
        #expect(try await client.echo() == DIMSEStatus.success)
        let store = try await client.store(
            contextID: 3, sopClassUID: "1.2.840.10008.5.1.4.1.1.4", sopInstanceUID: "1.2.3.4.5", dataset: Data(count: 70_000))
        #expect(store.status == DIMSEStatus.success && store.affectedSOPInstanceUID == "1.2.3.4.5")
        try await client.release()
        await association.closed()
        await server.stop()
    }

    @Test("a wrong called AE title is rejected with its reason")
    func rejection() async throws {
        let server = try await Server()
        await #expect {
            _ = try await DIMSEConnector.associate(
                host: "127.0.0.1", port: server.port, request: Self.request(called: "OTHER"), logger: Self.logger)
        } throws: { error in
            guard case AssociationError.rejected(let reject) = error else { return false }
            return reject.reason == 7 && reject.source == 1
        }
        await server.stop()
    }

    /// Connects and writes `bytes`; what the acceptor answers before it closes.
    static func raw(_ bytes: [UInt8], port: Int) async throws -> [UInt8] { try await exchange(bytes, port: port).answer }

    /// What the acceptor answers to `bytes`, and whether it closed the connection (rather than the 5 s read timeout ending the wait).
    static func exchange(_ bytes: [UInt8], port: Int) async throws -> (answer: [UInt8], closed: Bool) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(connected == 0)
        if !bytes.isEmpty { _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var answer = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count == 0 { return (answer, true) }
            if count < 0 { return (answer, false) }
            answer += buffer[0..<count]
        }
    }

    @Test("an unknown PDU type, a P-DATA-TF before association and an oversize PDU are answered with A-ABORT")
    func violations() async throws {
        var settings = AssociationSettings()
        settings.artimTimeout = .milliseconds(300)
        let server = try await Server(settings: settings)
        // An unknown PDU type in Sta2: AA-1, an A-ABORT (source 0), then ARTIM closes the connection.
        let unknown = try await Self.exchange([0x09, 0, 0, 0, 0, 0], port: server.port)
        #expect(unknown.answer == [0x07, 0, 0, 0, 0, 4, 0, 0, 0, 0] && unknown.closed)
        // P-DATA-TF in Sta2: AA-1, an A-ABORT from the service user.
        let early = try await Self.raw([0x04, 0, 0, 0, 0, 6, 0, 0, 0, 2, 1, 3], port: server.port)
        #expect(early.first == 0x07)
        // An A-ASSOCIATE-RQ announcing 2 GiB is refused before its body is read.
        #expect(try await Self.raw([0x01, 0, 0x80, 0, 0, 0], port: server.port).first == 0x07)
        await server.stop()
    }

    @Test("ARTIM: a connection that sends no A-ASSOCIATE-RQ is closed")
    func artim() async throws {
        var settings = AssociationSettings()
        settings.artimTimeout = .milliseconds(200)
        let server = try await Server(settings: settings)
        let (answer, closed) = try await Self.exchange([], port: server.port)
        #expect(answer.isEmpty && closed)
        await server.stop()
    }
}
