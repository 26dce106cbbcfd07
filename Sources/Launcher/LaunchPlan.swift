import Foundation
import MetisProcess
import InferenceService
import Logging

/// The processes `metis up` runs for a configuration, each as a subcommand of
/// this same executable with explicit flags.
struct LaunchPlan {
    let services: [Supervisor.ChildSpec]
    let gateway: Supervisor.ChildSpec

    init(configuration: MetisConfiguration) {
        let common = [
            "--data", configuration.dataDirectory.path,
            "--log-level", configuration.logLevel.rawValue,
            "--max-frame-bytes", String(configuration.maximumFrameSize),
            "--max-series-bytes", String(configuration.maximumSeriesSize),
            "--dicom-validation", configuration.strictDICOMValidation ? "strict" : "lenient",
            "--instance-conflicts", configuration.overwritesInstances ? "overwrite" : "refuse",
        ]
        var services = [
            Supervisor.ChildSpec(
                name: "storage",
                arguments: ["storage"] + common + ["--listen", "\(configuration.storageAddress)"],
                readiness: .rpc(configuration.storageAddress)),
            Supervisor.ChildSpec(
                name: "tracking",
                arguments: ["tracking"] + common + ["--listen", "\(configuration.trackingAddress)"],
                readiness: .rpc(configuration.trackingAddress)),
        ]
        // OpenBLAS picks its kernels when it loads: the right ones for this CPU are chosen here, once for all workers.
        let blasEnvironment = BLASCoreSelection.workerEnvironment(ProcessInfo.processInfo.environment)
            .filter { $0.key == BLASCoreSelection.environmentKey }
        var inferenceArguments = [String]()
        if let model = configuration.modelCard {
            // Absolute, so that a worker started elsewhere finds the same file.
            inferenceArguments += ["--model", model == "none" ? model : URL(fileURLWithPath: model).path]
        }
        if let engine = configuration.defaultEngine { inferenceArguments += ["--default-engine", engine] }
        // Workers share the cores: unless told otherwise, each gets its part rather than all of them.
        let threads =
            configuration.inferenceThreads
            ?? (configuration.inferenceWorkers > 1
                ? max(1, ProcessInfo.processInfo.activeProcessorCount / configuration.inferenceWorkers) : nil)
        if let threads { inferenceArguments += ["--threads", String(threads)] }
        for worker in 0..<configuration.inferenceWorkers {
            let address = configuration.inferenceAddress(worker: worker)
            services.append(
                Supervisor.ChildSpec(
                    name: "inference-\(worker)",
                    arguments: ["inference"] + common + ["--worker", String(worker), "--listen", "\(address)"] + inferenceArguments,
                    readiness: .rpc(address), environment: blasEnvironment))
        }
        var gatewayArguments =
            ["gateway"] + common + [
                "--host", configuration.host, "--port", String(configuration.port), "--max-upload-bytes",
                String(configuration.maximumUploadSize),
                "--storage", "\(configuration.storageAddress)", "--tracking", "\(configuration.trackingAddress)",
                "--auth", configuration.authentication.rawValue,
                "--dicom-ae-title", configuration.dicomAETitle, "--dicom-port", String(configuration.dicomPort),
                "--dicom-peers", configuration.dicomPeers.map(\.description).joined(separator: ", "),
                "--dicom-accept-unknown", String(configuration.dicomAcceptUnknown),
                "--dicom-tls-port", String(configuration.dicomTLSPort),
                "--arrival-rules", configuration.arrivalRules.map(\.description).joined(separator: "; "),
                "--series-stable-seconds", String(configuration.seriesStableSeconds),
                "--arrival-retry-seconds", String(configuration.arrivalRetrySeconds),
            ]
        if let dicomHost = configuration.dicomHost { gatewayArguments += ["--dicom-host", dicomHost] }
        if let trust = configuration.dicomTLSTrust { gatewayArguments += ["--dicom-tls-trust", trust] }
        if let tls = configuration.tls { gatewayArguments += ["--tls-certificate", tls.certificate, "--tls-key", tls.privateKey] }
        if !configuration.sequenceNames.isEmpty {
            gatewayArguments += [
                "--sequence-names",
                configuration.sequenceNames.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; "),
            ]
        }
        for address in configuration.inferenceAddresses { gatewayArguments += ["--inference", "\(address)"] }
        self.services = services
        self.gateway = Supervisor.ChildSpec(
            name: "gateway", arguments: gatewayArguments, readiness: .http(url: configuration.gatewayURL + "healthz"))
    }

    /// This process's executable, which runs every service as a subcommand.
    static func currentExecutable() throws -> URL {
        let path = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        return URL(fileURLWithPath: path)
    }
}
