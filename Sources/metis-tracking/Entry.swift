import ArgumentParser
import Launcher

/// Parses the command line and runs `TrackingCommand`.
@main
enum Entry {
    static func main() async {
        await TrackingCommand.main()
    }
}
