import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { readSharedText } from './shared-data.js';

import {
  bookIdOf,
  buildClassMap,
  countPagesByBook,
  InvalidArgumentError,
  parseUnicodeTranslation,
  requireBookId,
} from '@kzr/core';

function readList(name: string): string[] {
  return readSharedText(`kaggle/lists/${name}`)
    .split('\n')
    .filter((line) => line !== '');
}

describe('book ids', () => {
  it('reads numeric and letter prefixes and finds no book in test ids', () => {
    assert.equal(bookIdOf('100241706_00004_2'), '100241706');
    assert.equal(bookIdOf('200021660-00075_1'), '200021660');
    assert.equal(bookIdOf('brsk004-014'), 'brsk');
    assert.equal(bookIdOf('umgy001-001'), 'umgy');
    assert.equal(bookIdOf('test_3a49bd0a'), undefined);
    assert.equal(bookIdOf('brsk'), undefined);
    assert.equal(bookIdOf('123'), undefined);
    assert.throws(
      () => requireBookId('test_3a49bd0a'),
      (err: unknown) => err instanceof InvalidArgumentError && err.kind === 'invalid' && err.field === 'pageId',
    );
  });

  it('counts the 28 train books of spec §1.2 with their page counts', () => {
    const counts = countPagesByBook(readList('train_images.list'));
    assert.equal(counts.size, 28);
    assert.equal(
      [...counts.values()].reduce((a, b) => a + b, 0),
      3881,
    );
    const entries = [...counts];
    assert.deepEqual(entries.slice(0, 5), [
      ['hnsd', 515],
      ['umgy', 496],
      ['200003076', 346],
      ['200015779', 279],
      ['brsk', 228],
    ]);
    assert.equal(counts.get('200014740'), 180);
    assert.equal(counts.get('200003967'), 83);
    assert.deepEqual(entries.at(-1), ['200006663', 12]);
  });

  it('counts the 5 val books of spec §1.2', () => {
    const counts = countPagesByBook(readList('val_images.list'));
    assert.deepEqual(
      [...counts],
      [
        ['200003076', 346],
        ['brsk', 228],
        ['200014740', 180],
        ['200003967', 83],
        ['200006663', 12],
      ],
    );
  });

  it('refuses test ids when counting books', () => {
    assert.throws(() => countPagesByBook(readList('test_images.list').slice(0, 3)), InvalidArgumentError);
  });
});

describe('class map', () => {
  it('has the 4212 train classes in Python string-sort order', () => {
    const translation = parseUnicodeTranslation(readSharedText('kaggle/unicode_translation_only_train.csv'));
    const map = buildClassMap(translation.keys());
    assert.equal(map.size, 4212);
    const i2000b = map.requireIndex('U+2000B');
    const i3042 = map.requireIndex('U+3042');
    assert.ok(i2000b < i3042, `U+2000B at ${i2000b} must come before U+3042 at ${i3042}`);
    assert.equal(map.codeAt(0), 'U+003F');
    for (let i = 1; i < map.size; i++) assert.ok(map.codeAt(i - 1) < map.codeAt(i));
    const hiragana = map.codes.filter((c) => {
      const cp = Number.parseInt(c.slice(2), 16);
      return cp >= 0x3040 && cp <= 0x309f;
    });
    assert.equal(hiragana.length, 80);
    assert.equal(map.indexOf('U+0000'), undefined);
    assert.throws(() => map.requireIndex('U+0000'), InvalidArgumentError);
    assert.throws(() => map.codeAt(4212), InvalidArgumentError);
  });

  it('collapses duplicates and does not depend on input order', () => {
    const a = buildClassMap(['U+3042', 'U+2000B', 'U+3042', 'U+003F']);
    const b = buildClassMap(['U+003F', 'U+3042', 'U+2000B']);
    assert.deepEqual(a.codes, ['U+003F', 'U+2000B', 'U+3042']);
    assert.deepEqual(b.codes, a.codes);
  });
});
