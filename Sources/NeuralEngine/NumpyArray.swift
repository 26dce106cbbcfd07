public import Foundation

/// Reads and writes `.npy` files (NumPy format 1.0/2.0) of little-endian
/// float32 (read also uint8), C order: the format of `metis model run`, of the
/// parity fixtures and of `metis evaluate`'s truth labels.
public enum NumpyArray {
    public static func read(_ data: Data) throws(NeuralEngineError) -> Tensor {
        let bytes = [UInt8](data)
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else {
            throw NeuralEngineError("not a .npy file")
        }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        } else {
            guard bytes.count >= 12 else { throw NeuralEngineError("truncated .npy header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        }
        guard headerStart + headerLength <= bytes.count else { throw NeuralEngineError("truncated .npy header") }
        let header = String(decoding: bytes[headerStart..<headerStart + headerLength], as: UTF8.self)
        let bytesPerValue: Int
        if header.contains("'descr': '<f4'") {
            bytesPerValue = 4
        } else if header.contains("'descr': '|u1'") {
            bytesPerValue = 1
        } else {
            throw NeuralEngineError(".npy data must be little-endian float32 ('<f4') or uint8 ('|u1'): \(header)")
        }
        guard header.contains("'fortran_order': False") else { throw NeuralEngineError(".npy data must be in C order") }
        guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
            throw NeuralEngineError(".npy header has no shape: \(header)")
        }
        let shape = header[open.upperBound..<close].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let count = shape.reduce(1, *)
        let start = headerStart + headerLength
        guard bytes.count - start >= count * bytesPerValue else {
            throw NeuralEngineError(".npy data holds fewer than the \(count) values its shape needs")
        }
        var values = [Float](repeating: 0, count: count)
        if bytesPerValue == 1 {
            for index in 0..<count { values[index] = Float(bytes[start + index]) }
        } else {
            values.withUnsafeMutableBytes { buffer in
                data.copyBytes(to: buffer.bindMemory(to: UInt8.self), from: data.startIndex + start..<data.startIndex + start + count * 4)
            }
        }
        return Tensor(shape: shape, values: values)
    }

    public static func write(_ tensor: Tensor) -> Data {
        var data = Data(header(shape: tensor.shape))
        // Little-endian float32, as on every machine Metis runs on.
        tensor.values.withUnsafeBytes { data.append(contentsOf: $0) }
        return data
    }

    /// The bytes before a float32 C-order array of `shape` in a `.npy` file:
    /// magic, version, header length, header padded to a multiple of 64.
    public static func header(shape: [Int]) -> [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        // Magic (6) + version (2) + length (2) + header + newline: a multiple of 64.
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)] + Array(header.utf8)
    }
}
