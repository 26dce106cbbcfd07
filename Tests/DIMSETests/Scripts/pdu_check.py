#!/usr/bin/env python3
"""pynetdicom's reading and writing of Upper Layer PDUs, the independent side of the DIMSE tests.

usage: pdu_check.py decode HEX     prints what pynetdicom decodes from the PDU, as JSON
       pdu_check.py request        prints an A-ASSOCIATE-RQ pynetdicom encodes, as hex
       pdu_check.py data           prints a P-DATA-TF pynetdicom encodes (two fragments), as hex
       pdu_check.py messages MAX   prints the P-DATA-TF PDUs, one hex line each, pynetdicom sends for a C-ECHO-RQ
                                   (message ID 7) and a C-STORE-RQ (message ID 8, a 300-byte data set) under
                                   maximum PDU length MAX
"""
import json
import sys

from pynetdicom.pdu import A_ABORT_RQ, A_ASSOCIATE_AC, A_ASSOCIATE_RJ, A_ASSOCIATE_RQ, A_RELEASE_RQ, P_DATA_TF
from pynetdicom.pdu_primitives import (A_ASSOCIATE, P_DATA, AsynchronousOperationsWindowNegotiation,
                                       ImplementationClassUIDNotification, ImplementationVersionNameNotification,
                                       MaximumLengthNotification, SCP_SCU_RoleSelectionNegotiation)
from pynetdicom.presentation import PresentationContext


def user_information(items):
    out = {"roles": []}
    for item in items:
        name = type(item).__name__
        if name == "MaximumLengthSubItem":
            out["maximum_length"] = item.maximum_length_received
        elif name == "ImplementationClassUIDSubItem":
            out["implementation_class_uid"] = str(item.implementation_class_uid)
        elif name == "ImplementationVersionNameSubItem":
            name_value = item.implementation_version_name
            out["implementation_version_name"] = name_value.decode() if isinstance(name_value, bytes) else name_value
        elif name == "AsynchronousOperationsWindowSubItem":
            out["asynchronous_operations"] = [item.maximum_number_operations_invoked, item.maximum_number_operations_performed]
        elif name == "SCP_SCU_RoleSelectionSubItem":
            out["roles"].append([str(item.uid), item.scu_role, item.scp_role])
    return out


def decode(data):
    kind = data[0]
    pdu = {1: A_ASSOCIATE_RQ, 2: A_ASSOCIATE_AC, 3: A_ASSOCIATE_RJ, 4: P_DATA_TF, 5: A_RELEASE_RQ, 7: A_ABORT_RQ}[kind]()
    pdu.decode(data)
    if kind in (1, 2):
        contexts = []
        for item in pdu.presentation_context:
            if kind == 1:
                contexts.append({"id": item.context_id, "abstract": str(item.abstract_syntax),
                                 "transfer": [str(t) for t in item.transfer_syntax]})
            else:
                contexts.append({"id": item.context_id, "result": item.result_reason, "transfer": str(item.transfer_syntax)})
        return {"type": kind, "called": pdu.called_ae_title, "calling": pdu.calling_ae_title,
                "context": str(pdu.application_context_name), "contexts": contexts,
                "user": user_information(pdu.user_information.user_data)}
    if kind == 3:
        return {"type": 3, "result": pdu.result, "source": pdu.source, "reason": pdu.reason_diagnostic}
    if kind == 4:
        return {"type": 4, "values": [[item.presentation_context_id, item.message_control_header_byte, item.data.hex()]
                                      for item in pdu.presentation_data_value_items]}
    if kind == 7:
        return {"type": 7, "source": pdu.source, "reason": pdu.reason_diagnostic}
    return {"type": kind}


def request():
    primitive = A_ASSOCIATE()
    primitive.application_context_name = "1.2.840.10008.3.1.1.1"
    primitive.calling_ae_title = "SCANNER1"
    primitive.called_ae_title = "METIS"
    length = MaximumLengthNotification()
    length.maximum_length_received = 16382
    klass = ImplementationClassUIDNotification()
    klass.implementation_class_uid = "1.2.826.0.1.3680043.9.3811.2.1.1"
    version = ImplementationVersionNameNotification()
    version.implementation_version_name = "PYNETDICOM_211"
    window = AsynchronousOperationsWindowNegotiation()
    window.maximum_number_operations_invoked = 3
    window.maximum_number_operations_performed = 2
    role = SCP_SCU_RoleSelectionNegotiation()
    role.sop_class_uid = "1.2.840.10008.5.1.4.1.1.4"
    role.scu_role, role.scp_role = False, True
    primitive.user_information = [length, klass, version, window, role]
    contexts = []
    for index, (abstract, syntaxes) in enumerate([("1.2.840.10008.1.1", ["1.2.840.10008.1.2"]),
                                                   ("1.2.840.10008.5.1.4.1.1.4", ["1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.1"])]):
        context = PresentationContext()
        context.context_id = 2 * index + 1
        context.abstract_syntax = abstract
        context.transfer_syntax = syntaxes
        contexts.append(context)
    primitive.presentation_context_definition_list = contexts
    pdu = A_ASSOCIATE_RQ()
    pdu.from_primitive(primitive)
    return pdu.encode().hex()


def data():
    primitive = P_DATA()
    primitive.presentation_data_value_list = [[1, b"\x01" + b"command!"], [3, b"\x02" + b"dataset-fragment"]]
    pdu = P_DATA_TF()
    pdu.from_primitive(primitive)
    return pdu.encode().hex()


def messages(maximum):
    from pydicom.dataset import Dataset
    from pynetdicom.dimse_messages import C_ECHO_RQ, C_STORE_RQ
    from pynetdicom.dimse_primitives import C_ECHO, C_STORE
    echo = C_ECHO()
    echo.MessageID = 7
    echo.AffectedSOPClassUID = "1.2.840.10008.1.1"
    store = C_STORE()
    store.MessageID = 8
    store.AffectedSOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
    store.AffectedSOPInstanceUID = "1.2.826.0.1.3680043.8.498.1"
    store.Priority = 0
    store.DataSet = __import__("io").BytesIO(bytes(range(256)) + bytes(44))
    lines = []
    for primitive, message in ((echo, C_ECHO_RQ()), (store, C_STORE_RQ())):
        message.primitive_to_message(primitive)
        context = 1 if message is not None and isinstance(message, C_ECHO_RQ) else 3
        for data in message.encode_msg(context, maximum):
            pdu = P_DATA_TF()
            pdu.from_primitive(data)
            lines.append(pdu.encode().hex())
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1] == "decode":
        print(json.dumps(decode(bytes.fromhex(sys.argv[2]))))
    elif sys.argv[1] == "request":
        print(request())
    elif sys.argv[1] == "messages":
        print(messages(int(sys.argv[2])))
    elif sys.argv[1] == "transitions":
        # PS3.8 Table 9-10 as pynetdicom encodes it: "EvtN StaM" -> [action, next state(s)].
        from pynetdicom.fsm import ACTIONS, TRANSITION_TABLE

        table = {}
        for (event, state), action in TRANSITION_TABLE.items():
            following = ACTIONS[action][2]
            table[f"{event} {state}"] = [action] + (list(following) if isinstance(following, tuple) else [following])
        print(json.dumps(table))
    else:
        print(data())
