import DICOM
import Foundation

/// Renders one frame for display, from any syntax Metis decodes: greyscale
/// through modality rescale and a linear VOI window (the requested one, the
/// stored one, or the frame's min/max), MONOCHROME1 inverted; colour (RGB,
/// YBR, palette) as 8-bit RGB; scaled down by area averaging to fit.
struct FrameRenderer {
    var windowCenter: Double?
    var windowWidth: Double?
    var maxSize: Int?

    struct Image {
        /// Interleaved samples, `channels` per pixel (1 greyscale, 3 RGB).
        var pixels: [UInt8]
        var width: Int
        var height: Int
        var channels: Int
    }

    func render(_ dataset: Dataset, transferSyntax: TransferSyntax, frame: Int) throws(StorageError) -> Image {
        let pixelData: PixelData
        do {
            pixelData = try PixelData(dataset, transferSyntax: transferSyntax)
        } catch {
            throw .invalid("cannot render: \(error)")
        }
        do {
            if let rgb = try pixelData.displayRGB(frame) {
                return scaled(rgb, width: pixelData.columns, height: pixelData.rows, channels: 3)
            }
        } catch {
            throw .invalid("cannot render frame \(frame + 1): \(error)")
        }
        guard pixelData.samplesPerPixel == 1 else {
            throw .invalid(
                "cannot render \(pixelData.samplesPerPixel) samples per pixel in \(pixelData.decodedPhotometricInterpretation)")
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
        let pixels = values.map { value -> UInt8 in
            let level = UInt8(clamping: Int(((value - lower) * scale).rounded()))
            return invert ? 255 - level : level
        }
        return scaled(pixels, width: pixelData.columns, height: pixelData.rows, channels: 1)
    }

    private func scaled(_ pixels: [UInt8], width: Int, height: Int, channels: Int) -> Image {
        guard let maxSize, maxSize > 0, max(width, height) > maxSize else {
            return Image(pixels: pixels, width: width, height: height, channels: channels)
        }
        let factor = Double(max(width, height)) / Double(maxSize)
        let newWidth = max(1, Int((Double(width) / factor).rounded()))
        let newHeight = max(1, Int((Double(height) / factor).rounded()))
        return Image(
            pixels: Self.areaAverage(pixels, width: width, height: height, channels: channels, to: newWidth, newHeight), width: newWidth,
            height: newHeight, channels: channels)
    }

    private static func areaAverage(_ pixels: [UInt8], width: Int, height: Int, channels: Int, to newWidth: Int, _ newHeight: Int)
        -> [UInt8]
    {
        var output = [UInt8](repeating: 0, count: newWidth * newHeight * channels)
        for y in 0..<newHeight {
            let y0 = y * height / newHeight, y1 = max(y0 + 1, (y + 1) * height / newHeight)
            for x in 0..<newWidth {
                let x0 = x * width / newWidth, x1 = max(x0 + 1, (x + 1) * width / newWidth)
                for channel in 0..<channels {
                    var sum = 0
                    for sy in y0..<y1 { for sx in x0..<x1 { sum += Int(pixels[(sy * width + sx) * channels + channel]) } }
                    output[(y * newWidth + x) * channels + channel] = UInt8(sum / ((y1 - y0) * (x1 - x0)))
                }
            }
        }
        return output
    }
}
