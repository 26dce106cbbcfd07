public import ArgumentParser
import Foundation
import MetisProcess
import MetisProto
import MetisRPC

/// `metis ping ADDRESS`: calls Health/Check on a service and prints the answer.
public struct PingCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ping", abstract: "Check a service's health over its socket (exit 0 when serving).")

    @OptionGroup var common: CommonOptions
    @Argument(help: "A socket path or tcp://host:port.") var address: String
    @Option(help: "Seconds to wait.") var timeout: Double = 2

    public init() {}

    public func run() async throws {
        let connection = RPCConnection(address: try RPCAddress(parsing: address), configuration: try common.configuration().rpcClient())
        defer { Task { await connection.close() } }
        do {
            let response = try await Metis_V1_Health.Client(connection).check(
                options: CallOptions(timeout: .milliseconds(Int(timeout * 1000))))
            print(
                "\(response.component) \(response.version) pid \(response.processID): \(response.status == .serving ? "SERVING" : "NOT_SERVING")"
            )
            if response.status != .serving { throw ExitCode(1) }
        } catch let error as RPCError {
            print("\(address): \(error)")
            throw ExitCode(1)
        }
    }
}
