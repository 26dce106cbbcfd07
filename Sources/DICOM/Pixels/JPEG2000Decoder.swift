import CPixelCodecs
import Foundation

/// JPEG 2000 (ISO 15444-1, lossless and lossy) and High-Throughput JPEG 2000
/// (ISO 15444-15) through OpenJPEG, which applies the inverse multi-component
/// transform: YBR_RCT and YBR_ICT come out as RGB. A codestream whose
/// signedness disagrees with Pixel Representation is reinterpreted by the
/// data set, as pydicom does.
struct JPEG2000Decoder: FrameDecoder {
    func decode(_ frame: Data, _ geometry: FrameGeometry) throws(DICOMError) -> Data {
        let bytes = Int32(geometry.bytesPerSample)
        var (output, info) = try CodecCall.run("JPEG 2000", frame, geometry) { source, length, destination, capacity, info, error, size in
            metis_j2k_decode(source, length, destination, capacity, bytes, info, error, size)
        }
        if (info.is_signed != 0) != geometry.isSigned, geometry.samplesPerPixel == 1 {
            CodecCall.correctSign(&output, precision: Int(info.precision), geometry)
        }
        return output
    }

    func decodedPhotometricInterpretation(_ geometry: FrameGeometry) -> String {
        ["YBR_ICT", "YBR_RCT"].contains(geometry.photometricInterpretation) ? "RGB" : geometry.photometricInterpretation
    }
}
