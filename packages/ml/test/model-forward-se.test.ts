import { before, describe, it } from 'node:test';

import { checkFullSizeForward, useWasm } from './helpers.js';

describe('full-size se_resnext101_32x4d', () => {
  before(useWasm);

  it('builds and runs a forward pass at batch 1 on a 112 px input', () =>
    checkFullSizeForward('se_resnext101_32x4d', 112));
});
