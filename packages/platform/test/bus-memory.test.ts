import { busContract } from './contracts/bus-contract.js';

import { createLogger, MemoryBus } from '@kzr/platform';

let current = new MemoryBus();

busContract('in-process', {
  reset: async () => {
    await current.close();
    current = new MemoryBus({ source: 'contract-test', logger: createLogger({ level: 'error' }) });
  },
  // Replicas in one process share the one bus (the embedded mode has a single bus).
  connect: async () => {
    const bus = current;
    return {
      kind: bus.kind,
      publish: (s, e, o) => bus.publish(s, e, o),
      consume: (o, h) => bus.consume(o, h),
      request: (s, p, o) => bus.request(s, p, o),
      respond: (s, h) => bus.respond(s, h),
      close: async () => {},
      [Symbol.asyncDispose]: async () => {},
    };
  },
  publishRaw: async (subject, body, id) => {
    current.publishRaw(subject, body, id);
  },
});
