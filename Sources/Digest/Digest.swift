import CLibCrypto
public import Foundation

/// Message digests through OpenSSL's libcrypto, as lowercase hex: content
/// hashes of stored instances, access-token hashes, Orthanc identifiers.
public enum Digest {
    public static func sha256(_ data: Data) -> String { hex(data, EVP_sha256(), length: 32) }

    public static func sha256(_ text: String) -> String { sha256(Data(text.utf8)) }

    /// SHA-1: only where a peer's format prescribes it (Orthanc's identifiers), never for integrity.
    public static func sha1(_ text: String) -> String { hex(Data(text.utf8), EVP_sha1(), length: 20) }

    private static func hex(_ data: Data, _ algorithm: OpaquePointer?, length: Int) -> String {
        var digest = [UInt8](repeating: 0, count: length)
        var written: UInt32 = 0
        data.withUnsafeBytes { bytes in
            _ = EVP_Digest(bytes.baseAddress, bytes.count, &digest, &written, algorithm, nil)
        }
        return digest.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
