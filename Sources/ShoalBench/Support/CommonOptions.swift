import ArgumentParser

/// Options every comparison benchmark takes.
struct CommonOptions: ParsableArguments {
    @Option(help: "Measured rounds, after one warm-up round.")
    var rounds = 7

    @Flag(help: "Print one JSON object on the last line.")
    var json = false

    func validate() throws {
        guard rounds >= 1 && rounds <= 1_000 else { throw ValidationError("--rounds must be between 1 and 1000") }
    }
}
