import Foundation

/// Makes a Unix socket path ready to bind: removes a stale socket file left by a
/// process that died, but never a live server's socket nor a file that is not a socket.
enum UnixSocketPath {
    static func prepare(_ path: String) throws(RPCError) {
        guard path.utf8.count < 108 else {
            throw RPCError(code: .invalidArgument, message: "socket path longer than 107 bytes: \(path)")
        }
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw RPCError(code: .failedPrecondition, message: "\(path) exists and is not a socket; refusing to replace it")
        }
        if isLive(path) {
            throw RPCError(code: .failedPrecondition, message: "another server is listening on \(path)")
        }
        guard unlink(path) == 0 || errno == ENOENT else {
            throw RPCError(code: .failedPrecondition, message: "cannot remove stale socket \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Whether a server accepts connections on `path`.
    static func isLive(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path.utf8.prefix(raw.count - 1))
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return result == 0
    }
}
