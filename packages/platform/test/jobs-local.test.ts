import { jobRunnerContract } from './contracts/job-runner-contract.js';

import { LocalJobRunner } from '@kzr/platform';

jobRunnerContract('local processes', {
  open: async () => new LocalJobRunner({ retryDelayMs: 50 }),
});
