public import Foundation

/// The protocol data units of the DICOM Upper Layer (PS3.8 §9.3), as values.
/// `PDUCodec` turns them into bytes and back.
public enum PDU: Sendable, Equatable {
    case associateRequest(AssociationRequest)
    case associateAccept(AssociationAccept)
    case associateReject(AssociationReject)
    case data([PresentationDataValue])
    case releaseRequest
    case releaseResponse
    case abort(source: UInt8, reason: UInt8)

    /// The PDU type byte of PS3.8 Table 9-11.
    public var type: UInt8 {
        switch self {
        case .associateRequest: 0x01
        case .associateAccept: 0x02
        case .associateReject: 0x03
        case .data: 0x04
        case .releaseRequest: 0x05
        case .releaseResponse: 0x06
        case .abort: 0x07
        }
    }
}

/// The DICOM application context (PS3.7 Annex A.2.1).
public let dicomApplicationContext = "1.2.840.10008.3.1.1.1"

/// What an association requestor proposes (A-ASSOCIATE-RQ).
public struct AssociationRequest: Sendable, Equatable {
    public var calledAETitle: String
    public var callingAETitle: String
    public var applicationContext = dicomApplicationContext
    public var presentationContexts: [ProposedContext]
    public var userInformation: UserInformation

    public init(calledAETitle: String, callingAETitle: String, presentationContexts: [ProposedContext], userInformation: UserInformation) {
        self.calledAETitle = calledAETitle
        self.callingAETitle = callingAETitle
        self.presentationContexts = presentationContexts
        self.userInformation = userInformation
    }
}

/// One proposed presentation context: an odd ID, an abstract syntax, the transfer syntaxes offered (preferred first).
public struct ProposedContext: Sendable, Equatable {
    public var id: UInt8
    public var abstractSyntax: String
    public var transferSyntaxes: [String]

    public init(id: UInt8, abstractSyntax: String, transferSyntaxes: [String]) {
        self.id = id
        self.abstractSyntax = abstractSyntax
        self.transferSyntaxes = transferSyntaxes
    }
}

/// What an acceptor answers (A-ASSOCIATE-AC).
public struct AssociationAccept: Sendable, Equatable {
    public var calledAETitle: String
    public var callingAETitle: String
    public var applicationContext = dicomApplicationContext
    public var presentationContexts: [AcceptedContext]
    public var userInformation: UserInformation

    public init(calledAETitle: String, callingAETitle: String, presentationContexts: [AcceptedContext], userInformation: UserInformation) {
        self.calledAETitle = calledAETitle
        self.callingAETitle = callingAETitle
        self.presentationContexts = presentationContexts
        self.userInformation = userInformation
    }
}

/// The answer to one proposed context: accepted with one transfer syntax, or refused with a reason (PS3.8 Table 9-18).
public struct AcceptedContext: Sendable, Equatable {
    public enum Result: UInt8, Sendable {
        case acceptance = 0
        case userRejection = 1
        case noReason = 2
        case abstractSyntaxNotSupported = 3
        case transferSyntaxesNotSupported = 4
    }

    public var id: UInt8
    public var result: Result
    /// The accepted transfer syntax (significant only on acceptance).
    public var transferSyntax: String

    public init(id: UInt8, result: Result, transferSyntax: String) {
        self.id = id
        self.result = result
        self.transferSyntax = transferSyntax
    }
}

/// A-ASSOCIATE-RJ: result (1 permanent, 2 transient), source and reason as PS3.8 Table 9-21 numbers them.
public struct AssociationReject: Sendable, Equatable {
    public var result: UInt8
    public var source: UInt8
    public var reason: UInt8

    public init(result: UInt8, source: UInt8, reason: UInt8) {
        self.result = result
        self.source = source
        self.reason = reason
    }
}

/// The User Information item's sub-items Metis reads and writes (PS3.7 Annex D.3.3).
public struct UserInformation: Sendable, Equatable {
    /// Largest P-DATA-TF PDU the sender can receive; 0: unlimited.
    public var maximumLength: UInt32
    public var implementationClassUID: String
    public var implementationVersionName: String?
    /// Asynchronous operations window (invoked, performed); nil: not negotiated (one at a time).
    public var asynchronousOperations: (invoked: UInt16, performed: UInt16)?
    /// SCP/SCU role selection per abstract syntax.
    public var roles: [RoleSelection]

    public struct RoleSelection: Sendable, Equatable {
        public var abstractSyntax: String
        public var scu: Bool
        public var scp: Bool

        public init(abstractSyntax: String, scu: Bool, scp: Bool) {
            self.abstractSyntax = abstractSyntax
            self.scu = scu
            self.scp = scp
        }
    }

    public init(
        maximumLength: UInt32, implementationClassUID: String, implementationVersionName: String? = nil,
        asynchronousOperations: (invoked: UInt16, performed: UInt16)? = nil, roles: [RoleSelection] = []
    ) {
        self.maximumLength = maximumLength
        self.implementationClassUID = implementationClassUID
        self.implementationVersionName = implementationVersionName
        self.asynchronousOperations = asynchronousOperations
        self.roles = roles
    }

    public static func == (lhs: UserInformation, rhs: UserInformation) -> Bool {
        lhs.maximumLength == rhs.maximumLength && lhs.implementationClassUID == rhs.implementationClassUID
            && lhs.implementationVersionName == rhs.implementationVersionName
            && lhs.asynchronousOperations?.invoked == rhs.asynchronousOperations?.invoked
            && lhs.asynchronousOperations?.performed == rhs.asynchronousOperations?.performed && lhs.roles == rhs.roles
    }
}

/// One presentation data value of a P-DATA-TF: a fragment of a command or data set.
public struct PresentationDataValue: Sendable, Equatable {
    public var contextID: UInt8
    public var isCommand: Bool
    public var isLastFragment: Bool
    public var data: Data

    public init(contextID: UInt8, isCommand: Bool, isLastFragment: Bool, data: Data) {
        self.contextID = contextID
        self.isCommand = isCommand
        self.isLastFragment = isLastFragment
        self.data = data
    }
}
