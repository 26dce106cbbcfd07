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
    @Flag(help: "Decode the pixel data and print its geometry and each frame's minimum, maximum and mean.") var pixels = false
    @Option(help: "With --pixels: write the decoded frames, native little endian and interleaved, to this file.")
    var raw: String?

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
            if pixels { try printPixels(file) }
            for warning in file.warnings {
                FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
            }
        } catch {
            FileHandle.standardError.write(Data("\(self.file): \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    private func printPixels(_ file: DICOMFile) throws {
        let pixels = try PixelData(file.dataset, transferSyntax: file.transferSyntax)
        var text = "pixels: \(file.transferSyntax), \(pixels.numberOfFrames) frame(s) of \(pixels.columns)×\(pixels.rows), "
        text += "\(pixels.samplesPerPixel) sample(s) of \(pixels.bitsStored)/\(pixels.bitsAllocated) bits, "
        text += "\(pixels.isSigned ? "signed" : "unsigned"), \(pixels.photometricInterpretation)"
        text += " decoded as \(pixels.decodedPhotometricInterpretation)\(pixels.isLossy ? ", lossy" : "")\n"
        var output = Data()
        for frame in 0..<pixels.numberOfFrames {
            let values = try pixels.frameValues(frame)
            var low = Double.infinity, high = -Double.infinity, sum = 0.0
            for value in values {
                low = min(low, value)
                high = max(high, value)
                sum += value
            }
            let mean = sum / Double(max(values.count, 1))
            text += "frame \(frame + 1): min \(low) max \(high) mean \(String(format: "%.4f", mean))\n"
            if raw != nil { output.append(try pixels.frameBytes(frame)) }
        }
        FileHandle.standardOutput.write(Data(text.utf8))
        if let raw { try output.write(to: URL(fileURLWithPath: raw)) }
    }
}
