/// A JSON value, enough for a benchmark's one-line result.
enum JSONValue {
    case number(Double)
    case integer(Int)
    case string(String)
    case null
    case object([(String, JSONValue)])

    var text: String {
        switch self {
        case .number(let value): value.isFinite ? format(value, 3) : "null"
        case .integer(let value): String(value)
        case .string(let value): "\"" + value.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
        case .null: "null"
        case .object(let members): "{" + members.map { "\"\($0.0)\":\($0.1.text)" }.joined(separator: ",") + "}"
        }
    }
}
