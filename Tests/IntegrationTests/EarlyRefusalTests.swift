import Foundation
import TestSupport
import Testing

/// An upload refused before its body is read (no token: 401; a viewer's token: 403) is still answered
/// to a client that writes the whole body before reading, as Python's urllib does (RFC 9112 §9.6).
@Suite("Refusals before the body is read")
struct EarlyRefusalTests {
    static let client = """
        import sys, urllib.error, urllib.request
        url, token, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
        headers = {"Content-Type": "multipart/related; type=\\"application/dicom\\"; boundary=b"}
        if token:
            headers["Authorization"] = "Bearer " + token
        request = urllib.request.Request(url, data=b"x" * size, method="POST", headers=headers)
        try:
            urllib.request.urlopen(request, timeout=60)
            print(200)
        except urllib.error.HTTPError as error:
            print(error.code)
        """

    @Test("8 MB uploads without a token and with a viewer's token get 401 and 403, not a hang")
    func refusedUploads() async throws {
        let metis = try await DICOMwebTests.Installation(tokens: true)
        defer { metis.stop() }
        let viewer = try await metis.token(role: "viewer")
        for (token, expected) in [("", "401"), (viewer, "403")] {
            let result = try await ToolProcess.run(
                "python3", ["-c", Self.client, metis.web + "/studies", token, String(8 << 20)], standardError: .merged)
            #expect(result.text.trimmingCharacters(in: .whitespacesAndNewlines) == expected, "\(result.text)")
        }
    }
}
