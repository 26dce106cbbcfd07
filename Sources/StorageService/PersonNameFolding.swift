import Foundation

/// The case- and accent-free forms of person names that matching compares.
enum PersonNameFolding {
    /// Exact matching compares the whole name, lowercased.
    static func caseFolded(_ name: String?) -> String? { name?.lowercased() }

    /// Fuzzy matching compares words: the name's components folded, between
    /// spaces (" helene dupont "), so a word prefix is `GLOB '* hel*'`.
    static func words(_ name: String?) -> String? {
        guard let name else { return nil }
        let words = fold(name).split(whereSeparator: { " ^=,-".contains($0) })
        return " " + words.joined(separator: " ") + " "
    }

    /// The query words of a fuzzy person-name match, folded the same way.
    static func queryWords(_ text: String) -> [String] {
        fold(text).split(whereSeparator: { " ^=,-".contains($0) }).map(String.init)
    }

    private static func fold(_ text: String) -> String {
        text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: Locale(identifier: "en_US_POSIX"))
    }
}
