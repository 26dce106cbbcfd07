import CFuzzerDriver
import MetisRPC
import NIOCore
import MetisProto
import NIOEmbedded

/// Any bytes as they arrive on a service socket, in two reads split at the
/// first byte's value, through the real decoder in a channel pipeline:
/// frames, or a typed FrameError that closes the connection.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let bytes = UnsafeBufferPointer(start: start, count: count)
    let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maximumFrameSize: 1 << 20)))
    let split = count > 0 ? Int(bytes[0]) % (count + 1) : 0
    do {
        for chunk in [bytes[..<split], bytes[split...]] { try channel.writeInbound(ByteBuffer(bytes: chunk)) }
        while try channel.readInbound(as: Metis_V1_Frame.self) != nil {}
    } catch {}
    _ = try? channel.finish()
    return 0
}

/// The executable's entry point (SwiftPM links `main` to it): libFuzzer's driver with `fuzz`.
@_cdecl("fuzz_rpc_frame_main")
public func run(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    metis_fuzzer_run(argc, argv, fuzz)
}
