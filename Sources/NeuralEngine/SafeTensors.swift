public import Foundation

/// Reads `.safetensors` files (the format `Weights/convert_checkpoint.py`
/// writes from a MONAI checkpoint): an 8-byte little-endian header length, a
/// JSON header naming each tensor's dtype, shape and byte range, then the data.
/// Float32 tensors are read as they are; float16 and bfloat16 are widened.
public enum SafeTensors {
    public static func read(_ data: Data) throws(NeuralEngineError) -> (state: StateDict, metadata: [String: String]) {
        guard data.count >= 8 else { throw NeuralEngineError("not a safetensors file: shorter than its header length") }
        let headerLength = try headerLength(data.prefix(8), fileSize: data.count)
        let base = data.startIndex + 8 + headerLength
        let header = try parseHeader(data[data.startIndex + 8..<base])
        return try decode(header, dataSize: data.count - 8 - headerLength) { range in
            data[base + range.lowerBound..<base + range.upperBound]
        }
    }

    /// Reads a file one tensor at a time, so that loading needs no more memory
    /// than the weights themselves plus the largest tensor's bytes.
    public static func read(contentsOf url: URL) throws(NeuralEngineError) -> (state: StateDict, metadata: [String: String]) {
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            let size = Int(try handle.seekToEnd())
            try handle.seek(toOffset: 0)
            guard size >= 8, let prefix = try handle.read(upToCount: 8), prefix.count == 8 else {
                throw NeuralEngineError("\(url.path) is not a safetensors file: shorter than its header length")
            }
            let headerLength = try headerLength(prefix, fileSize: size)
            let header = try parseHeader(try handle.read(upToCount: headerLength) ?? Data())
            let base = UInt64(8 + headerLength)
            return try decode(header, dataSize: size - 8 - headerLength) { range in
                try handle.seek(toOffset: base + UInt64(range.lowerBound))
                return try handle.read(upToCount: range.count) ?? Data()
            }
        } catch let error as NeuralEngineError {
            throw error
        } catch {
            throw NeuralEngineError("cannot read \(url.path): \(error.localizedDescription)")
        }
    }

    private static func headerLength(_ prefix: Data, fileSize: Int) throws(NeuralEngineError) -> Int {
        var length: UInt64 = 0
        for (index, byte) in prefix.enumerated() { length |= UInt64(byte) << (8 * UInt64(index)) }
        guard length <= UInt64(fileSize - 8), length < 100_000_000 else {
            throw NeuralEngineError("safetensors header length \(length) runs past the file")
        }
        return Int(length)
    }

    private static func parseHeader(_ data: Data) throws(NeuralEngineError) -> [String: Any] {
        guard let header = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw NeuralEngineError("safetensors header is not a JSON object")
        }
        return header
    }

    /// Tensors from a parsed header; `bytes` returns a byte range of the data section.
    private static func decode(
        _ header: [String: Any], dataSize: Int, bytes: (Range<Int>) throws -> Data
    ) throws(NeuralEngineError) -> (state: StateDict, metadata: [String: String]) {
        var tensors = [String: Tensor]()
        var metadata = [String: String]()
        for (name, value) in header {
            if name == "__metadata__" {
                metadata = (value as? [String: String]) ?? [:]
                continue
            }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                let shape = (entry["shape"] as? [NSNumber])?.map(\.intValue),
                let offsets = (entry["data_offsets"] as? [NSNumber])?.map(\.intValue),
                offsets.count == 2
            else { throw NeuralEngineError("safetensors entry \(name) is malformed") }
            let count = shape.reduce(1, *)
            // Integer tensors are buffers (BatchNorm's num_batches_tracked, I64 in every MONAI state dict): widened like the rest.
            let widths = ["F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1]
            guard let width = widths[dtype] else {
                throw NeuralEngineError("\(name) is \(dtype); the reader takes \(widths.keys.sorted().joined(separator: ", "))")
            }
            guard offsets[1] - offsets[0] == count * width, offsets[1] <= dataSize, offsets[0] >= 0 else {
                throw NeuralEngineError("\(name): byte range \(offsets) does not fit \(count) \(dtype) values in the file")
            }
            let raw: Data
            do {
                raw = try bytes(offsets[0]..<offsets[1])
            } catch {
                throw NeuralEngineError("\(name): cannot read its bytes: \(error)")
            }
            guard raw.count == count * width else { throw NeuralEngineError("\(name): the file ends inside its data") }
            var values = [Float](repeating: 0, count: count)
            raw.withUnsafeBytes { source in
                func widen<Integer: FixedWidthInteger>(_: Integer.Type) {
                    for i in 0..<count {
                        values[i] = Float(
                            Integer(littleEndian: source.loadUnaligned(fromByteOffset: i * Integer.bitWidth / 8, as: Integer.self)))
                    }
                }
                switch dtype {
                case "F32":
                    values.withUnsafeMutableBytes { $0.copyMemory(from: source) }
                case "F16":
                    for i in 0..<count { values[i] = Float(Float16(bitPattern: UInt16(source[2 * i]) | UInt16(source[2 * i + 1]) << 8)) }
                case "I64": widen(Int64.self)
                case "I32": widen(Int32.self)
                case "I16": widen(Int16.self)
                case "I8": widen(Int8.self)
                case "U8", "BOOL": widen(UInt8.self)
                default:
                    for i in 0..<count { values[i] = Float(bitPattern: (UInt32(source[2 * i]) | UInt32(source[2 * i + 1]) << 8) << 16) }
                }
            }
            tensors[name] = Tensor(shape: shape, values: values)
        }
        return (StateDict(tensors), metadata)
    }
}

extension SafeTensors {
    /// A safetensors file of float32 tensors (keys sorted) with string metadata.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:]) -> Data {
        var header = [String: Any]()
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let tensor = tensors[name]!
            header[name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, offset + tensor.count * 4]]
            offset += tensor.count * 4
        }
        var json = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        var data = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for name in names { tensors[name]!.values.withUnsafeBytes { data.append(contentsOf: $0) } }
        return data
    }
}
