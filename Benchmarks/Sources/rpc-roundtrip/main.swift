// RPC round trip on one Unix-socket connection with a 100-byte payload,
// against the physical limit measured in the same run: a raw Unix-socket
// ping-pong of the same bytes between two threads with blocking read/write.
//
//   swift run -c release --package-path Benchmarks rpc-roundtrip [--seconds N]
import BenchmarkResults
import Foundation
import Logging
import MetisRPC
import NIOPosix
import SwiftProtobuf

let arguments = CommandLine.arguments
let seconds = arguments.firstIndex(of: "--seconds").flatMap { Double(arguments[$0 + 1]) } ?? 3
let payloadSize = 100
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metis-bench-\(getpid())")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: directory) }

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

func microseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
}

// MARK: Raw ping-pong (the peer)

/// Echo server thread on a Unix socket; returns its path.
func startRawEchoServer(path: String, frameSize: Int) -> Thread {
    let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path.utf8.prefix($0.count - 1)) }
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    listen(listener, 1)
    let thread = Thread {
        let fd = accept(listener, nil, nil)
        var buffer = [UInt8](repeating: 0, count: frameSize)
        while readFully(fd, &buffer) { _ = buffer.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
        close(fd)
        close(listener)
    }
    thread.start()
    return thread
}

func readFully(_ fd: Int32, _ buffer: inout [UInt8]) -> Bool {
    var got = 0
    let count = buffer.count
    while got < count {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, count - got) }
        if n <= 0 { return false }
        got += n
    }
    return true
}

func connectRaw(path: String) -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path.utf8.prefix($0.count - 1)) }
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    return fd
}

let rawFrameSize = 4 + payloadSize
let rawPath = directory.appendingPathComponent("raw.sock").path
_ = startRawEchoServer(path: rawPath, frameSize: rawFrameSize)
let rawFD = connectRaw(path: rawPath)
var rawBuffer = [UInt8](repeating: 0x5A, count: rawFrameSize)
var rawLatencies = [Double]()
let rawStart = ContinuousClock.now
while rawStart.duration(to: .now) < .seconds(seconds) {
    let start = ContinuousClock.now
    _ = rawBuffer.withUnsafeBytes { write(rawFD, $0.baseAddress, $0.count) }
    _ = readFully(rawFD, &rawBuffer)
    rawLatencies.append(microseconds(start.duration(to: .now)))
}
close(rawFD)
rawLatencies.sort()
let rawThroughput = Double(rawLatencies.count) / seconds

// MARK: Metis RPC

let echo = MethodDescriptor(service: "bench.Echo", method: "Echo", kind: .unary)
var router = RPCRouter()
router.registerUnary(echo, input: Google_Protobuf_BytesValue.self, output: Google_Protobuf_BytesValue.self) { request, _ in request }
let rpcPath = directory.appendingPathComponent("rpc.sock").path
// Server and client on event loop groups of their own, as in two processes.
let serverGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let server = RPCServer(
    address: .unix(path: rpcPath), router: router, logger: Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() },
    eventLoopGroup: serverGroup)
let serverTask = Task { try await server.run() }
_ = try await server.listeningAddress()
let connection = RPCConnection(address: .unix(path: rpcPath), eventLoopGroup: clientGroup)
let request = Google_Protobuf_BytesValue.with { $0.value = Data(repeating: 0x5A, count: payloadSize) }
let options = CallOptions(timeout: .seconds(10))
let warmupEnd = ContinuousClock.now + .milliseconds(500)
while ContinuousClock.now < warmupEnd {
    let _: Google_Protobuf_BytesValue = try await connection.unary(echo, request: request, options: options)
}

/// Sequential calls for `seconds`; their latencies in µs, sorted.
@Sendable func sequentialLatencies() async throws -> [Double] {
    var latencies = [Double]()
    let phaseStart = ContinuousClock.now
    while phaseStart.duration(to: .now) < .seconds(seconds) {
        let start = ContinuousClock.now
        let response: Google_Protobuf_BytesValue = try await connection.unary(echo, request: request, options: options)
        precondition(response.value.count == payloadSize)
        latencies.append(microseconds(start.duration(to: .now)))
    }
    return latencies.sorted()
}
let rpcLatencies = try await sequentialLatencies()
let onLoopLatencies = try await withTaskExecutorPreference(connection.taskExecutor) { try await sequentialLatencies() }

