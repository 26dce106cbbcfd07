import ArgumentParser
import Gateway

/// Parses the command line and runs `GatewayCommand`.
@main
enum Entry {
    static func main() async {
        await GatewayCommand.main()
    }
}
