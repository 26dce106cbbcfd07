import ArgumentParser
import StorageService

/// Parses the command line and runs `StorageCommand`.
@main
enum Entry {
    static func main() async {
        await StorageCommand.main()
    }
}
