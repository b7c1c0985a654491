import SluiceFormat

/// One JSON object for `--json` output, on one line: keys in insertion order, numbers (4
/// decimals), strings and booleans, written by the package's JSON writer.
struct BenchJSON {
    private var fields: [(String, String)] = []

    init() {}

    /// The keys every throughput scenario starts with (issue 10): `scenario`, `gbps` (Sluice's
    /// figure), `baseline_gbps` (measured in the same run) and `ratio`.
    init(scenario: String, gbps: Double?, baseline: Double?) {
        add("scenario", scenario)
        add("gbps", gbps)
        add("baseline_gbps", baseline)
        add("ratio", gbps.flatMap { g in baseline.map { g / $0 } })
    }

    /// `date` and `machine` of the run.
    mutating func add(stamp: (date: String, machine: String)) {
        add("date", stamp.date)
        add("machine", stamp.machine)
    }

    mutating func add(_ key: String, _ value: Double) {
        fields.append((key, value.isFinite ? formatted(value, 4) : "null"))
    }

    mutating func add(_ key: String, _ value: Int) { fields.append((key, "\(value)")) }

    mutating func add(_ key: String, _ value: String) { fields.append((key, JSONWriter.quote(value))) }

    mutating func add(_ key: String, _ value: Bool) { fields.append((key, "\(value)")) }

    /// Adds `value`, or `null` when it is nil.
    mutating func add(_ key: String, _ value: Double?) {
        if let value { add(key, value) } else { fields.append((key, "null")) }
    }

    /// Adds `value`, or `null` when it is nil.
    mutating func add(_ key: String, _ value: Int?) {
        if let value { add(key, value) } else { fields.append((key, "null")) }
    }

    /// Adds `value`, or `null` when it is nil.
    mutating func add(_ key: String, _ value: String?) {
        if let value { add(key, value) } else { fields.append((key, "null")) }
    }

    /// Adds an already-written JSON value (an array or object).
    mutating func add(_ key: String, raw: String) { fields.append((key, raw)) }

    /// Adds an array of objects (a scenario's rows).
    mutating func add(_ key: String, objects: [BenchJSON]) {
        add(key, raw: "[" + objects.map(\.text).joined(separator: ", ") + "]")
    }

    var text: String { JSONWriter.object(fields, layout: .compact) }
}
