public import ArgumentParser
import Foundation
import MetisProcess
import Gateway
import Logging
import MetisRPC

/// `metis up`: starts and supervises storage, tracking, the inference workers and the gateway.
public struct UpCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "up", abstract: "Start all Metis services and supervise them.")

    @OptionGroup var common: CommonOptions
    @OptionGroup var gateway: GatewayOptions

    public init() {}

    public func run() async throws {
        let configuration = try common.configuration(gateway.apply)
        ProcessRunner.bootstrapLogging(level: configuration.logLevel)
        let logger = Logger(label: "metis.supervisor")
        try FileManager.default.createDirectory(
            at: configuration.dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        try FileManager.default.createDirectory(
            at: configuration.runDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])

        let plan = LaunchPlan(configuration: configuration)
        var url = configuration.gatewayURL
        var signIn = ""
        if configuration.authentication == .tokens {
            // The first start makes an admin token and hands it over in the address, so that one command still just works.
            let tokens = TokenStore(file: configuration.tokenFile)
            if try tokens.records().isEmpty {
                let (token, record) = try tokens.create(role: .admin, label: "created by the first metis up")
                url += "#token=" + token
                logger.notice("created the first admin token", metadata: ["auth.token": "\(record.id)"])
            } else {
                signIn = " Sign in with an access token (metis token create --role ROLE)."
            }
        }
        let shown = url, hint = signIn
        let supervisor = Supervisor(
            executable: try LaunchPlan.currentExecutable(),
            services: plan.services,
            gateway: plan.gateway,
            logger: logger
        ) {
            let line =
                "Metis is running: open \(shown) in a browser (health: \(configuration.gatewayURL)healthz).\(hint) Press Ctrl-C to stop.\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        }
        do {
            try await ProcessRunner.run([supervisor], logger: logger)
        } catch let error as Supervisor.StartupError {
            logger.critical("startup failed: \(error.description)")
            throw ExitCode(1)
        }
    }
}
