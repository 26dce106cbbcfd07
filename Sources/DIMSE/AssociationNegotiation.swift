import Foundation

/// What an acceptor supports, and how it answers an A-ASSOCIATE-RQ (PS3.8
/// §9.3.2, PS3.7 Annex D): its AE title, the abstract syntaxes it serves
/// and, per abstract syntax, the transfer syntaxes it reads. Each proposed
/// context gets the first transfer syntax the requestor proposed that the
/// acceptor reads (the proposer's preference); the asynchronous operations
/// window is 1 unless both sides ask for more.
public struct AcceptorPolicy: Sendable {
    public var aeTitle: String
    /// AE titles allowed to associate; empty: any.
    public var allowedCallers: Set<String>
    /// Abstract syntax → transfer syntaxes read for it.
    public var syntaxes: [String: Set<String>]
    /// Transfer syntaxes read for any Storage SOP Class (`SOPClass.isStorage`); nil: storage only as `syntaxes` lists it.
    public var storageSyntaxes: Set<String>?
    public var maximumLength: UInt32
    public var implementationClassUID: String
    public var implementationVersionName: String
    /// Operations Metis performs at once on one association (1: none in parallel).
    public var maximumOperations: UInt16

    public init(
        aeTitle: String, allowedCallers: Set<String> = [], syntaxes: [String: Set<String>], storageSyntaxes: Set<String>? = nil,
        maximumLength: UInt32,
        implementationClassUID: String, implementationVersionName: String, maximumOperations: UInt16 = 1
    ) {
        self.aeTitle = aeTitle
        self.allowedCallers = allowedCallers
        self.syntaxes = syntaxes
        self.storageSyntaxes = storageSyntaxes
        self.maximumLength = maximumLength
        self.implementationClassUID = implementationClassUID
        self.implementationVersionName = implementationVersionName
        self.maximumOperations = maximumOperations
    }

    /// The negotiated association, or the rejection PS3.8 Table 9-21 names.
    public enum Answer: Sendable, Equatable {
        case accept(AssociationAccept)
        case reject(AssociationReject)
    }

    /// The transfer syntaxes read for `abstractSyntax`; nil: not supported.
    public func readable(_ abstractSyntax: String) -> Set<String>? {
        syntaxes[abstractSyntax] ?? (SOPClass.isStorage(abstractSyntax) ? storageSyntaxes : nil)
    }

    public func answer(_ request: AssociationRequest) -> Answer {
        if request.applicationContext != dicomApplicationContext {
            return .reject(AssociationReject(result: 1, source: 1, reason: 2))  // application context name not supported
        }
        if request.calledAETitle != aeTitle {
            return .reject(AssociationReject(result: 1, source: 1, reason: 7))  // called AE title not recognised
        }
        if !allowedCallers.isEmpty && !allowedCallers.contains(request.callingAETitle) {
            return .reject(AssociationReject(result: 1, source: 1, reason: 3))  // calling AE title not recognised
        }
        let contexts = request.presentationContexts.map { proposed -> AcceptedContext in
            guard let readable = readable(proposed.abstractSyntax) else {
                return AcceptedContext(id: proposed.id, result: .abstractSyntaxNotSupported, transferSyntax: proposed.transferSyntaxes[0])
            }
            guard let chosen = proposed.transferSyntaxes.first(where: readable.contains) else {
                return AcceptedContext(id: proposed.id, result: .transferSyntaxesNotSupported, transferSyntax: proposed.transferSyntaxes[0])
            }
            return AcceptedContext(id: proposed.id, result: .acceptance, transferSyntax: chosen)
        }
        var user = UserInformation(
            maximumLength: maximumLength, implementationClassUID: implementationClassUID,
            implementationVersionName: implementationVersionName)
        if let window = request.userInformation.asynchronousOperations {
            // PS3.7 D.3.3.3: each side gets at most what the other offered; 0 means unlimited.
            func limit(_ asked: UInt16) -> UInt16 { asked == 0 ? maximumOperations : min(asked, maximumOperations) }
            user.asynchronousOperations = (limit(window.invoked), limit(window.performed))
        }
        // Role selection: Metis takes the SCP role where asked (C-GET's storage sub-operations), never refuses SCU.
        user.roles = request.userInformation.roles.filter { readable($0.abstractSyntax) != nil }
        return .accept(
            AssociationAccept(
                calledAETitle: request.calledAETitle, callingAETitle: request.callingAETitle, presentationContexts: contexts,
                userInformation: user))
    }
}
