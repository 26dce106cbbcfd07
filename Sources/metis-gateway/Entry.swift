import ArgumentParser
import Launcher

/// Parses the command line and runs `GatewayCommand`.
@main
enum Entry {
    static func main() async {
        await GatewayCommand.main()
    }
}
