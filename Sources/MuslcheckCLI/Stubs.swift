import ArgumentParser
struct Check: OutputCommand {
    @Argument var paths: [String] = []
    func execute() throws -> CommandOutput { CommandOutput() }
}
struct Explain: OutputCommand {
    func execute() throws -> CommandOutput { CommandOutput() }
}
struct KB: OutputCommand {
    func execute() throws -> CommandOutput { CommandOutput() }
}
