import Foundation
import TestSupport
import Testing

/// The deployment files hold together: the Kubernetes manifests against the
/// API schemas (kubernetes-validate from PyPI, strict: no unknown fields), and
/// a deliberately broken copy is refused, so the check cannot pass vacuously;
/// the systemd units name the binaries the package builds.
@Suite("Deployment files")
struct DeploymentTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var validatorInstalled: Bool { PythonModules.available("kubernetes_validate") }

    @Test(
        "deploy/kubernetes validates against the Kubernetes schemas",
        .enabled(if: validatorInstalled || ProcessInfo.processInfo.environment["CI"] != nil))
    func kubernetes() async throws {
        let manifest = Self.root.appendingPathComponent("deploy/kubernetes/metis.yaml")
        let validate = { (file: String) in
            try await MetisProcesses.run(
                URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-m", "kubernetes_validate", "--strict", "--quiet", file])
        }
        let result = try await validate(manifest.path)
        #expect(result.status == 0, "\(result.output)")
        let text = try String(contentsOf: manifest, encoding: .utf8)
        let broken = FileManager.default.temporaryDirectory.appendingPathComponent("metis-broken-\(UUID().uuidString.prefix(8)).yaml")
        defer { try? FileManager.default.removeItem(at: broken) }
        try text.replacingOccurrences(of: "replicas: 2", with: "replicas: two").write(to: broken, atomically: true, encoding: .utf8)
        #expect(try await validate(broken.path).status != 0, "the validator refuses a broken manifest")
        // The gateway lists one inference address per inference replica.
        let replicas =
            text.components(separatedBy: "name: metis-inference\n").count > 1 ? text.ranges(of: /tcp:\/\/metis-inference-\d+/).count : 0
        #expect(replicas == 2 && text.contains("replicas: 2"))

        // RPC between pods is mutual TLS: every command or probe naming a tcp:// address carries the three TLS files.
        let script = """
            import sys, yaml
            for document in yaml.safe_load_all(open(sys.argv[1])):
                for container in (document or {}).get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
                    commands = [("command", container.get("command", []))]
                    for probe in ("readinessProbe", "livenessProbe"):
                        commands.append((probe, container.get(probe, {}).get("exec", {}).get("command", [])))
                    for where, words in commands:
                        if any(str(word).startswith("tcp://") for word in words):
                            flags = ["--tls-certificate", "--tls-key", "--tls-trust"] if where != "command" else ["--rpc-tls-certificate", "--rpc-tls-key", "--rpc-tls-trust"]
                            print(container["name"], where, "TLS" if all(flag in words for flag in flags) else "PLAIN")
            """
        let transports = try await MetisProcesses.run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script, manifest.path])
        let lines = transports.output.split(separator: "\n")
        #expect(transports.status == 0 && lines.count == 4 && lines.allSatisfy { $0.hasSuffix(" TLS") }, "\(transports.output)")
    }

    @Test("the systemd units start binaries the package builds, with the hardening options")
    func systemd() throws {
        let units = Self.root.appendingPathComponent("deploy/systemd")
        for name in ["metis-storage.service", "metis-tracking.service", "metis-inference@.service", "metis-gateway.service"] {
            let text = try String(contentsOf: units.appendingPathComponent(name), encoding: .utf8)
            let binary = try #require(text.firstMatch(of: /ExecStart=\/usr\/local\/bin\/(\S+)/)?.1)
            #expect(
                FileManager.default.fileExists(atPath: Self.root.appendingPathComponent("Sources/\(binary)").path), "\(name) runs \(binary)"
            )
            for option in ["NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", "Restart=always", "User=metis"] {
                #expect(text.contains(option), "\(name) has \(option)")
            }
        }
    }
}
