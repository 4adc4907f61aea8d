import type { Box } from '../../data-model.ts';

/** A box as read from a label file, before it is checked against its image. */
export interface SourceBox extends Box {
  /** Where it was read, for messages: `train.csv:12`, `Annotations/a.xml:57 (object 3)`, `coco.json annotations[4] (id 17)`. */
  at: string;
  /** YOLO: coordinates are fractions of the image size, resolved once the image size is known. */
  normalized?: boolean;
}

/** Labels joined onto one image from a labels source. */
export interface ImageLabels {
  /** Image-level class names (boxes' labels are added when the boxes are resolved). */
  labels: string[];
  boxes?: SourceBox[];
  patient?: string;
  split?: 'train' | 'val' | 'test';
  /** The image size the annotation states (VOC `<size>`, COCO `images[].width/height`), checked against the image. */
  size?: { width: number; height: number; at: string };
}
