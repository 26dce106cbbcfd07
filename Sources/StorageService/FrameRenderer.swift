import DICOM
import Foundation

/// Renders one frame of a grayscale image for display: modality rescale, a
/// linear VOI window (the requested one, the stored one, or the frame's
/// min/max), MONOCHROME1 inverted, scaled down by area averaging to fit.
struct FrameRenderer {
    var windowCenter: Double?
    var windowWidth: Double?
    var maxSize: Int?

    struct Image {
        var pixels: [UInt8]
        var width: Int
        var height: Int
    }

    func render(_ dataset: Dataset, transferSyntax: TransferSyntax, frame: Int) throws(StorageError) -> Image {
        let pixelData: PixelData
        do {
            pixelData = try PixelData(dataset, transferSyntax: transferSyntax)
        } catch {
            throw .invalid("cannot render: \(error)")
        }
        guard pixelData.samplesPerPixel == 1 else {
            throw .invalid("rendering needs a grayscale image, this one has \(pixelData.samplesPerPixel) samples per pixel")
        }
        let values: [Double]
        do {
            values = try pixelData.frameValues(frame, rescaled: true)
        } catch {
            throw .invalid("cannot render frame \(frame + 1): \(error)")
        }
        var center = windowCenter, width = windowWidth
        if width == nil || width! <= 0 {
            center = dataset.double(.windowCenter)
            width = dataset.double(.windowWidth)
        }
        if width == nil || width! <= 0 {
            let low = values.min() ?? 0, high = values.max() ?? 1
            center = (low + high) / 2
            width = max(high - low, 1)
        }
        let lower = center! - width! / 2, scale = 255 / width!
        let invert = pixelData.photometricInterpretation == "MONOCHROME1"
        var pixels = values.map { value -> UInt8 in
            let level = UInt8(clamping: Int(((value - lower) * scale).rounded()))
            return invert ? 255 - level : level
        }
        var imageWidth = pixelData.columns, imageHeight = pixelData.rows
        if let maxSize, maxSize > 0, max(imageWidth, imageHeight) > maxSize {
            let factor = Double(max(imageWidth, imageHeight)) / Double(maxSize)
            let newWidth = max(1, Int((Double(imageWidth) / factor).rounded()))
            let newHeight = max(1, Int((Double(imageHeight) / factor).rounded()))
            pixels = Self.areaAverage(pixels, width: imageWidth, height: imageHeight, to: newWidth, newHeight)
            imageWidth = newWidth
            imageHeight = newHeight
        }
        return Image(pixels: pixels, width: imageWidth, height: imageHeight)
    }

    private static func areaAverage(_ pixels: [UInt8], width: Int, height: Int, to newWidth: Int, _ newHeight: Int) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: newWidth * newHeight)
        for y in 0..<newHeight {
            let y0 = y * height / newHeight, y1 = max(y0 + 1, (y + 1) * height / newHeight)
            for x in 0..<newWidth {
                let x0 = x * width / newWidth, x1 = max(x0 + 1, (x + 1) * width / newWidth)
                var sum = 0
                for sy in y0..<y1 { for sx in x0..<x1 { sum += Int(pixels[sy * width + sx]) } }
                output[y * newWidth + x] = UInt8(sum / ((y1 - y0) * (x1 - x0)))
            }
        }
        return output
    }
}
