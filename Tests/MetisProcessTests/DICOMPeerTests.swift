import Testing

@testable import MetisProcess

@Suite("dicom_peers and the other dicom_* keys")
struct DICOMPeerTests {
    @Test("entries with IPv4, IPv6 and host names, with and without services, round-trip through their text")
    func parsing() throws {
        let peers = try DICOMPeer.parseList("PACS@10.1.2.3:104/query+retrieve, MRI1@[fd00::5]:11112/store,WS@ws.example.org:4242")
        #expect(peers.map(\.aeTitle) == ["PACS", "MRI1", "WS"])
        #expect(peers[0].host == "10.1.2.3" && peers[0].port == 104 && peers[0].services == [.query, .retrieve])
        #expect(peers[1].host == "fd00::5" && peers[1].services == [.store])
        #expect(peers[2].services == Set(DICOMPeer.Service.allCases))
        #expect(try DICOMPeer.parseList(peers.map(\.description).joined(separator: ", ")) == peers)
        let secure = try DICOMPeer.parseList("PLAN@10.0.0.9:2762/store+tls, PACS@10.0.0.8:2762/tls")
        #expect(secure[0].tls && secure[0].services == [.store] && secure[0].description == "PLAN@10.0.0.9:2762/store+tls")
        #expect(secure[1].tls && secure[1].services == Set(DICOMPeer.Service.allCases) && secure[1].description == "PACS@10.0.0.8:2762/tls")
        #expect(peers.allSatisfy { !$0.tls })
    }

    @Test(
        "bad entries are refused with what is wrong",
        arguments: [
            ("PACS10.1.2.3:104", "no '@'"), ("PACS@10.1.2.3", "host:port"), ("PACS@10.1.2.3:0", "port must be"),
            ("PACS@[fd00::5:104", "IPv6"), ("PACS@h:104/print", "unknown service 'print'"),
            ("THIS_TITLE_IS_TOO_LONG@h:104", "not an AE title"), ("A@h:1, A@g:2", "listed twice"),
        ])
    func refusals(entry: String, message: String) {
        #expect {
            _ = try DICOMPeer.parseList(entry)
        } throws: { error in
            (error as? ConfigurationError)?.description.contains(message) == true
        }
    }

    @Test("dicom_* keys from the file scheme, validated")
    func keys() throws {
        var configuration = MetisConfiguration()
        try configuration.set("dicom_port", to: "0", source: "test")
        try configuration.set("dicom_accept_unknown", to: "yes", source: "test")
        try configuration.set("dicom_ae_title", to: "METIS_2", source: "test")
        #expect(configuration.dicomPort == 0 && configuration.dicomAcceptUnknown && configuration.dicomAETitle == "METIS_2")
        #expect(throws: ConfigurationError.self) { try configuration.set("dicom_ae_title", to: "BACK\\SLASH", source: "test") }
        try configuration.set("instance_conflicts", to: "overwrite", source: "test")
        #expect(configuration.overwritesInstances)
        #expect(throws: ConfigurationError.self) { try configuration.set("instance_conflicts", to: "ignore", source: "test") }
        configuration.dicomPort = configuration.port
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
    }
}
