import CZlib

/// zlib-wrapped inflate for checking PNG output.
enum ZlibInflate {
    struct Failure: Error {}

    static func inflate(_ input: [UInt8], expected: Int) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: expected)
        var length = uLongf(expected)
        guard uncompress(&output, &length, input, uLong(input.count)) == Z_OK, Int(length) == expected else { throw Failure() }
        return output
    }
}
