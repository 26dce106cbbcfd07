/// A DICOM person name (PN): up to three groups (alphabetic, ideographic,
/// phonetic) separated by `=`, each of five components separated by `^`:
/// family name, given name, middle name, prefix, suffix.
public struct PersonName: Hashable, Sendable, CustomStringConvertible {
    public struct Group: Hashable, Sendable {
        public var familyName = ""
        public var givenName = ""
        public var middleName = ""
        public var prefix = ""
        public var suffix = ""

        init(parsing text: Substring) {
            let components = text.split(separator: "^", maxSplits: 4, omittingEmptySubsequences: false).map(String.init)
            if components.count > 0 { familyName = components[0] }
            if components.count > 1 { givenName = components[1] }
            if components.count > 2 { middleName = components[2] }
            if components.count > 3 { prefix = components[3] }
            if components.count > 4 { suffix = components[4] }
        }

        /// The DICOM form, without trailing empty components.
        public var formatted: String {
            var components = [familyName, givenName, middleName, prefix, suffix]
            while components.last == "" { components.removeLast() }
            return components.joined(separator: "^")
        }
    }

    public var alphabetic: Group
    public var ideographic: Group?
    public var phonetic: Group?

    public init(parsing text: String) {
        let groups = text.split(separator: "=", maxSplits: 2, omittingEmptySubsequences: false)
        alphabetic = Group(parsing: groups.first ?? "")
        ideographic = groups.count > 1 && !groups[1].isEmpty ? Group(parsing: groups[1]) : nil
        phonetic = groups.count > 2 && !groups[2].isEmpty ? Group(parsing: groups[2]) : nil
    }

    /// The DICOM form, e.g. `Dupont^Hélène`.
    public var description: String {
        var groups = [alphabetic.formatted, ideographic?.formatted ?? "", phonetic?.formatted ?? ""]
        while groups.last == "" && groups.count > 1 { groups.removeLast() }
        return groups.joined(separator: "=")
    }
}
