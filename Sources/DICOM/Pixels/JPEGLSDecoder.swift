import CPixelCodecs
import Foundation

/// JPEG-LS lossless and near-lossless (ISO 14495-1) through CharLS. JPEG-LS
/// has no notion of sign: signed data is reinterpreted from the stream's
/// precision by Pixel Representation, as pydicom does.
struct JPEGLSDecoder: FrameDecoder {
    func decode(_ frame: Data, _ geometry: FrameGeometry) throws(DICOMError) -> Data {
        let bytes = Int32(geometry.bytesPerSample)
        var (output, info) = try CodecCall.run("JPEG-LS", frame, geometry) { source, length, destination, capacity, info, error, size in
            metis_jls_decode(source, length, destination, capacity, bytes, info, error, size)
        }
        if geometry.isSigned { CodecCall.correctSign(&output, precision: Int(info.precision), geometry) }
        return output
    }
}
