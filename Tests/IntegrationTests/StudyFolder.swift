import DICOM
import Foundation

/// Writes a small MR study as a scanner export would: one folder per series.
enum StudyFolder {
    static func write(to folder: URL, series: Int, instancesPerSeries: Int, study: String = "2.25.1001") throws {
        for seriesNumber in 1...series {
            let directory = folder.appendingPathComponent("series-\(seriesNumber)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for instanceNumber in 1...instancesPerSeries {
                var dataset = Dataset(characterSet: SpecificCharacterSet(terms: ["ISO_IR 100"]))
                dataset[.specificCharacterSet] = .text(.specificCharacterSet, .CS, "ISO_IR 100")
                dataset[.sopClassUID] = .text(.sopClassUID, .UI, "1.2.840.10008.5.1.4.1.1.4")
                dataset[.sopInstanceUID] = .text(.sopInstanceUID, .UI, "\(study).\(seriesNumber).\(instanceNumber)")
                dataset[.studyInstanceUID] = .text(.studyInstanceUID, .UI, study)
                dataset[.seriesInstanceUID] = .text(.seriesInstanceUID, .UI, "\(study).\(seriesNumber)")
                dataset[.patientID] = .text(.patientID, .LO, "IMPORT-1")
                // Latin-1, as French scanners write it.
                dataset[.patientName] = DataElement(tag: .patientName, vr: .PN, value: .bytes("Lefèvre^Anaïs".data(using: .isoLatin1)!))
                dataset[.modality] = .text(Tag.modality, .CS, "MR")
                dataset[.pixelData] = DataElement(
                    tag: .pixelData, vr: .OB, value: .bytes(Data(repeating: UInt8(instanceNumber), count: 64)))
                let name = seriesNumber == 2 && instanceNumber == 1 ? "nested/IM\(instanceNumber)" : "IM\(instanceNumber)"
                let url = directory.appendingPathComponent(name)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try DICOMWriter.write(dataset, to: url)
            }
        }
    }
}
