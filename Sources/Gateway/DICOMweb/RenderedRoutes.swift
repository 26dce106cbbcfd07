import Foundation
import Hummingbird
import MetisProto
import MetisRPC

/// Rendered images and thumbnails (PS3.18 §10.4.1.1.3, §10.4.1.1.4): a PNG or
/// JPEG (as Accept prefers) of the middle frame of the middle image,
/// windowed, for study and series lists, from any syntax storage decodes.
struct RenderedRoutes: Sendable {
    let storage: Metis_V1_Storage.Client
    /// The longest side of a thumbnail, in pixels.
    var thumbnailSize: UInt32 = 128

    func register(on router: Router<some RequestContext>) {
        let study = "/dicom-web/studies/:study", series = study + "/series/:series", instance = series + "/instances/:instance"
        for base in [study, series, instance, instance + "/frames/:frames"] {
            router.get(RouterPath(base + "/rendered")) { request, context in try await render(request, context, thumbnail: false) }
            router.get(RouterPath(base + "/thumbnail")) { request, context in try await render(request, context, thumbnail: true) }
        }
    }

    private func render(_ request: Request, _ context: some RequestContext, thumbnail: Bool) async throws -> Response {
        let web = DICOMwebRequest(request)
        var render = Metis_V1_RenderRequest()
        render.mediaType = try web.preferred(of: ["image/png", "image/jpeg"])
        render.studyInstanceUid = try context.parameters.require("study")
        render.seriesInstanceUid = context.parameters.get("series") ?? ""
        render.sopInstanceUid = context.parameters.get("instance") ?? ""
        if let frames = context.parameters.get("frames") {
            guard let frame = UInt32(frames), frame > 0 else {
                throw HTTPError(.badRequest, message: "rendered frames take one frame number from 1, not '\(frames)'")
            }
            render.frameNumber = frame
        }
        if thumbnail { render.maxSize = thumbnailSize }
        for (name, value) in web.query {
            switch name {
            case "window":
                // center,width[,function]: only the linear function is drawn.
                let parts = value.split(separator: ",").map { Double($0.trimmingWhitespace()) }
                guard parts.count >= 2, let center = parts[0], let width = parts[1], width > 0 else {
                    throw HTTPError(.badRequest, message: "window must be center,width[,linear] with a positive width, not '\(value)'")
                }
                render.windowCenter = center
                render.windowWidth = width
            case "viewport":
                let parts = value.split(separator: ",").compactMap { UInt32($0.trimmingWhitespace()) }
                guard parts.count >= 1, parts.allSatisfy({ $0 > 0 && $0 <= 4096 }) else {
                    throw HTTPError(.badRequest, message: "viewport must be width,height in pixels (up to 4096), not '\(value)'")
                }
                render.maxSize = parts.max()!
            case "quality", "annotation":
                continue
            default:
                throw HTTPError(.badRequest, message: "unknown rendering parameter '\(name)'")
            }
        }
        let image = try await calling("metis-storage") { try await storage.render(render) }
        return Response(
            status: .ok, headers: [.contentType: image.mediaType, .cacheControl: "private, max-age=300"],
            body: .init(byteBuffer: ByteBuffer(bytes: image.image)))
    }
}
