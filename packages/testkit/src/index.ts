export { checkHealth, listServicesByReflection } from './grpc-clients.js';
export { firstJsonLine, waitForExit } from './process.js';
