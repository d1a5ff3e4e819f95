import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { readSharedText } from './shared-data.js';

import {
  codhToPageLabels,
  formatCropList,
  formatDetectionSet,
  formatSubmissionCsv,
  formatTrainCsv,
  formatUnicodeTranslation,
  parseCodhCoordinates,
  parseCropList,
  parseDetectionSet,
  parseSubmissionCsv,
  parseTrainCsv,
  parseUnicodeTranslation,
  ParseError,
  type DetectionSet,
} from '@kzr/core';

function assertParseError(fn: () => unknown, expected: { file?: string; line?: number; field: string }): ParseError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ParseError, `expected a ParseError, got ${String(err)}`);
    assert.equal(err.kind, 'invalid');
    assert.equal(err.field, expected.field);
    if (expected.file !== undefined) assert.equal(err.file, expected.file);
    if (expected.line !== undefined) assert.equal(err.line, expected.line);
    assert.ok(err.message.includes(expected.field), err.message);
    return err;
  }
  assert.fail('expected a ParseError');
}

describe('train.csv', () => {
  it('parses the real CODH-derived row and round-trips byte for byte', () => {
    const text = readSharedText('codh/100241706_00004_2.train-row.csv');
    const pages = parseTrainCsv(text, 'train-row.csv');
    assert.equal(pages.length, 1);
    assert.equal(pages[0]!.pageId, '100241706_00004_2');
    assert.equal(pages[0]!.labels.length, 67);
    assert.deepEqual(pages[0]!.labels[0], { code: 'U+81EA', x: 1852, y: 1736, width: 104, height: 219 });
    assert.equal(formatTrainCsv(pages), text);
  });

  it('accepts empty pages, CRLF line ends and a missing final newline', () => {
    const pages = parseTrainCsv('image_id,labels\r\nbrsk001-002,\r\nhnsd003-004,U+3042 1 2 3 4');
    assert.deepEqual(pages, [
      { pageId: 'brsk001-002', labels: [] },
      { pageId: 'hnsd003-004', labels: [{ code: 'U+3042', x: 1, y: 2, width: 3, height: 4 }] },
    ]);
    assert.equal(formatTrainCsv(pages), 'image_id,labels\nbrsk001-002,\nhnsd003-004,U+3042 1 2 3 4\n');
  });

  it('names file, line and field for every kind of bad input', () => {
    const f = 'train.csv';
    assertParseError(() => parseTrainCsv('', f), { file: f, line: 1, field: 'header' });
    assertParseError(() => parseTrainCsv('id,labels\n', f), { file: f, line: 1, field: 'header' });
    assertParseError(() => parseTrainCsv('image_id,labels\na_1\n', f), { file: f, line: 2, field: 'labels' });
    assertParseError(() => parseTrainCsv('image_id,labels\na_1,,\n', f), { line: 2, field: 'line' });
    assertParseError(() => parseTrainCsv('image_id,labels\n,U+3042 1 2 3 4\n', f), { line: 2, field: 'image_id' });
    assertParseError(() => parseTrainCsv('image_id,labels\na_1,U+3042 1 2 3\n', f), { line: 2, field: 'labels' });
    assertParseError(() => parseTrainCsv('image_id,labels\na_1,U+3042  1 2 3 4\n', f), { line: 2, field: 'labels' });
    assertParseError(() => parseTrainCsv('image_id,labels\na_1,u+3042 1 2 3 4\n', f), {
      line: 2,
      field: 'labels[0].code',
    });
    assertParseError(() => parseTrainCsv('image_id,labels\na_1,U+3042 1 2 3 4 U+3044 1 2 x 4\n', f), {
      line: 2,
      field: 'labels[1].width',
    });
    assertParseError(() => parseTrainCsv('image_id,labels\na_1,U+3042 1 -2 3 4\n', f), { field: 'labels[0].y' });
    assertParseError(() => parseTrainCsv('image_id,labels\na_1,U+3042 1 2 3 0\n', f), { field: 'labels[0].height' });
    assertParseError(() => parseTrainCsv('image_id,labels\na_1,U+3042 1.5 2 3 4\n', f), { field: 'labels[0].x' });
    assertParseError(() => parseTrainCsv('image_id,labels\na_1,\n\nb_2,\n', f), { line: 3, field: 'line' });
    assertParseError(() => parseTrainCsv('image_id,labels\na_1,\nb_2,\na_1,\n', f), { line: 4, field: 'image_id' });
    assertParseError(() => parseTrainCsv('image_id,labels\n"a_1",\n', f), { line: 2, field: 'line' });
  });

  it('refuses to write what it could not read back', () => {
    assert.throws(() => formatTrainCsv([{ pageId: 'a,b', labels: [] }]), ParseError);
    assert.throws(
      () => formatTrainCsv([{ pageId: 'a_1', labels: [{ code: 'U+3042', x: 0.5, y: 0, width: 1, height: 1 }] }]),
      /labels\[0\]\.x/,
    );
  });
});

