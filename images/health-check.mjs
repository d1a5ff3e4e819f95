// Checks gRPC health (grpc.health.v1 Check) of one or more endpoints and exits 0 only when every
// one answers SERVING: the chart's `helm test` pod and images/build-cpu.sh's smoke run use it.
// Usage: node images/health-check.mjs HOST:PORT[/SERVICE] ...   (no SERVICE: the overall health)
import process from 'node:process';

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath } from 'grpc-health-check';

const deadlineMs = 5000;
const targets = process.argv.slice(2);
if (targets.length === 0) {
  process.stderr.write('usage: node images/health-check.mjs HOST:PORT[/SERVICE] ...\n');
  process.exit(2);
}
const { Health } = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath, { enums: String })).grpc.health.v1;

/** The status one target reports, or the error that kept it from answering. */
function check(target) {
  const [endpoint, service = ''] = target.split('/');
  const client = new Health(endpoint, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.Check({ service }, { deadline: Date.now() + deadlineMs }, (err, res) => {
      client.close();
      resolve(err ? `error: ${err.details || err.message}` : res.status);
    });
  });
}

const statuses = await Promise.all(targets.map(check));
targets.forEach((target, i) => process.stdout.write(`${target} ${statuses[i]}\n`));
process.exitCode = statuses.every((s) => s === 'SERVING') ? 0 : 1;
