import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  ErrorKind,
  errorKindOf,
  IntegrityCheck,
  IntegrityError,
  InvalidArgumentError,
  KzrError,
  parseTrainCsv,
  ParseError,
  requireBookId,
} from '@kzr/core';

describe('KzrError', () => {
  it('carries kind, field and cause, and is retryable by default only when unavailable or past a deadline', () => {
    const cause = new Error('socket closed');
    const err = new KzrError(ErrorKind.Unavailable, 'store down', { cause, field: 'store' });
    assert.equal(err.kind, 'unavailable');
    assert.equal(err.field, 'store');
    assert.equal(err.cause, cause);
    assert.equal(err.message, 'store down');
    assert.equal(err.name, 'KzrError');
    assert.equal(err.retryable, true);
    assert.equal(new KzrError(ErrorKind.Deadline, 'late').retryable, true);
    for (const kind of [ErrorKind.Invalid, ErrorKind.NotFound, ErrorKind.Conflict, ErrorKind.Internal]) {
      assert.equal(new KzrError(kind, kind).retryable, false, kind);
    }
    assert.equal(new KzrError(ErrorKind.Unavailable, 'gone for good', { retryable: false }).retryable, false);
    const plain = new KzrError(ErrorKind.Internal, 'bug');
    assert.equal(plain.field, undefined);
    assert.equal('cause' in plain, false);
  });

  it('reads the kind of any thrown value; whatever is not a KzrError is internal', () => {
    assert.equal(errorKindOf(new InvalidArgumentError('n', 'negative')), 'invalid');
    assert.equal(errorKindOf(new KzrError(ErrorKind.NotFound, 'model set "x" not found')), 'not-found');
    // A lookalike is not trusted: kinds come from the class, not from a property that happens to match.
    assert.equal(errorKindOf(Object.assign(new Error('x'), { kind: 'invalid' })), 'internal');
    assert.equal(errorKindOf('boom'), 'internal');
  });
});

describe('the error classes of core', () => {
  it('are KzrErrors of kind invalid naming their field, with the cause passed through', () => {
    const cause = new RangeError('inner');
    const arg = new InvalidArgumentError('options.valBook', 'is empty', { cause });
    assert.ok(arg instanceof KzrError && arg instanceof Error);
    assert.deepEqual(
      [arg.kind, arg.field, arg.problem, arg.retryable],
      ['invalid', 'options.valBook', 'is empty', false],
    );
    assert.equal(arg.message, 'options.valBook: is empty');
    assert.equal(arg.cause, cause);

    const parse = new ParseError({ file: 'train.csv', line: 3, field: 'labels[0].x' }, 'expected a number', { cause });
    assert.ok(parse instanceof KzrError);
    assert.deepEqual([parse.kind, parse.field, parse.file, parse.line], ['invalid', 'labels[0].x', 'train.csv', 3]);
    assert.equal(parse.message, 'train.csv:3: labels[0].x: expected a number');
    assert.equal(parse.cause, cause);
  });

  it('are told apart by class: `is` narrows to the class it is called on and its subclasses', () => {
    class ShardError extends InvalidArgumentError {}
    const shard = new ShardError('shard', 'truncated');
    assert.equal(InvalidArgumentError.is(shard), true);
    assert.equal(ShardError.is(shard), true);
    assert.equal(KzrError.is(shard), true);
    assert.equal(ParseError.is(shard), false);
    assert.equal(ShardError.is(new InvalidArgumentError('shard', 'truncated')), false);
    assert.equal(KzrError.is(new Error('plain')), false);
  });

  it('come from the parsers and checks of core as such', () => {
    assert.throws(
      () => parseTrainCsv('image_id,labels\np_1,U+3042 1 x 2 2\n', 'train.csv'),
      (err: unknown) => {
        assert.ok(ParseError.is(err));
        assert.equal(errorKindOf(err), 'invalid');
        assert.equal(err.file, 'train.csv');
        return true;
      },
    );
    assert.throws(() => requireBookId('test_3a49bd0a'), InvalidArgumentError);
  });
});

describe('IntegrityError', () => {
  it('names the object, the check and both values; not retryable', () => {
    const err = new IntegrityError('models/k/v1/a.bin', IntegrityCheck.Sha256, 'ab'.repeat(32), 'cd'.repeat(32));
    assert.ok(err instanceof KzrError);
    assert.deepEqual(
      [err.kind, err.field, err.check, err.retryable],
      ['internal', 'models/k/v1/a.bin', 'sha256', false],
    );
    assert.equal(
      err.message,
      `models/k/v1/a.bin: sha256 mismatch: expected ${'ab'.repeat(32)}, got ${'cd'.repeat(32)}`,
    );
    assert.equal(err.url, undefined);
  });

  it('adds where a download came from and what to do about it', () => {
    const err = new IntegrityError('k49-test-imgs.npz', IntegrityCheck.Size, '100', '15', {
      url: 'http://127.0.0.1:1/k49/k49-test-imgs.npz',
      hint: 'use another mirror',
    });
    assert.equal(err.url, 'http://127.0.0.1:1/k49/k49-test-imgs.npz');
    assert.equal(
      err.message,
      'k49-test-imgs.npz: size mismatch: expected 100, got 15 (from http://127.0.0.1:1/k49/k49-test-imgs.npz); ' +
        'use another mirror',
    );
  });
});