describe('submission CSV', () => {
  it('round-trips triples and empty pages', () => {
    const text = 'image_id,labels\ntest_00000000,U+3042 10 20 U+2000B 30 40\ntest_00000001,\n';
    const pages = parseSubmissionCsv(text);
    assert.deepEqual(pages[0]!.points, [
      { code: 'U+3042', x: 10, y: 20 },
      { code: 'U+2000B', x: 30, y: 40 },
    ]);
    assert.deepEqual(pages[1]!.points, []);
    assert.equal(formatSubmissionCsv(pages), text);
  });

  it('rejects broken triples with line and field', () => {
    assertParseError(() => parseSubmissionCsv('image_id,labels\nt_1,U+3042 10\n', 'sub.csv'), {
      file: 'sub.csv',
      line: 2,
      field: 'labels',
    });
    assertParseError(() => parseSubmissionCsv('image_id,labels\nt_1,U+3042 10 y\n'), { line: 2, field: 'labels[0].y' });
  });
});

describe('unicode_translation.csv', () => {
  it('reads the real Kaggle file, keeps non-identity characters, and round-trips it', () => {
    const text = readSharedText('kaggle/unicode_translation.csv');
    const map = parseUnicodeTranslation(text, 'unicode_translation.csv');
    assert.equal(map.size, 4787);
    assert.equal(map.get('U+3042'), 'あ');
    assert.equal(map.get('U+3007'), '0');
    assert.equal(formatUnicodeTranslation(map), text);
  });

  it('rejects duplicates, empty characters and bad codes', () => {
    assertParseError(() => parseUnicodeTranslation('Unicode,char\nU+3042,あ\nU+3042,あ\n', 'u.csv'), {
      file: 'u.csv',
      line: 3,
      field: 'Unicode',
    });
    assertParseError(() => parseUnicodeTranslation('Unicode,char\nU+3042,\n'), { line: 2, field: 'char' });
    assertParseError(() => parseUnicodeTranslation('Unicode,char\nX+3042,a\n'), { line: 2, field: 'Unicode' });
    assertParseError(() => parseUnicodeTranslation('unicode,char\n'), { line: 1, field: 'header' });
  });
});

describe('crop lists', () => {
  it('keeps duplicated rows and round-trips', () => {
    const text = 'U+3042,input/crops/U+3042/a_1_0.png\nU+3042,input/crops/U+3042/a_1_0.png\n';
    const entries = parseCropList(text);
    assert.equal(entries.length, 2);
    assert.deepEqual(entries[0], { code: 'U+3042', path: 'input/crops/U+3042/a_1_0.png' });
    assert.equal(formatCropList(entries), text);
  });

  it('rejects a header line and empty paths', () => {
    assertParseError(() => parseCropList('label,path\n', 'c.csv'), { file: 'c.csv', line: 1, field: 'label' });
    assertParseError(() => parseCropList('U+3042,\n'), { line: 1, field: 'path' });
  });
});

