import ServiceLifecycle

/// Closes the service connections when the gateway shuts down.
struct ClientShutdown: Service {
    let clients: ServiceClients

    func run() async throws {
        try? await gracefulShutdown()
        await clients.close()
    }
}
