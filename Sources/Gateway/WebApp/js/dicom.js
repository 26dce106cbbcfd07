// Reading DICOM JSON (PS3.18 F.2) as the QIDO and metadata routes give it.

/** The first value of an attribute (by tag, e.g. '0010,0010' or '00100010'). */
export function value(object, tag) {
  const attribute = object?.[tag.replace(',', '')];
  const first = attribute?.Value?.[0];
  if (first && typeof first === 'object' && 'Alphabetic' in first) return first.Alphabetic;
  return first;
}

/** Every value of an attribute. */
export function values(object, tag) {
  return object?.[tag.replace(',', '')]?.Value ?? [];
}

export const tags = {
  patientName: '00100010', patientID: '00100020', studyUID: '0020000D', studyDate: '00080020', studyDescription: '00081030',
  modalities: '00080061', seriesCount: '00201206', studyInstanceCount: '00201208', seriesUID: '0020000E', modality: '00080060',
  seriesDescription: '0008103E', seriesNumber: '00200011', seriesInstanceCount: '00201209', sopInstanceUID: '00080018',
  instanceNumber: '00200013', rows: '00280010', columns: '00280011', pixelSpacing: '00280030', imagePosition: '00200032',
  imageOrientation: '00200037', rescaleSlope: '00281053', rescaleIntercept: '00281052', windowCenter: '00281050',
  windowWidth: '00281051', bitsAllocated: '00280100', pixelRepresentation: '00280103', samplesPerPixel: '00280002', lossyImageCompression: '00282110',
};
