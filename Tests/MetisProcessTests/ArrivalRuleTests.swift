import Testing

@testable import MetisProcess

@Suite("arrival_rules")
struct ArrivalRuleTests {
    static let mr = ArrivalRule.Arrival(modality: "MR", seriesDescription: "T1 MPRAGE Gado", callingAETitle: "MRI1", origin: "dimse")

    @Test("rules parse, match with DICOM wildcards case-insensitively, and round-trip through their text")
    func parsing() throws {
        let rules = try ArrivalRule.parseList(
            "modality=MR calling_ae=MRI1 description=\"t1 * gado\" -> segment send=PLAN; origin=stow -> segment=classical; any -> forward=ARCHIVE"
        )
        #expect(rules.count == 3)
        #expect(rules[0].actions == [.segment(engine: ""), .send(aeTitle: "PLAN")])
        #expect(rules[1].actions == [.segment(engine: "classical")])
        #expect(rules[2].conditions.isEmpty && rules[2].actions == [.forward(aeTitle: "ARCHIVE")])
        #expect(rules[0].matches(Self.mr))
        #expect(!rules[1].matches(Self.mr))
        #expect(rules[2].matches(Self.mr))
        var other = Self.mr
        other.callingAETitle = "MRI2"
        #expect(!rules[0].matches(other))
        other = Self.mr
        other.seriesDescription = "FLAIR"
        #expect(!rules[0].matches(other))
        #expect(try ArrivalRule.parseList(rules.map(\.description).joined(separator: "; ")) == rules)
        #expect(try ArrivalRule.parseList("") == [])
    }

    @Test("wildcards: * any run, ? one character, the whole value")
    func wildcards() {
        #expect(ArrivalRule.wildcard("*", matches: ""))
        #expect(ArrivalRule.wildcard("t1*", matches: "T1 post"))
        #expect(ArrivalRule.wildcard("*post*", matches: "T1 post contrast"))
        #expect(ArrivalRule.wildcard("M?", matches: "MR"))
        #expect(!ArrivalRule.wildcard("M?", matches: "MRI"))
        #expect(!ArrivalRule.wildcard("t1", matches: "T1 post"))
        #expect(ArrivalRule.wildcard("a*b*c", matches: "aXbYbZc"))
        #expect(!ArrivalRule.wildcard("a*b*c", matches: "aXbYbZ"))
    }

    @Test(
        "bad rules are refused with what is wrong",
        arguments: [
            ("modality=MR segment", "no '->'"), ("colour=red -> segment", "unknown condition 'colour'"),
            ("origin=fax -> segment", "origin is one of"), ("any -> paint", "unknown action 'paint'"),
            ("any -> send=PLAN", "put segment before it"), ("any -> segment=magic", "one of classical, unetr, segresnet, swinunetr"),
            ("modality= -> segment", "needs a pattern"), ("any -> forward=", "needs an AE title"), ("any ->", "has no action"),
            ("description=\"T1 -> segment", "unclosed quote"),
        ])
    func refusals(rule: String, message: String) {
        #expect {
            _ = try ArrivalRule.parseList(rule)
        } throws: { error in
            (error as? ConfigurationError)?.description.contains(message) == true
        }
    }

    @Test("send and forward name peers that receive instances; the stable time and retry wait have bounds")
    func validation() throws {
        var configuration = MetisConfiguration()
        try configuration.set("dicom_peers", to: "PLAN@127.0.0.1:104/store, PACS@127.0.0.1:105/query", source: "test")
        try configuration.set("arrival_rules", to: "modality=MR -> segment send=PLAN", source: "test")
        try configuration.validate()
        try configuration.set("arrival_rules", to: "modality=MR -> forward=PACS", source: "test")
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
        try configuration.set("arrival_rules", to: "modality=MR -> forward=NOBODY", source: "test")
        #expect {
            try configuration.validate()
        } throws: { error in
            (error as? ConfigurationError)?.description.contains("NOBODY is not a peer that receives instances") == true
        }
        configuration.arrivalRules = []
        configuration.seriesStableSeconds = 0
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
        configuration.seriesStableSeconds = 60
        configuration.arrivalRetrySeconds = 0
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
    }
}
