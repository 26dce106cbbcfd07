import SwiftProtobuf
import Logging
import Testing

@testable import MetisRPC

@Suite("RPC addresses")
struct RPCAddressTests {
    @Test(
        "parses socket paths and TCP addresses",
        arguments: [
            ("/run/metis/storage.sock", RPCAddress.unix(path: "/run/metis/storage.sock")),
            ("unix:///run/metis/storage.sock", .unix(path: "/run/metis/storage.sock")),
            ("unix:data/run/x.sock", .unix(path: "data/run/x.sock")),
            ("tcp://127.0.0.1:7000", .tcp(host: "127.0.0.1", port: 7000)),
            ("tcp://inference-2.metis.svc:9000", .tcp(host: "inference-2.metis.svc", port: 9000)),
            ("tcp://[::1]:7000", .tcp(host: "::1", port: 7000)),
        ])
    func parses(text: String, expected: RPCAddress) throws {
        #expect(try RPCAddress(parsing: text) == expected)
    }

    @Test(
        "refuses what is not an address",
        arguments: ["", "tcp://host", "tcp://host:0", "tcp://host:70000", "tcp://:80", "http://x:1", "unix:"])
    func refuses(text: String) {
        #expect(throws: RPCError.self) { try RPCAddress(parsing: text) }
    }

    @Test(
        "description round-trips through parsing",
        arguments: [
            RPCAddress.unix(path: "/a/b.sock"), .tcp(host: "10.0.0.1", port: 1), .tcp(host: "::1", port: 443),
        ])
    func roundTrip(address: RPCAddress) throws {
        #expect(try RPCAddress(parsing: address.description) == address)
    }
}
