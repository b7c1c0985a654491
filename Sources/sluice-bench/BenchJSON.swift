import SluiceFormat

/// One JSON object for `--json` output, on one line: keys in insertion order, written by the
/// package's JSON writer. The one way every scenario writes its figures and its rows.
struct BenchJSON {
    private var fields: [(String, String)] = []

    init() {}

    /// An object of `fields`, in the order given (`["mbit": r.mbit, "met": r.met]`).
    init(_ fields: KeyValuePairs<String, any BenchJSONValue>) { add(fields) }

    /// The keys every throughput scenario starts with (issue 10): `scenario`, `gbps` (Sluice's
    /// figure), `baseline_gbps` (measured in the same run) and `ratio`.
    init(scenario: String, gbps: Double?, baseline: Double?) {
        add(["scenario": scenario, "gbps": gbps, "baseline_gbps": baseline,
             "ratio": gbps.flatMap { g in baseline.map { g / $0 } }])
    }

    /// `{"scenario":NAME,"error":TEXT}`: a scenario that could not measure.
    static func failure(scenario: String, _ error: String) -> String {
        BenchJSON(["scenario": scenario, "error": error]).text
    }

    mutating func add(_ key: String, _ value: some BenchJSONValue) { fields.append((key, value.jsonLiteral)) }

    mutating func add(_ more: KeyValuePairs<String, any BenchJSONValue>) {
        for (key, value) in more { fields.append((key, value.jsonLiteral)) }
    }

    /// Adds an already-written JSON value (an object a binary printed).
    mutating func add(_ key: String, raw: String) { fields.append((key, raw)) }

    /// Adds `date` and `machine` of the run and prints the object: a scenario's last line.
    func print(stamp: (date: String, machine: String)) {
        var o = self
        o.add(["date": stamp.date, "machine": stamp.machine])
        Swift.print(o.text)
    }

    var text: String { JSONWriter.object(fields, layout: .compact) }
}

/// What `BenchJSON` writes: numbers with 4 decimals (`null` when not finite), integers,
/// strings, booleans, `null` for a missing value, and arrays of objects (a scenario's rows).
protocol BenchJSONValue {
    var jsonLiteral: String { get }
}

extension Double: BenchJSONValue {
    var jsonLiteral: String { isFinite ? formatted(self, 4) : "null" }
}

extension Int: BenchJSONValue {
    var jsonLiteral: String { "\(self)" }
}

extension String: BenchJSONValue {
    var jsonLiteral: String { JSONWriter.quote(self) }
}

extension Bool: BenchJSONValue {
    var jsonLiteral: String { "\(self)" }
}

extension Optional: BenchJSONValue where Wrapped: BenchJSONValue {
    var jsonLiteral: String { map(\.jsonLiteral) ?? "null" }
}

extension BenchJSON: BenchJSONValue {
    var jsonLiteral: String { text }
}

extension Array: BenchJSONValue where Element == BenchJSON {
    var jsonLiteral: String { "[" + map(\.text).joined(separator: ", ") + "]" }
}
