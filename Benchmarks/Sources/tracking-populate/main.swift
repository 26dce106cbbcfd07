// Fills a running metis-tracking with the follow-up benchmark's data:
// PATIENTS patients with one study of 3 lesions each, plus patient BENCH-TIMELINE
// with 20 studies × 10 lesions (lesions drifting and growing slowly).
//   tracking-populate SOCKET [PATIENTS]
import Foundation
import MetisProto
import MetisRPC
import SwiftProtobuf

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: tracking-populate SOCKET [PATIENTS]\n".utf8))
    exit(2)
}
let patients = arguments.count > 2 ? Int(arguments[2]) ?? 10_000 : 10_000
let connection = RPCConnection(address: .unix(path: arguments[1]))
let client = Metis_V1_Tracking.Client(connection)

func lesion(_ number: Int, centre: SIMD3<Double>, diameter: Double) -> Metis_V1_TrackedLesion {
    .with {
        $0.roiNumber = UInt32(number)
        $0.label = "Lesion \(number)"
        $0.volumeMm3 = Double.pi / 6 * diameter * diameter * diameter
        $0.longestDiameterMm = diameter
        $0.longestAxialDiameterMm = diameter * 0.95
        $0.perpendicularDiameterMm = diameter * 0.8
        $0.firstSlice = 40
        $0.lastSlice = 40 + UInt32(diameter / 1.5)
        $0.centroidMm = [centre.x, centre.y, centre.z]
    }
}

func study(patient: String, index: Int, lesions: [Metis_V1_TrackedLesion]) -> Metis_V1_RecordStudyRequest {
    .with {
        $0.patientID = patient
        $0.patientName = "Bench^\(patient)"
        $0.studyInstanceUid = "2.25.\(abs(patient.hashValue % 1_000_000_000)).\(index)"
        $0.seriesInstanceUid = "2.25.\(abs(patient.hashValue % 1_000_000_000)).\(index).1"
        $0.studyDate = String(format: "2026%02d%02d", 1 + index / 2, 1 + (index % 2) * 14)
        $0.engine = "unetr"
        $0.sliceThicknessMm = 1.5
        $0.headCentroidMm = [0, 0, 75]
        $0.lesions = lesions
    }
}

let start = Date()
for index in 0..<20 {
    let lesions = (0..<10).map { number in
        lesion(
            number + 1, centre: SIMD3(Double(number) * 15 - 70, Double(number % 3) * 20 - 20, 60 + Double(index) * 0.3),
            diameter: 6 + Double(number) + Double(index) * 0.2)
    }
    _ = try await client.recordStudy(study(patient: "BENCH-TIMELINE", index: index, lesions: lesions))
}
try await withThrowingTaskGroup(of: Void.self) { group in
    for worker in 0..<8 {
        group.addTask {
            for patient in stride(from: worker, to: patients, by: 8) {
                let lesions = (0..<3).map { lesion($0 + 1, centre: SIMD3(Double($0) * 30, 0, 70), diameter: 8 + Double($0 * 4)) }
                _ = try await client.recordStudy(study(patient: String(format: "BENCH-%05d", patient), index: 0, lesions: lesions))
            }
        }
    }
    try await group.waitForAll()
}
print(String(format: "recorded %d patients and a 20-study timeline in %.1f s", patients + 1, Date().timeIntervalSince(start)))
await connection.close()
