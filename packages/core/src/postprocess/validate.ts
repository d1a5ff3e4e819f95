/** Input checks shared by the post-processing functions: errors name the offending field. */
import { InvalidArgumentError } from '../errors.js';
import { isUnicodeCode } from '../csv-text.js';
import type { ClassifiedBox, ClassifiedPage } from './types.js';

/** Throws {@link InvalidArgumentError} naming the first malformed field of a box. */
export function checkBox(box: ClassifiedBox, field: string): void {
  if (typeof box.code !== 'string' || !isUnicodeCode(box.code)) {
    throw new InvalidArgumentError(`${field}.code`, `expected U+XXXX, got ${JSON.stringify(box.code)}`);
  }
  for (const name of ['x', 'y', 'width', 'height', 'probability', 'score'] as const) {
    const value = box[name];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new InvalidArgumentError(`${field}.${name}`, `expected a finite number, got ${String(value)}`);
    }
  }
  if (box.width < 0) throw new InvalidArgumentError(`${field}.width`, `expected >= 0, got ${box.width}`);
  if (box.height < 0) throw new InvalidArgumentError(`${field}.height`, `expected >= 0, got ${box.height}`);
  if (box.probability < 0 || box.probability > 1) {
    throw new InvalidArgumentError(`${field}.probability`, `expected a value in [0, 1], got ${box.probability}`);
  }
}

/** Throws {@link InvalidArgumentError} naming the first malformed field of a page. */
export function checkPage(page: ClassifiedPage, field: string): void {
  for (const name of ['width', 'height'] as const) {
    const value = page[name];
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new InvalidArgumentError(`${field}.${name}`, `expected a positive page size, got ${String(value)}`);
    }
  }
  page.boxes.forEach((box, i) => checkBox(box, `${field}.boxes[${i}]`));
}
