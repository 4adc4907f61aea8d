/**
 * The shared data model of datasets and predictions: plain types with no dependencies, so pure
 * `src/ops/` and `src/ml/` code can use them without importing the engine.
 */

/** One box annotation in pixel coordinates of the row's image. */
export interface Box {
  label: string;
  x_min: number;
  y_min: number;
  x_max: number;
  y_max: number;
  /** Reader (radiologist) id when several readers boxed the same image. */
  reader?: string;
  score?: number;
  /**
   * Truth boxes only: an object the annotators marked hard (Pascal VOC `difficult`, COCO `iscrowd`).
   * Evaluation ignores it: a detection matching it is neither a true nor a false positive.
   */
  difficult?: boolean;
}

/**
 * One geometric step applied to an image, as boxes see it: a crop keeps the rectangle `x, y, width, height`
 * and moves its corner to the origin; a scale maps x to x * sx + dx (and y likewise) into a `width` x
 * `height` image (`dx`, `dy` are the padding on the left and top).
 */
export type GeometryStep =
  | { op: 'crop'; x: number; y: number; width: number; height: number }
  | { op: 'scale'; sx: number; sy: number; dx: number; dy: number; width: number; height: number };

/**
 * How a row's image was made from the original image (the DICOM's pixel grid, or the ingested file): the
 * original's size and the geometric steps of convert and preprocess, in order. Boxes map from the original
 * to the row's image through the steps, and back exactly through their inverses (src/ops/boxes/transform.ts).
 */
export interface ImageGeometry {
  width: number;
  height: number;
  steps: GeometryStep[];
}

/**
 * One row of a dataset table: one image. Stages add columns; these are the shared ones.
 * Blob references (`image`, `dicom`) are sha256 digests of blobs in the store.
 */
export interface DatasetRow {
  id: string;
  patient?: string;
  study?: string;
  labels?: string[];
  boxes?: Box[];
  image?: string;
  dicom?: string;
  width?: number;
  height?: number;
  fold?: number;
  split?: 'train' | 'val' | 'test';
  /** Absent: the row's image is the original (no geometric step applied). */
  geometry?: ImageGeometry;
  [column: string]: unknown;
}
