import ArgumentParser
import InferenceService

/// Parses the command line and runs `InferenceCommand`.
@main
enum Entry {
    static func main() async {
        await InferenceCommand.main()
    }
}
