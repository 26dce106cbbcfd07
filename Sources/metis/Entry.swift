import ArgumentParser
import Launcher

/// Parses the command line and runs `MetisCommand`.
@main
enum Entry {
    static func main() async {
        await MetisCommand.main()
    }
}