let inFlight = 64
/// Calls per second with `inFlight` concurrent callers, each on `executor` (nil: the global executor).
@Sendable func pipelined(on executor: (any TaskExecutor)?) async throws -> Double {
    let pipelinedStart = ContinuousClock.now
    let pipelinedEnd = pipelinedStart + .seconds(seconds)
    let completed = try await withThrowingTaskGroup(of: Int.self) { group in
        for _ in 0..<inFlight {
            group.addTask(executorPreference: executor) {
                var count = 0
                while ContinuousClock.now < pipelinedEnd {
                    let _: Google_Protobuf_BytesValue = try await connection.unary(echo, request: request, options: options)
                    count += 1
                }
                return count
            }
        }
        var total = 0
        for try await count in group { total += count }
        return total
    }
    return Double(completed) / (microseconds(pipelinedStart.duration(to: .now)) / 1e6)
}
let pipelinedThroughput = try await pipelined(on: nil)

await connection.close()
server.shutdown()
try await serverTask.value
try await serverGroup.shutdownGracefully()
try await clientGroup.shutdownGracefully()

// MARK: Report

let rawP50 = percentile(rawLatencies, 0.5), rawP99 = percentile(rawLatencies, 0.99)
let rpcP50 = percentile(rpcLatencies, 0.5), rpcP99 = percentile(rpcLatencies, 0.99)
let loopP50 = percentile(onLoopLatencies, 0.5), loopP99 = percentile(onLoopLatencies, 0.99)
print(
    "RPC round trip, one Unix-socket connection, \(payloadSize)-byte payload, \(seconds) s per phase, \(ProcessInfo.processInfo.activeProcessorCount) cores"
)
print("| measure | raw ping-pong (peer) | Metis RPC | ratio RPC/raw |")
print("| --- | --- | --- | --- |")
print(String(format: "| sequential p50 latency | %.1f µs | %.1f µs | %.2f× |", rawP50, rpcP50, rpcP50 / rawP50))
print(String(format: "| sequential p99 latency | %.1f µs | %.1f µs | %.2f× |", rawP99, rpcP99, rpcP99 / rawP99))
print(
    String(
        format: "| sequential p50, caller on the connection's event loop | %.1f µs | %.1f µs | %.2f× |", rawP50, loopP50, loopP50 / rawP50))
print(
    String(
        format: "| sequential p99, caller on the connection's event loop | %.1f µs | %.1f µs | %.2f× |", rawP99, loopP99, loopP99 / rawP99))
print(
    String(
        format: "| sequential throughput | %.0f /s | %.0f /s | %.2f× |", rawThroughput, Double(rpcLatencies.count) / seconds,
        Double(rpcLatencies.count) / seconds / rawThroughput))
print(
    String(
        format: "| throughput, %d in flight | %.0f /s (1 in flight) | %.0f /s | %.2f× |", inFlight, rawThroughput, pipelinedThroughput,
        pipelinedThroughput / rawThroughput))
print(
    String(
        format:
            "targets: sequential p50 within 3× of raw: %@ (caller on its own task), %@ (caller on the connection's loop); pipelined >= 100000 calls/s: %@",
        rpcP50 <= 3 * rawP50 ? "met" : "NOT met", loopP50 <= 3 * rawP50 ? "met" : "NOT met",
        pipelinedThroughput >= 100_000 ? "met" : "NOT met"))

var results = BenchmarkRun(name: "rpc-roundtrip", settings: ["seconds": String(seconds), "payload_bytes": String(payloadSize)])
let peerName = "raw Unix-socket ping-pong"
results.add("sequential p50 latency", unit: "µs", metis: rpcP50, peer: rawP50, peerName: peerName, higherIsBetter: false)
results.add("sequential p99 latency", unit: "µs", metis: rpcP99, peer: rawP99, peerName: peerName, higherIsBetter: false)
results.add("sequential p50, caller on the event loop", unit: "µs", metis: loopP50, peer: rawP50, peerName: peerName, higherIsBetter: false)
results.add(
    "sequential throughput", unit: "calls/s", metis: Double(rpcLatencies.count) / seconds, peer: rawThroughput, peerName: peerName,
    higherIsBetter: true)
results.add(
    "throughput, \(inFlight) in flight", unit: "calls/s", metis: pipelinedThroughput, peer: rawThroughput,
    peerName: peerName + " (1 in flight)",
    higherIsBetter: true)
try results.finish()
