import { before, describe, it } from 'node:test';

import { checkFullSizeForward, useWasm } from './helpers.js';

describe('full-size efficientnet-b4', () => {
  before(useWasm);

  it('builds and runs a forward pass at batch 1 on a 190 px input', () => checkFullSizeForward('efficientnet-b4', 190));
});
