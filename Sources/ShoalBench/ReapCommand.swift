import ArgumentParser

struct ReapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reap")
    func run() throws {}
}
