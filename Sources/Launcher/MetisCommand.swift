public import ArgumentParser
import Gateway
import InferenceService
import MetisProcess
import StorageService
import TrackingService

/// `metis`: the command-line entry point.
public struct MetisCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "metis",
        abstract: "Brain-metastasis MRI: DICOM storage, lesion segmentation and follow-up.",
        version: MetisVersion.current,
        subcommands: [
            UpCommand.self, StorageCommand.self, TrackingCommand.self, InferenceCommand.self, GatewayCommand.self, PingCommand.self,
            DumpCommand.self, ImportCommand.self, SegmentCommand.self, EvaluateCommand.self, ModelCommand.self, TokenCommand.self,
            BackupCommand.self, RestoreCommand.self, CertCommand.self, DICOMCommand.self,
        ]
    )

    public init() {}
}
