import SwiftProtobuf
import Logging
import Foundation
import Testing

@testable import MetisRPC

@Suite("Client pool")
struct ClientPoolTests {
    @Test("round-robin alternates between instances")
    func roundRobin() async throws {
        let a = try await TestServer(router: TestMethods.router(name: "a"))
        let b = try await TestServer(router: TestMethods.router(name: "b"))
        let pool = RPCClientPool(
            connections: [RPCConnection(address: a.address), RPCConnection(address: b.address)], strategy: .roundRobin)
        var answers = [String]()
        for index in 0..<6 { answers.append(try await pool.echo(String(index))) }
        #expect(answers == ["a:0", "b:1", "a:2", "b:3", "a:4", "b:5"])
        await pool.close()
        try await a.stop()
        try await b.stop()
    }

    @Test("least-in-flight sends a call to the idle instance while the other is busy")
    func leastInFlight() async throws {
        let a = try await TestServer(router: TestMethods.router(name: "a"))
        let b = try await TestServer(router: TestMethods.router(name: "b"))
        let connectionA = RPCConnection(address: a.address)
        let connectionB = RPCConnection(address: b.address)
        let pool = RPCClientPool(connections: [connectionA, connectionB], strategy: .leastInFlight)
        let busy = Task { try await connectionA.sleep(milliseconds: 500) }
        try await waitUntil { connectionA.inFlight == 1 }
        #expect(pool.pick() === connectionB)
        #expect(try await pool.echo("x") == "b:x")
        _ = try await busy.value
        #expect(pool.pick() === connectionA, "ties go to the first")
        await pool.close()
        try await a.stop()
        try await b.stop()
    }

    @Test("an instance that is down is skipped, and a call it could not take goes to another")
    func skipsDownInstance() async throws {
        let a = try await TestServer(router: TestMethods.router(name: "a"))
        let b = try await TestServer(router: TestMethods.router(name: "b"))
        let pool = RPCClientPool(
            connections: [RPCConnection(address: a.address), RPCConnection(address: b.address)], strategy: .roundRobin)
        try await a.stop()
        var answers = [String]()
        for index in 0..<4 { answers.append(try await pool.echo(String(index))) }
        #expect(answers == ["b:0", "b:1", "b:2", "b:3"])
        try await b.stop()
        // With every instance down the caller gets UNAVAILABLE.
        do {
            _ = try await pool.echo("none")
            Issue.record("call succeeded with no instance up")
        } catch let error as RPCError {
            #expect(error.code == .unavailable)
        }
        await pool.close()
    }
}
