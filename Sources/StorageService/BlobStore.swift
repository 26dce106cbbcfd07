import Foundation

/// The content-addressed directory of DICOM files: `blobs/ab/cd/<sha256>`.
/// A blob is durable before `write` returns: written to a temporary file,
/// fsynced, renamed into place, and its directory fsynced.
struct BlobStore: Sendable {
    let directory: URL
    let temporaryDirectory: URL

    init(directory: URL) throws {
        self.directory = directory
        self.temporaryDirectory = directory.deletingLastPathComponent().appendingPathComponent("tmp", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: temporaryDirectory, withIntermediateDirectories: true)
    }

    func url(for sha256: String) -> URL {
        let characters = Array(sha256)
        return directory
            .appendingPathComponent(String(characters[0..<2]), isDirectory: true)
            .appendingPathComponent(String(characters[2..<4]), isDirectory: true)
            .appendingPathComponent(sha256)
    }

    func exists(_ sha256: String) -> Bool {
        FileManager.default.fileExists(atPath: url(for: sha256).path)
    }

    /// Makes `data` durable under its hash; a blob already there is kept (same hash, same bytes).
    func write(_ data: Data, sha256: String) throws(StorageError) {
        let final = url(for: sha256)
        if FileManager.default.fileExists(atPath: final.path) { return }
        let temporary = temporaryDirectory.appendingPathComponent("\(sha256).\(UUID().uuidString).part")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw .io("cannot create \(temporary.path): \(String(cString: strerror(errno)))") }
        var written = 0
        let ok = data.withUnsafeBytes { bytes -> Bool in
            while written < bytes.count {
                let n = Foundation.write(fd, bytes.baseAddress! + written, bytes.count - written)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                written += n
            }
            return fsync(fd) == 0
        }
        let error = errno
        close(fd)
        guard ok else {
            unlink(temporary.path)
            throw .io("cannot write blob \(sha256): \(String(cString: strerror(error)))")
        }
        let parent = final.deletingLastPathComponent()
        do {
            if !FileManager.default.fileExists(atPath: parent.path) {
                try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
                Self.syncDirectory(parent.deletingLastPathComponent())
                Self.syncDirectory(parent.deletingLastPathComponent().deletingLastPathComponent())
            }
        } catch {
            unlink(temporary.path)
            throw .io("cannot create \(parent.path): \(error)")
        }
        guard rename(temporary.path, final.path) == 0 else {
            let error = errno
            unlink(temporary.path)
            throw .io("cannot move blob \(sha256) into place: \(String(cString: strerror(error)))")
        }
        Self.syncDirectory(parent)
    }

    /// The blob's bytes, read with `read(2)`: cheaper than a mapping for
    /// files of this size, whose unmapping costs every core a TLB flush.
    func read(_ sha256: String) throws(StorageError) -> Data {
        let path = url(for: sha256).path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io("cannot open blob \(sha256): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw .io("cannot stat blob \(sha256): \(String(cString: strerror(errno)))") }
        let size = Int(status.st_size)
        var data = Data(count: size)
        let complete = data.withUnsafeMutableBytes { buffer -> Bool in
            var offset = 0
            while offset < size {
                let n = Foundation.read(fd, buffer.baseAddress! + offset, size - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
        guard complete else { throw .io("cannot read blob \(sha256): \(String(cString: strerror(errno)))") }
        return data
    }

    /// Removes a blob no row references any more. Not synced: should a crash
    /// undo the unlink, the start-up check removes the orphan again.
    func remove(_ sha256: String) {
        unlink(url(for: sha256).path)
    }

    /// Hashes of every blob on disk.
    func allHashes() -> Set<String> {
        guard let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
        var hashes = Set<String>()
        for case let url as URL in walker where url.lastPathComponent.count == 64 {
            hashes.insert(url.lastPathComponent)
        }
        return hashes
    }

    /// Removes what an interrupted write left in `tmp/`; returns how many.
    func removeTemporaries() -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: temporaryDirectory.path)) ?? []
        for name in names { unlink(temporaryDirectory.appendingPathComponent(name).path) }
        return names.count
    }

    /// Bytes the blob files take, measured by walking the directory.
    func diskBytes() -> Int {
        let keys: Set<URLResourceKey> = [.fileAllocatedSizeKey, .isRegularFileKey]
        guard let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: Array(keys)) else {
            return 0
        }
        var total = 0
        for case let url as URL in walker {
            guard let values = try? url.resourceValues(forKeys: keys), values.isRegularFile == true else { continue }
            total += values.fileAllocatedSize ?? 0
        }
        return total
    }

    private static func syncDirectory(_ url: URL) {
        let fd = open(url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
