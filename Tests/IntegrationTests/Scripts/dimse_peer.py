#!/usr/bin/env python3
"""pynetdicom as an independent DIMSE peer of Metis (AE title PYNETDICOM).

As SCU: C-ECHO, C-STORE of FILE..., C-FIND (Study Root, STUDY level) for STUDY_UID.
As SCP: a Storage SCP on DESTINATION_PORT, then C-MOVE of the study to itself.
Prints one JSON line: statuses, found UIDs and names, and whether the moved
instances' pixels equal the files sent.

usage: dimse_peer.py HOST PORT DESTINATION_PORT STUDY_UID FILE...
"""
import json
import sys

import pydicom
from pydicom.dataset import Dataset
from pynetdicom import AE, StoragePresentationContexts, evt
from pynetdicom.sop_class import (
    MRImageStorage,
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelMove,
    Verification,
)


def main():
    host, port, destination_port, study = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    files = [pydicom.dcmread(path) for path in sys.argv[5:]]
    report = {}

    ae = AE(ae_title="PYNETDICOM")
    for context in (Verification, MRImageStorage, StudyRootQueryRetrieveInformationModelFind, StudyRootQueryRetrieveInformationModelMove):
        ae.add_requested_context(context)
    assoc = ae.associate(host, port, ae_title="METIS")
    if not assoc.is_established:
        raise SystemExit("association refused")
    report["echo"] = int(assoc.send_c_echo().Status)
    report["stored"] = [int(assoc.send_c_store(ds).Status) for ds in files]
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.StudyInstanceUID = study
    query.PatientName = ""
    found, names = [], []
    for status, identifier in assoc.send_c_find(query, StudyRootQueryRetrieveInformationModelFind):
        if status and status.Status in (0xFF00, 0xFF01) and identifier is not None:
            found.append(str(identifier.StudyInstanceUID))
            names.append(str(identifier.PatientName))
    report["found"], report["names"] = found, names
    assoc.release()

    received = {}

    def on_store(event):
        ds = event.dataset
        ds.file_meta = event.file_meta
        received[str(ds.SOPInstanceUID)] = ds
        return 0x0000

    scp_ae = AE(ae_title="PYNETDICOM")
    scp_ae.supported_contexts = StoragePresentationContexts
    server = scp_ae.start_server(("127.0.0.1", destination_port), block=False, evt_handlers=[(evt.EVT_C_STORE, on_store)])
    try:
        mover = AE(ae_title="PYNETDICOM")
        mover.add_requested_context(StudyRootQueryRetrieveInformationModelMove)
        assoc = mover.associate(host, port, ae_title="METIS")
        move = Dataset()
        move.QueryRetrieveLevel = "STUDY"
        move.StudyInstanceUID = study
        final = None
        for status, _ in assoc.send_c_move(move, "PYNETDICOM", StudyRootQueryRetrieveInformationModelMove):
            if status:
                final = int(status.Status)
        assoc.release()
    finally:
        server.shutdown()
    report["move"] = final
    report["received"] = len(received)
    report["identical"] = all(
        str(ds.SOPInstanceUID) in received and received[str(ds.SOPInstanceUID)].PixelData == ds.PixelData for ds in files
    )
    print(json.dumps(report))


if __name__ == "__main__":
    main()
