/** The classified detections post-processing works on. */

/** One detected box with its classification: page pixels (left, top, width, height). */
export interface ClassifiedBox {
  /** Predicted character code, `U+XXXX`. */
  code: string;
  /** Classification probability of `code` (the ensemble's). */
  probability: number;
  /** Detector confidence of the box. */
  score: number;
  /** Left edge, pixels. */
  x: number;
  /** Top edge, pixels. */
  y: number;
  /** Width, pixels (>= 0). */
  width: number;
  /** Height, pixels (>= 0). */
  height: number;
}

/** The classified boxes of one page and the page size in pixels. */
export interface ClassifiedPage {
  pageId: string;
  /** Page width, pixels (> 0). */
  width: number;
  /** Page height, pixels (> 0). */
  height: number;
  boxes: ClassifiedBox[];
}
