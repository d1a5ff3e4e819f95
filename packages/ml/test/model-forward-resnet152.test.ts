import { before, describe, it } from 'node:test';

import { checkFullSizeForward, useWasm } from './helpers.js';

describe('full-size resnet152', () => {
  before(useWasm);

  it('builds and runs a forward pass at batch 1 on a 112 px input', () => checkFullSizeForward('resnet152', 112));
});
