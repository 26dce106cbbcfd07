#!/usr/bin/env python3
"""Drives a running Metis gateway with dicomweb-client, an independent DICOMweb client.

    dicomweb_client_check.py URL FOLDER

Stores every file of FOLDER (one study), then searches, retrieves and deletes
it, checking each answer; prints "dicomweb-client: all checks passed" and exits
0, or names the first failed check and exits 1.
"""
import pathlib
import sys

import pydicom
from dicomweb_client.api import DICOMwebClient


def check(condition, what):
    if not condition:
        print(f"dicomweb-client: FAILED: {what}")
        sys.exit(1)


def main(url, folder):
    client = DICOMwebClient(url=url)
    paths = sorted(pathlib.Path(folder).glob("*.dcm"))
    datasets = [pydicom.dcmread(path) for path in paths]
    study = datasets[0].StudyInstanceUID
    response = client.store_instances(datasets=datasets)
    check(len(response.ReferencedSOPSequence) == len(datasets), "STOW-RS stored every instance")

    studies = client.search_for_studies(search_filters={"PatientID": datasets[0].PatientID})
    check(len(studies) == 1, "QIDO-RS finds the study by PatientID")
    found = pydicom.Dataset.from_json(studies[0])
    check(found.StudyInstanceUID == study, "QIDO-RS returns the StudyInstanceUID")
    check(str(found.PatientName) == str(datasets[0].PatientName), "QIDO-RS returns the Latin-1 name as Unicode")
    series = client.search_for_series(study_instance_uid=study)
    check(len(series) == len({ds.SeriesInstanceUID for ds in datasets}), "QIDO-RS lists the series")
    fuzzy = client.search_for_studies(search_filters={"PatientName": "zoe"}, fuzzymatching=True)
    check(len(fuzzy) == 1, "fuzzy matching ignores accents and case")

    sample = datasets[len(datasets) // 2]
    instance = client.retrieve_instance(study, sample.SeriesInstanceUID, sample.SOPInstanceUID)
    check(instance.SOPInstanceUID == sample.SOPInstanceUID, "WADO-RS retrieves the instance")
    check(instance.PixelData == sample.PixelData, "the retrieved pixel data is identical")
    retrieved = client.retrieve_series(study, sample.SeriesInstanceUID)
    check(len(retrieved) == sum(ds.SeriesInstanceUID == sample.SeriesInstanceUID for ds in datasets), "WADO-RS retrieves the series")
    metadata = client.retrieve_series_metadata(study, sample.SeriesInstanceUID)
    check(len(metadata) == len(retrieved), "WADO-RS series metadata has one object per instance")
    frames = client.retrieve_instance_frames(study, sample.SeriesInstanceUID, sample.SOPInstanceUID, frame_numbers=[1])
    check(frames[0] == sample.PixelData, "WADO-RS frame 1 is the stored pixel data")

    client.delete_study(study)
    check(client.search_for_studies(search_filters={"StudyInstanceUID": study}) == [], "the deleted study is gone")
    print("dicomweb-client: all checks passed")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
