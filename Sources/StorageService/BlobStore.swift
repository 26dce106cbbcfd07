import Foundation

/// The content-addressed directory of DICOM files: `blobs/ab/<sha256>`, in
/// 256 shard directories made when the store is created (so that storing a
/// blob never creates a directory). A blob is durable before `write` returns:
/// written to a temporary file, fsynced, renamed into place, and its
/// directory fsynced.
struct BlobStore: Sendable {
    let directory: URL
    let temporaryDirectory: URL

    init(directory: URL) throws {
        self.directory = directory
        self.temporaryDirectory = directory.deletingLastPathComponent().appendingPathComponent("tmp", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: temporaryDirectory, withIntermediateDirectories: true)
        try makeShards()
    }

    func url(for sha256: String) -> URL {
        directory.appendingPathComponent(String(sha256.prefix(2)), isDirectory: true).appendingPathComponent(sha256)
    }

    /// Makes the missing shard directories, and moves the blobs of the earlier
    /// two-level layout (`ab/cd/<sha256>`) up into theirs. Each step is a
    /// rename, so an interrupted move goes on at the next start.
    private func makeShards() throws(StorageError) {
        var created = false
        for byte in 0...255 {
            let shard = directory.appendingPathComponent(String(format: "%02x", byte), isDirectory: true)
            if mkdir(shard.path, 0o750) == 0 {
                created = true
            } else if errno != EEXIST {
                throw .io("cannot create \(shard.path): \(String(cString: strerror(errno)))")
            }
            // A directory's link count is 2 plus its subdirectories where the file system keeps it
            // (ext4, XFS): then a shard without any is not listed, which would read every blob name.
            var status = stat()
            if stat(shard.path, &status) == 0, status.st_nlink == 2 { continue }
            let legacy = ((try? FileManager.default.contentsOfDirectory(atPath: shard.path)) ?? []).filter { $0.count == 2 }
            for name in legacy {
                let old = shard.appendingPathComponent(name, isDirectory: true)
                for blob in (try? FileManager.default.contentsOfDirectory(atPath: old.path)) ?? [] {
                    guard rename(old.appendingPathComponent(blob).path, shard.appendingPathComponent(blob).path) == 0 else {
                        throw .io("cannot move blob \(blob) out of \(old.path): \(String(cString: strerror(errno)))")
                    }
                }
                Self.syncDirectory(shard)
                rmdir(old.path)
            }
        }
        if created { Self.syncDirectory(directory) }
    }

    /// Makes `data` durable under its hash; a blob already there is kept (same
    /// hash, same bytes). Returns whether this call created the blob.
    @discardableResult
    func write(_ data: Data, sha256: String) throws(StorageError) -> Bool {
        let final = url(for: sha256)
        if FileManager.default.fileExists(atPath: final.path) { return false }
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
        guard rename(temporary.path, final.path) == 0 else {
            let error = errno
            unlink(temporary.path)
            throw .io("cannot move blob \(sha256) into place: \(String(cString: strerror(error)))")
        }
        Self.syncDirectory(parent)
        return true
    }

    /// The blob's bytes, read with `pread(2)`: cheaper than a mapping for
    /// files of this size, whose unmapping costs every core a TLB flush.
    func read(_ sha256: String) throws(StorageError) -> Data {
        try withOpenBlob(sha256) { fd throws(StorageError) in
            var status = stat()
            guard fstat(fd, &status) == 0 else { throw .io("cannot stat blob \(sha256): \(String(cString: strerror(errno)))") }
            return try Self.read(fd, offset: 0, count: Int(status.st_size), blob: sha256)
        }
    }

    /// `count` bytes of a blob from `offset`; fails if the blob is shorter.
    func read(_ sha256: String, offset: Int, count: Int) throws(StorageError) -> Data {
        try withOpenBlob(sha256) { fd throws(StorageError) in try Self.read(fd, offset: offset, count: count, blob: sha256) }
    }

    private func withOpenBlob(_ sha256: String, _ body: (Int32) throws(StorageError) -> Data) throws(StorageError) -> Data {
        let fd = open(url(for: sha256).path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io("cannot open blob \(sha256): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        return try body(fd)
    }

    private static func read(_ fd: Int32, offset: Int, count: Int, blob sha256: String) throws(StorageError) -> Data {
        var data = Data(count: count)
        // nil once every byte is read; 0 when the file ended first; otherwise the errno.
        let failure = data.withUnsafeMutableBytes { buffer -> Int32? in
            var done = 0
            while done < count {
                let n = pread(fd, buffer.baseAddress! + done, count - done, off_t(offset + done))
                if n < 0 && errno == EINTR { continue }
                if n < 0 { return errno }
                if n == 0 { return 0 }
                done += n
            }
            return nil
        }
        if let failure {
            throw .io(
                "cannot read blob \(sha256): \(failure == 0 ? "it ends before byte \(offset + count)" : String(cString: strerror(failure)))"
            )
        }
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
