import ArgumentParser
import TrackingService

/// Parses the command line and runs `TrackingCommand`.
@main
enum Entry {
    static func main() async {
        await TrackingCommand.main()
    }
}
