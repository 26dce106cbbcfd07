public import Foundation

/// Reads `.safetensors` files (the format `Weights/convert_checkpoint.py`
/// writes from a MONAI checkpoint): an 8-byte little-endian header length, a
/// JSON header naming each tensor's dtype, shape and byte range, then the data.
/// Float32 tensors are read as they are; float16 and bfloat16 are widened.
public enum SafeTensors {
    public static func read(_ data: Data) throws(NeuralEngineError) -> (state: StateDict, metadata: [String: String]) {
        guard data.count >= 8 else { throw NeuralEngineError("not a safetensors file: shorter than its header length") }
        var headerLength: UInt64 = 0
        for index in 0..<8 { headerLength |= UInt64(data[data.startIndex + index]) << (8 * UInt64(index)) }
        guard headerLength <= UInt64(data.count - 8), headerLength < 100_000_000 else {
            throw NeuralEngineError("safetensors header length \(headerLength) runs past the file")
        }
        let headerData = data[data.startIndex + 8..<data.startIndex + 8 + Int(headerLength)]
        guard let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw NeuralEngineError("safetensors header is not a JSON object")
        }
        let base = data.startIndex + 8 + Int(headerLength)
        var tensors = [String: Tensor]()
        var metadata = [String: String]()
        for (name, value) in header {
            if name == "__metadata__" {
                metadata = (value as? [String: String]) ?? [:]
                continue
            }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                let shape = (entry["shape"] as? [NSNumber])?.map(\.intValue), let offsets = (entry["data_offsets"] as? [NSNumber])?.map(\.intValue),
                offsets.count == 2
            else { throw NeuralEngineError("safetensors entry \(name) is malformed") }
            let count = shape.reduce(1, *)
            let width = dtype == "F32" ? 4 : ["F16", "BF16"].contains(dtype) ? 2 : 0
            guard width > 0 else { throw NeuralEngineError("\(name) is \(dtype); only F32, F16 and BF16 tensors are read") }
            guard offsets[1] - offsets[0] == count * width, base + offsets[1] <= data.endIndex, offsets[0] >= 0 else {
                throw NeuralEngineError("\(name): byte range \(offsets) does not fit \(count) \(dtype) values in the file")
            }
            let bytes = [UInt8](data[base + offsets[0]..<base + offsets[1]])
            var values = [Float](repeating: 0, count: count)
            switch dtype {
            case "F32":
                values.withUnsafeMutableBytes { $0.copyBytes(from: bytes) }
            case "F16":
                for i in 0..<count { values[i] = Float(Float16(bitPattern: UInt16(bytes[2 * i]) | UInt16(bytes[2 * i + 1]) << 8)) }
            default:
                for i in 0..<count { values[i] = Float(bitPattern: (UInt32(bytes[2 * i]) | UInt32(bytes[2 * i + 1]) << 8) << 16) }
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
