import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ErrorKind, exitCodeOf, failureText, KzrError, parseSubmissionCsv } from '@kzr/core';
import { DataArgumentError } from '@kzr/data';
import { ParamError } from '@kzr/gbdt';
import { decodeImage } from '@kzr/imaging';
import { MlValidationError, NonFiniteLossError } from '@kzr/ml';
import { NotFoundError, readInt } from '@kzr/platform';

async function thrownBy(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  return assert.fail('expected a throw');
}

describe('kzr exit codes', () => {
  it("exits 2 with the one-line 'field: problem' for bad input of any package, read from the error's kind", async () => {
    const decode = await thrownBy(() => decodeImage(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]), { field: '<in>' }));
    const parse = await thrownBy(() => parseSubmissionCsv('image_id,labels\np_1,U+3042 1 y\n', 'sub.csv'));
    const config = await thrownBy(() => readInt({ KZR_GRPC_PORT: 'eighty' }, 'KZR_GRPC_PORT', 0, 65535));
    const cases: Array<[unknown, RegExp]> = [
      [decode, /^<in>: corrupt jpeg image/],
      [parse, /^sub\.csv:2: labels\[0\]\.y: /],
      [config, /^KZR_GRPC_PORT="eighty" is invalid: expected an integer in \[0, 65535\]$/],
      [new DataArgumentError('options.books', 'expected an integer in [1, 10000], got 0'), /^options\.books: expected/],
      [new ParamError('num_leaves', 'expected an integer >= 2'), /^num_leaves: expected an integer >= 2$/],
      [new MlValidationError('config.arch', 'unknown architecture "vgg"'), /^config\.arch: unknown architecture/],
    ];
    for (const [err, text] of cases) {
      assert.equal(exitCodeOf(err), 2, String(err));
      assert.match(failureText(err), text);
    }
  });

  it('exits 1 with the message for other kzr failures, and with the stack for anything else', () => {
    const missing = new NotFoundError('filter version "v9"');
    assert.equal(exitCodeOf(missing), 1);
    assert.equal(failureText(missing), 'filter version "v9" not found');
    assert.equal(exitCodeOf(new KzrError(ErrorKind.Unavailable, 'nats down')), 1);

    const bug = new TypeError('x is undefined');
    assert.equal(exitCodeOf(bug), 1);
    assert.match(failureText(bug), /^TypeError: x is undefined\n\s+at /);
    // An internal kzr error is a bug too: its stack is printed.
    assert.match(
      failureText(new NonFiniteLossError(0, 3, Number.NaN)),
      /^NonFiniteLossError: training loss became NaN.*\n\s+at /,
    );
    // A lookalike carries no kind kzr trusts.
    assert.equal(exitCodeOf(Object.assign(new Error('x: bad'), { kind: 'invalid' })), 1);
    assert.equal(exitCodeOf('thrown text'), 1);
    assert.equal(failureText('thrown text'), 'thrown text');
  });
});