describe('CODH coordinates', () => {
  it('converts the real page to the Kaggle form equal to its train-row fixture', () => {
    const chars = parseCodhCoordinates(readSharedText('codh/100241706_00004_2.coordinate.csv'));
    assert.equal(chars.length, 67);
    assert.equal(chars[0]!.charId, 'C0001');
    assert.equal(chars[66]!.blockId, 'B0001');
    const pages = codhToPageLabels(chars);
    assert.equal(formatTrainCsv(pages), readSharedText('codh/100241706_00004_2.train-row.csv'));
  });

  it('groups a whole book by page in first-seen order', () => {
    const header = 'Unicode,Image,X,Y,Block ID,Char ID,Width,Height\n';
    const rows = 'U+3042,b_2,1,2,B0001,C0001,3,4\nU+3044,b_1,5,6,B0001,C0001,7,8\nU+3046,b_2,9,9,B0001,C0002,1,1\n';
    const pages = codhToPageLabels(parseCodhCoordinates(header + rows));
    assert.deepEqual(
      pages.map((p) => [p.pageId, p.labels.map((l) => l.code)]),
      [
        ['b_2', ['U+3042', 'U+3046']],
        ['b_1', ['U+3044']],
      ],
    );
  });

  it('rejects a bad width with line and field', () => {
    const text = 'Unicode,Image,X,Y,Block ID,Char ID,Width,Height\nU+3042,b_1,1,2,B0001,C0001,0,4\n';
    assertParseError(() => parseCodhCoordinates(text, 'coord.csv'), { file: 'coord.csv', line: 2, field: 'Width' });
  });
});

describe('detection-set JSON', () => {
  const set: DetectionSet = {
    version: 1,
    name: 'det-060000',
    pages: [
      {
        pageId: '100241706_00004_2',
        width: 2000,
        height: 3000,
        detections: [
          { x: 10.5, y: 20, width: 30, height: 40, score: 0.98 },
          { x: 0, y: 0, width: 5, height: 5, score: 0.06 },
        ],
      },
      { pageId: 'test_3a49bd0a', width: 10, height: 10, detections: [] },
    ],
  };

  it('round-trips and formats deterministically', () => {
    const text = formatDetectionSet(set);
    assert.deepEqual(parseDetectionSet(text), set);
    assert.equal(formatDetectionSet(parseDetectionSet(text)), text);
    assert.equal(formatDetectionSet({ version: 1, name: 'x', pages: [] }), '{"version":1,"name":"x","pages":[]}\n');
  });

  it('names the field path of schema errors', () => {
    const bad = (mutate: (s: Record<string, unknown>) => void): string => {
      const copy = JSON.parse(JSON.stringify(set)) as Record<string, unknown>;
      mutate(copy);
      return JSON.stringify(copy);
    };
    type Pages = Array<Record<string, unknown> & { detections: Array<Record<string, unknown>> }>;
    assertParseError(
      () =>
        parseDetectionSet(
          bad((s) => (s['version'] = 2)),
          'd.json',
        ),
      {
        file: 'd.json',
        field: 'version',
      },
    );
    assertParseError(() => parseDetectionSet(bad((s) => (s['name'] = ''))), { field: 'name' });
    assertParseError(() => parseDetectionSet(bad((s) => ((s['pages'] as Pages)[0]!.detections[1]!['score'] = '1'))), {
      field: 'pages[0].detections[1].score',
    });
    assertParseError(() => parseDetectionSet(bad((s) => ((s['pages'] as Pages)[0]!.detections[0]!['width'] = -1))), {
      field: 'pages[0].detections[0].width',
    });
    assertParseError(() => parseDetectionSet(bad((s) => ((s['pages'] as Pages)[1]!['width'] = 0))), {
      field: 'pages[1].width',
    });
    assertParseError(() => parseDetectionSet(bad((s) => ((s['pages'] as Pages)[1]!['pageId'] = '100241706_00004_2'))), {
      field: 'pages[1].pageId',
    });
    assertParseError(() => parseDetectionSet(bad((s) => ((s['pages'] as Pages)[0]!['extra'] = 1))), {
      field: 'pages[0].extra',
    });
    assertParseError(() => parseDetectionSet(bad((s) => delete (s['pages'] as Pages)[0]!.detections[0]!['x'])), {
      field: 'pages[0].detections[0].x',
    });
  });

  it('reports malformed JSON as a parse error of field json', () => {
    assertParseError(() => parseDetectionSet('{"version": 1,\n "name": }', 'd.json'), {
      file: 'd.json',
      field: 'json',
    });
  });
});
