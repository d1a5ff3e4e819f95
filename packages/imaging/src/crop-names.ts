/**
 * The one name of a character crop file (spec §1.3, upstream `<image_id>_<k>.png`):
 * `U+XXXX/<pageId>_<k>.png` relative to a crop folder, k = the character's index in its page's
 * labels. `kzr preprocess crops` writes crops under this name and `kzr data split` lists them by
 * it, so a split's crop lists name files that exist.
 */
export function cropFileName(code: string, pageId: string, index: number): string {
  return `${code}/${pageId}_${index}.png`;
}
