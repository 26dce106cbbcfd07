/// The optimal one-to-one assignment of a cost matrix (Hungarian method,
/// Kuhn–Munkres with potentials, O(n²·m)): rows to distinct columns,
/// minimising the summed cost. Pairs costing more than a limit are left
/// unassigned rather than forced.
public enum LesionAssignment {
    /// For each row, its column or nil. `costs[row][column]`; rows may outnumber columns or not.
    public static func assign(_ costs: [[Double]], limit: Double = .infinity) -> [Int?] {
        let rows = costs.count
        guard rows > 0, let columns = costs.first?.count, columns > 0 else { return Array(repeating: nil, count: rows) }
        // A pair over the limit costs more than any assignment of allowed pairs,
        // so the optimum uses it only when nothing better exists; it is then dropped.
        let allowed = costs.flatMap { $0 }.filter { $0 <= limit }
        let forbidden = (allowed.map(abs).max() ?? 0) * Double(rows + columns) + 1
        let transposed = rows > columns
        let n = transposed ? columns : rows, m = transposed ? rows : columns
        func cost(_ i: Int, _ j: Int) -> Double {
            let value = transposed ? costs[j][i] : costs[i][j]
            return value <= limit ? value : forbidden
        }
        // Potentials u (rows), v (columns); way/match over columns with a 1-based sentinel column 0.
        var u = [Double](repeating: 0, count: n + 1), v = [Double](repeating: 0, count: m + 1)
        var match = [Int](repeating: 0, count: m + 1), way = [Int](repeating: 0, count: m + 1)
        for i in 1...n {
            match[0] = i
            var j0 = 0
            var minimum = [Double](repeating: .infinity, count: m + 1)
            var used = [Bool](repeating: false, count: m + 1)
            repeat {
                used[j0] = true
                let i0 = match[j0]
                var delta = Double.infinity, j1 = 0
                for j in 1...m where !used[j] {
                    let reduced = cost(i0 - 1, j - 1) - u[i0] - v[j]
                    if reduced < minimum[j] {
                        minimum[j] = reduced
                        way[j] = j0
                    }
                    if minimum[j] < delta {
                        delta = minimum[j]
                        j1 = j
                    }
                }
                for j in 0...m {
                    if used[j] {
                        u[match[j]] += delta
                        v[j] -= delta
                    } else {
                        minimum[j] -= delta
                    }
                }
                j0 = j1
            } while match[j0] != 0
            repeat {
                let j1 = way[j0]
                match[j0] = match[j1]
                j0 = j1
            } while j0 != 0
        }
        var result = [Int?](repeating: nil, count: rows)
        for j in 1...m where match[j] != 0 {
            let (row, column) = transposed ? (j - 1, match[j] - 1) : (match[j] - 1, j - 1)
            if costs[row][column] <= limit { result[row] = column }
        }
        return result
    }
}
