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
        let invert = pixelData.photometricInterpretation == "MONOCHROME1"
        if pixelData.bitsAllocated == 8 || pixelData.bitsAllocated == 16 {
            do {
                let pixels = try lookedUp(pixelData, frame: frame, dataset: dataset, invert: invert)
                return scaled(pixels, width: pixelData.columns, height: pixelData.rows, channels: 1)
            } catch {
                throw .invalid("cannot render frame \(frame + 1): \(error)")
            }
        }
        let values: [Double]
        do {
            values = try pixelData.frameValues(frame, rescaled: true)
        } catch {
            throw .invalid("cannot render frame \(frame + 1): \(error)")
        }
        let (lower, scale) = window(dataset) { (values.min() ?? 0, values.max() ?? 1) }
        let pixels = values.map { value -> UInt8 in
            let level = UInt8(clamping: Int(((value - lower) * scale).rounded()))
            return invert ? 255 - level : level
        }
        return scaled(pixels, width: pixelData.columns, height: pixelData.rows, channels: 1)
    }

    /// The window's lower edge and scale to 0…255: the requested one, the stored one, or the frame's
    /// modality-value range, which `range` computes only when neither is there.
    private func window(_ dataset: Dataset, range: () -> (low: Double, high: Double)) -> (lower: Double, scale: Double) {
        var center = windowCenter, width = windowWidth
        if width == nil || width! <= 0 {
            center = dataset.double(.windowCenter)
            width = dataset.double(.windowWidth)
        }
        if width == nil || width! <= 0 {
            let (low, high) = range()
            center = (low + high) / 2
            width = max(high - low, 1)
        }
        return (center! - width! / 2, 255 / width!)
    }

    /// 8 and 16-bit greyscale through a lookup table over every stored word (256 or 65,536 entries): masking,
    /// sign, rescale and window computed once per word instead of once per pixel.
    private func lookedUp(_ pixels: PixelData, frame: Int, dataset: Dataset, invert: Bool) throws(DICOMError) -> [UInt8] {
        let bytes = try pixels.frameBytes(frame)
        let words = pixels.bitsAllocated == 8 ? 256 : 65536
        let bits = min(max(pixels.bitsStored, 1), pixels.bitsAllocated)
        func stored(_ word: Int) -> Double {
            let masked = word & ((1 << bits) - 1)
            return Double(pixels.isSigned && masked >= 1 << (bits - 1) ? masked - (1 << bits) : masked)
        }
        let count = pixels.rows * pixels.columns
        var output = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeBytes { raw in
            func word(_ i: Int) -> Int {
                pixels.bitsAllocated == 8
                    ? Int(raw[i]) : Int(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            }
            let (lower, scale) = window(dataset) {
                // The frame's range, from the words present.
                var present = [Bool](repeating: false, count: words)
                for i in 0..<count { present[word(i)] = true }
                var low = Double.infinity, high = -Double.infinity
                for value in (0..<words).filter({ present[$0] }).map({ stored($0) * pixels.rescaleSlope + pixels.rescaleIntercept }) {
                    low = min(low, value)
                    high = max(high, value)
                }
                return (low.isFinite ? low : 0, high.isFinite ? high : 1)
            }
            var table = [UInt8](repeating: 0, count: words)
            for word in 0..<words {
                let value = stored(word) * pixels.rescaleSlope + pixels.rescaleIntercept
                let level = UInt8(clamping: Int(((value - lower) * scale).rounded()))
                table[word] = invert ? 255 - level : level
            }
            for i in 0..<count { output[i] = table[word(i)] }
        }
        return output
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
