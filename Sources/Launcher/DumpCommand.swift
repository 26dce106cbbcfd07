public import ArgumentParser
import DICOM
import Foundation

/// `metis dump FILE`: prints a DICOM file like dcmdump, or its DICOM JSON.
public struct DumpCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "dump", abstract: "Print a DICOM file's elements (like dcmdump) or its DICOM JSON; exit 1 if it cannot be read.")

    @Argument(help: "A DICOM file.") var file: String
    @Flag(help: "Print the DICOM JSON model (PS3.18 F.2) instead.") var json = false
    @Flag(help: "Stop before (7FE0,0010) Pixel Data.") var stopBeforePixels = false
    @Flag(help: "Refuse anything the standard forbids (validation mode raise).") var strict = false

    public init() {}

    public func run() throws {
        var options = DICOMReader.Options(stopBeforePixelData: stopBeforePixels, validation: strict ? .raise : .warn)
        options.maximumDepth = 32
        do {
            let file = try DICOMReader.read(contentsOf: URL(fileURLWithPath: self.file), options: options)
            if json {
                FileHandle.standardOutput.write(DICOMJSON.data(file.dataset))
                FileHandle.standardOutput.write(Data("\n".utf8))
            } else {
                FileHandle.standardOutput.write(Data(DatasetDumper.dump(file).utf8))
            }
            for warning in file.warnings {
                FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
            }
        } catch {
            FileHandle.standardError.write(Data("\(self.file): \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
