import Foundation
import MetisProcess

/// What the arrival rules must not forget across a restart: the series not
/// yet complete, the jobs, and how each recent study arrived. Kept as one
/// JSON file, replaced durably on each change (a change happens once per new
/// series and per job step, never per instance).
struct ArrivalState: Codable, Sendable {
    /// A series instances are still arriving for.
    struct Watched: Codable, Sendable {
        var study: String
        var series: String
        var origin: IngestPipeline.Origin
        var firstArrival: Date
    }

    /// The actions of the rule a completed series matched, and how far they got.
    struct Job: Codable, Sendable {
        enum State: String, Codable, Sendable {
            case queued, running, retrying, succeeded, failed
        }
        var id: String
        var study: String
        var series: String
        var origin: IngestPipeline.Origin
        /// 1-based, in `arrival_rules` order, and the rule as written.
        var ruleNumber: Int
        var rule: String
        var actions: [ArrivalRule.Action]
        /// Actions done so far, in order.
        var done: Int = 0
        var state: State = .queued
        var attempts: Int = 0
        var nextAttempt: Date?
        var lastError: String?
        /// Notes of finished steps ("no lesion found: nothing to send").
        var notes: [String] = []
        /// The segmentation job of the last `segment` attempt (GET /api/v1/segmentations/{id}).
        var segmentationJobID: String?
        /// The stored result series (RTSTRUCT or SEG), once segmented.
        var resultSeries: String?
        var created: Date
        var updated: Date

        /// How `/api/v1/segmentations` names who started its segmentation.
        var originText: String {
            var text = "arrival rule \(ruleNumber) (\(origin.channel.rawValue)"
            if !origin.source.isEmpty { text += " from \(origin.source)" }
            return text + ")"
        }
    }

    /// How a study last arrived, for the study list.
    struct StudyArrival: Codable, Sendable {
        var study: String
        var origin: IngestPipeline.Origin
        var time: Date
    }

    var watched: [Watched] = []
    var jobs: [Job] = []
    var studies: [StudyArrival] = []

    /// Finished jobs and studies kept, the oldest dropped first.
    static let retainedJobs = 500
    static let retainedStudies = 2000

    mutating func trim() {
        while jobs.count > Self.retainedJobs,
            let index = jobs.firstIndex(where: { $0.state == .succeeded || $0.state == .failed })
        {
            jobs.remove(at: index)
        }
        if studies.count > Self.retainedStudies { studies.removeFirst(studies.count - Self.retainedStudies) }
    }

    static func load(_ file: URL) throws -> ArrivalState {
        guard let data = FileManager.default.contents(atPath: file.path), !data.isEmpty else { return ArrivalState() }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(ArrivalState.self, from: data)
    }

    func save(_ file: URL) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        try DurableFile.replace(file, with: try encoder.encode(self))
    }
}

extension IngestPipeline.Origin {
    /// The name `origin=` conditions use.
    var ruleName: String {
        switch channel {
        case .dicomweb: "stow"
        case .upload: "upload"
        case .dimse: "dimse"
        case .importTool: "import"
        }
    }
}
