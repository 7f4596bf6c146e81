/// Carries a value that is not `Sendable` to the reactor thread, where it is used only
/// after the hop: the caller gives it up when it calls.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
