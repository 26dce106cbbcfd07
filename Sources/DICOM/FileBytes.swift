import Foundation

/// Loads a file's bytes with as few system calls as possible: small files are
/// read, large ones memory-mapped (read-only, private), so that values sliced
/// from them are never copied and untouched pixel pages are never loaded.
enum FileBytes {
    static let mapThreshold = 1 << 16

    /// How much of a large file a metadata-only read tries first.
    static let headLength = 1 << 14

    /// The first `headLength` bytes of a file larger than the mapping
    /// threshold; nil for smaller files (read whole instead).
    static func loadHead(_ path: String) throws(DICOMError) -> Data? {
        let (fd, size) = try openRegularFile(path)
        defer { close(fd) }
        guard size >= mapThreshold else { return nil }
        var data = Data(count: headLength)
        let got = data.withUnsafeMutableBytes { pread(fd, $0.baseAddress, headLength, 0) }
        guard got == headLength else { return nil }
        return data
    }

    static func load(_ path: String) throws(DICOMError) -> Data {
        let (fd, size) = try openRegularFile(path)
        defer { close(fd) }
        if size == 0 { return Data() }
        if size >= mapThreshold {
            let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
            if let address, address != MAP_FAILED {
                return Data(bytesNoCopy: address, count: size, deallocator: .custom { pointer, count in munmap(pointer, count) })
            }
        }
        var data = Data(count: size)
        let got = data.withUnsafeMutableBytes { buffer -> Int in
            var total = 0
            while total < size {
                let n = read(fd, buffer.baseAddress! + total, size - total)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                total += n
            }
            return total
        }
        guard got == size else { throw DICOMError(.io, "short read of \(path): \(got) of \(size) bytes") }
        return data
    }

    /// Opens a regular file for reading; the caller closes the descriptor.
    private static func openRegularFile(_ path: String) throws(DICOMError) -> (fd: Int32, size: Int) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DICOMError(.io, "cannot open \(path): \(String(cString: strerror(errno)))") }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let error = errno
            close(fd)
            throw DICOMError(.io, "cannot stat \(path): \(String(cString: strerror(error)))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw DICOMError(.io, "\(path) is not a regular file")
        }
        return (fd, Int(info.st_size))
    }
}
