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
  [column: string]: unknown;
}
