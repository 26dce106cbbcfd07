public import Foundation
import Logging

extension MetisConfiguration {
    /// The keys a configuration file and `METIS_*` variables may set.
    static let keys = [
        "data", "sockets", "host", "port", "inference_workers", "max_frame_bytes", "max_upload_bytes", "max_series_bytes", "log_level",
        "model", "default_engine", "sequence_names", "inference_threads", "auth", "peer_uids", "tls_certificate", "tls_key",
        "rpc_tls_certificate", "rpc_tls_key", "rpc_tls_trust", "dicom_validation", "instance_conflicts", "dicom_ae_title", "dicom_port",
        "dicom_host",
        "dicom_peers", "dicom_accept_unknown", "arrival_rules", "series_stable_seconds", "arrival_retry_seconds",
        "dicom_tls_port", "dicom_tls_trust",
    ]

    /// Defaults, then `file`, then the environment. Flags are applied by the caller.
    public static func load(file: String?, environment: [String: String]) throws(ConfigurationError) -> MetisConfiguration {
        var configuration = MetisConfiguration()
        if let file {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw ConfigurationError("cannot read configuration file \(file): \(error.localizedDescription)")
            }
            for entry in try ConfigurationFile.parse(text, name: file) {
                try configuration.set(entry.key, to: entry.value, source: "\(file):\(entry.line)")
            }
        }
        for key in keys {
            if let value = environment["METIS_" + key.uppercased()] {
                try configuration.set(key, to: value, source: "METIS_\(key.uppercased())")
            }
        }
        return configuration
    }

    /// Sets one key (its file and environment name) from its text form; `source` names where it came from in errors.
    public mutating func set(_ key: String, to value: String, source: String) throws(ConfigurationError) {
        func integer() throws(ConfigurationError) -> Int {
            guard let number = Int(value) else { throw ConfigurationError("\(source): \(key) must be an integer, got '\(value)'") }
            return number
        }
        switch key {
        case "data": dataDirectory = URL(fileURLWithPath: value, isDirectory: true)
        case "sockets": socketDirectory = URL(fileURLWithPath: value, isDirectory: true)
        case "host": host = value
        case "port": port = try integer()
        case "inference_workers": inferenceWorkers = try integer()
        case "max_frame_bytes": maximumFrameSize = try integer()
        case "max_upload_bytes": maximumUploadSize = try integer()
        case "max_series_bytes": maximumSeriesSize = try integer()
        case "model": modelCard = value
        case "sequence_names":
            var names = [String: String]()
            for entry in value.split(separator: ";") where !entry.trimmingCharacters(in: .whitespaces).isEmpty {
                let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                let known = ["t1c", "flair", "t2", "t1", "dwi"]
                guard parts.count == 2, !parts[0].isEmpty, known.contains(parts[1].lowercased()) else {
                    throw ConfigurationError(
                        "\(source): sequence_names must be NAME=SEQUENCE pairs separated by ';' (SEQUENCE one of \(known.joined(separator: ", "))), got '\(entry)'"
                    )
                }
                names[parts[0]] = parts[1].lowercased()
            }
            sequenceNames = names
        case "default_engine":
            guard Self.engineNames.contains(value.lowercased()) else {
                throw ConfigurationError(
                    "\(source): default_engine must be one of \(Self.engineNames.joined(separator: ", ")), got '\(value)'")
            }
            defaultEngine = value.lowercased()
        case "dicom_validation":
            guard ["lenient", "strict"].contains(value.lowercased()) else {
                throw ConfigurationError("\(source): dicom_validation must be lenient or strict, got '\(value)'")
            }
            strictDICOMValidation = value.lowercased() == "strict"
        case "instance_conflicts":
            guard ["refuse", "overwrite"].contains(value.lowercased()) else {
                throw ConfigurationError("\(source): instance_conflicts must be refuse or overwrite, got '\(value)'")
            }
            overwritesInstances = value.lowercased() == "overwrite"
        case "dicom_ae_title":
            try DICOMPeer.validateAETitle(value, in: source)
            dicomAETitle = value
        case "dicom_port": dicomPort = try integer()
        case "dicom_host": dicomHost = value
        case "dicom_peers": dicomPeers = try DICOMPeer.parseList(value)
        case "dicom_accept_unknown":
            guard let flag = ["true": true, "yes": true, "1": true, "false": false, "no": false, "0": false][value.lowercased()] else {
                throw ConfigurationError("\(source): dicom_accept_unknown must be true or false, got '\(value)'")
            }
            dicomAcceptUnknown = flag
        case "arrival_rules":
            do {
                arrivalRules = try ArrivalRule.parseList(value)
            } catch {
                throw ConfigurationError("\(source): \(error.description)")
            }
        case "dicom_tls_port": dicomTLSPort = try integer()
        case "dicom_tls_trust": dicomTLSTrust = value
        case "series_stable_seconds": seriesStableSeconds = try integer()
        case "arrival_retry_seconds": arrivalRetrySeconds = try integer()
        case "inference_threads": inferenceThreads = try integer()
        case "tls_certificate": tlsCertificate = value
        case "tls_key": tlsKey = value
        case "rpc_tls_certificate": rpcTLSCertificate = value
        case "rpc_tls_key": rpcTLSKey = value
        case "rpc_tls_trust": rpcTLSTrust = value
        case "peer_uids":
            var uids = Set<UInt32>()
            for part in value.split(separator: ",") {
                guard let uid = UInt32(part.trimmingCharacters(in: .whitespaces)) else {
                    throw ConfigurationError("\(source): peer_uids must be user ids separated by commas, got '\(value)'")
                }
                uids.insert(uid)
            }
            peerUserIDs = uids
        case "auth":
            guard let mode = AuthenticationMode(rawValue: value.lowercased()) else {
                throw ConfigurationError("\(source): auth must be tokens or none, got '\(value)'")
            }
            authentication = mode
        case "log_level":
            guard let level = Logger.Level(rawValue: value.lowercased()) else {
                throw ConfigurationError(
                    "\(source): log_level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            logLevel = level
        default:
            throw ConfigurationError("\(source): unknown key '\(key)'; known keys: \(Self.keys.joined(separator: ", "))")
        }
    }
}
