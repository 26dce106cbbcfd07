// Image-plane geometry in DICOM patient coordinates (LPS, mm).

export const dot = (a, b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
export const cross = (a, b) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
export const minus = (a, b) => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];

/** The patient-side letters a direction points to (L/R, P/A, H/F), strongest first. */
export function directionLetters(vector) {
  const letters = [[vector[0], 'L', 'R'], [vector[1], 'P', 'A'], [vector[2], 'H', 'F']]
    .filter(([component]) => Math.abs(component) > 0.25)
    .sort((a, b) => Math.abs(b[0]) - Math.abs(a[0]))
    .map(([component, positive, negative]) => (component > 0 ? positive : negative));
  return letters.join('');
}

export const opposite = (vector) => vector.map((component) => -component);

/**
 * A slice's plane: `origin` (ImagePositionPatient), `row` and `column`
 * directions (ImageOrientationPatient), spacing between columns and rows.
 */
export class Plane {
  constructor(origin, orientation, pixelSpacing) {
    this.origin = origin;
    this.row = orientation.slice(0, 3);
    this.column = orientation.slice(3, 6);
    this.normal = cross(this.row, this.column);
    this.rowSpacing = pixelSpacing[0];
    this.columnSpacing = pixelSpacing[1];
  }

  /** Pixel coordinates (column, row; fractional) of a patient point. */
  pixel(point) {
    const d = minus(point, this.origin);
    return [dot(d, this.row) / this.columnSpacing, dot(d, this.column) / this.rowSpacing];
  }

  /** Position of the plane along its normal. */
  get position() { return dot(this.origin, this.normal); }
}
