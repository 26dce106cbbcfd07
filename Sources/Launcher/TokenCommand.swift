public import ArgumentParser
import Foundation
import MetisProcess
import Gateway

/// `metis token create|revoke|list`: the gateway's access tokens.
public struct TokenCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Create, revoke and list the gateway's access tokens.",
        subcommands: [Create.self, Revoke.self, List.self])

    public init() {}

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token; it is printed once, as the last word of the output (only its hash is kept).")
        @OptionGroup var common: CommonOptions
        @Option(help: "viewer (read), clinician (read, upload, segment, export) or admin (everything, delete included).")
        var role: String
        @Option(help: "Who or what the token is for.") var label = ""

        func run() throws {
            guard let role = AccessRole(rawValue: role.lowercased()) else {
                throw ValidationError("role must be viewer, clinician or admin, got '\(role)'")
            }
            let store = TokenStore(file: try common.configuration().tokenFile)
            let (token, record) = try store.create(role: role, label: label)
            print("created \(record.role.rawValue) token \(record.id)\(label.isEmpty ? "" : " (\(label))"): \(token)")
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by its id (as `metis token list` shows it).")
        @OptionGroup var common: CommonOptions
        @Argument(help: "The token's id, or at least its first 6 digits.") var id: String

        func run() throws {
            let record = try TokenStore(file: try common.configuration().tokenFile).revoke(id: id)
            print("revoked \(record.role.rawValue) token \(record.id)")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the tokens (ids, roles, labels; never the tokens).")
        @OptionGroup var common: CommonOptions

        func run() throws {
            let records = try TokenStore(file: try common.configuration().tokenFile).records()
            let formatter = ISO8601DateFormatter()
            for record in records {
                print([record.id, record.role.rawValue, formatter.string(from: record.created), record.label].joined(separator: "\t"))
            }
            if records.isEmpty { print("no tokens") }
        }
    }
}
