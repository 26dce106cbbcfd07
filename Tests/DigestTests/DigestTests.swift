import Digest
import Foundation
import Testing

@Suite("Digests")
struct DigestTests {
    @Test("FIPS 180-2 test vectors")
    func vectors() {
        #expect(Digest.sha256("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Digest.sha256(Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Digest.sha256(Data("abc".utf8)) == Digest.sha256("abc"))
        #expect(Digest.sha1("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d")
    }
}
