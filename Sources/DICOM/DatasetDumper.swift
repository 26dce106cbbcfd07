/// Text listing of a data set in the manner of dcmtk's `dcmdump`: one line per
/// element with tag, VR, value, length, value multiplicity and keyword;
/// sequence items indented.
public enum DatasetDumper {
    public static func dump(_ file: DICOMFile) -> String {
        var lines = ["# Dicom-File-Format", "", "# Dicom-Meta-Information-Header", "# Used TransferSyntax: Little Endian Explicit"]
        dump(file.meta, depth: 0, into: &lines)
        lines += ["", "# Dicom-Data-Set", "# Used TransferSyntax: \(file.transferSyntax.name) (\(file.transferSyntax.uid))"]
        dump(file.dataset, depth: 0, into: &lines)
        return lines.joined(separator: "\n") + "\n"
    }

    public static func dump(_ dataset: Dataset, depth: Int, into lines: inout [String]) {
        let indent = String(repeating: "  ", count: depth)
        for element in dataset.elements {
            let keyword = element.keyword.isEmpty ? (element.tag.isPrivate ? "PrivateTag" : "Unknown") : element.keyword
            switch element.value {
            case .sequence(let items):
                lines.append(line(indent + "\(element.tag) SQ (Sequence #=\(items.count))", length: -1, multiplicity: 1, keyword: keyword))
                for (index, item) in items.enumerated() {
                    lines.append(indent + "  (FFFE,E000) na (Item #\(index + 1), \(item.count) elements)")
                    dump(item, depth: depth + 2, into: &lines)
                }
            case .encapsulated(let pixels):
                lines.append(
                    line(
                        indent + "\(element.tag) \(element.vr) (PixelSequence #=\(pixels.fragments.count + 1))", length: -1,
                        multiplicity: 1, keyword: keyword))
                lines.append(indent + "  (FFFE,E000) pi (offset table, \(pixels.basicOffsetTable.count) bytes)")
                for fragment in pixels.fragments { lines.append(indent + "  (FFFE,E000) pi (fragment, \(fragment.count) bytes)") }
            case .bytes(let data):
                let (text, multiplicity) = value(of: element, in: dataset)
                lines.append(
                    line(indent + "\(element.tag) \(element.vr) \(text)", length: data.count, multiplicity: multiplicity, keyword: keyword))
            }
        }
    }

    private static func value(of element: DataElement, in dataset: Dataset) -> (String, Int) {
        if element.vr.isText {
            let values = dataset.strings(element.tag) ?? []
            if values.isEmpty || values == [""] { return ("(no value available)", 0) }
            return ("[" + clipped(values.joined(separator: "\\")) + "]", values.count)
        }
        if let numbers = dataset.numbers(element.tag), element.vr.numberSize != nil, element.vr != .OW || numbers.count <= 8 {
            let shown = numbers.prefix(8).map { $0 == $0.rounded() && abs($0) < 1e15 ? String(Int64($0)) : String($0) }
            return (shown.joined(separator: "\\") + (numbers.count > 8 ? "..." : ""), numbers.count)
        }
        if element.vr == .AT, let numbers = dataset.numbers(element.tag) {
            return (numbers.map { String(Int($0), radix: 16) }.joined(separator: "\\"), numbers.count / 2)
        }
        let bytes = element.bytes.prefix(8).map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16) }
        return (bytes.joined(separator: "\\") + (element.bytes.count > 8 ? "..." : ""), 1)
    }

    private static func clipped(_ text: String) -> String {
        text.count > 64 ? String(text.prefix(61)) + "..." : text
    }

    private static func line(_ head: String, length: Int, multiplicity: Int, keyword: String) -> String {
        let padded = head.count < 52 ? head + String(repeating: " ", count: 52 - head.count) : head
        let lengthText = length < 0 ? "u/l" : String(length)
        return "\(padded) # \(String(repeating: " ", count: max(0, 4 - lengthText.count)))\(lengthText), \(multiplicity) \(keyword)"
    }
}
