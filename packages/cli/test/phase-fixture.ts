/**
 * A stand-in for `kzr phase run` in the controller's tests: the real phase entrypoint
 * (`runPhase`: cache check, manifest, cache entry, failure report) with small bodies instead of
 * the pipeline's, so that a whole run takes seconds. The tests run its compiled form
 * (`dist/test/phase-fixture.js`, what `npm run build` writes) as each phase Job's command.
 *
 * Every body writes one member naming its phase and the sha256 of its input manifests. A
 * training phase (`first-train`) runs `FIXTURE_EPOCHS` epochs (default 1) of `FIXTURE_EPOCH_MS`
 * each, writing `latest.json` after each one as ml's trainer does; `--resume` starts after it.
 */
import { parseArgs } from 'node:util';

import { readPhaseMember, writePhaseMember } from '@kzr/artifacts';
import { phaseId, PhaseName } from '@kzr/pipeline';
import { createLogger, openAdapters } from '@kzr/platform';
import { checkpointEpoch } from '@kzr/trainer';

import { compileEmbeddedConfig } from '../src/config.js';
import type { PhaseBody } from '../src/phases/context.js';
import { runPhase } from '../src/runs/phase-entry.js';

const body: PhaseBody = async (ctx) => {
  const inputs = Object.fromEntries([...ctx.inputs].map(([id, input]) => [id, input.manifest.inputHash]));
  const summary: Record<string, unknown> = {};
  if (ctx.node.phase === PhaseName.FirstTrain) {
    const epochs = Number(process.env.FIXTURE_EPOCHS ?? 1);
    const startEpoch = ctx.resume ? ((await checkpointEpoch(ctx.store, ctx.run, ctx.node.id)) ?? 0) + 1 : 1;
    for (let epoch = startEpoch; epoch <= epochs; epoch++) {
      await new Promise((resolve) => setTimeout(resolve, Number(process.env.FIXTURE_EPOCH_MS ?? 0)));
      await writePhaseMember(ctx.store, ctx.run, ctx.node.id, 'latest.json', Buffer.from(JSON.stringify({ epoch })));
      ctx.progress({ type: 'epoch', epoch });
    }
    Object.assign(summary, { startEpoch, epochs });
  }
  // A phase reads what it depends on, as a real one does.
  for (const [, input] of ctx.inputs) {
    for (const member of input.manifest.members) await readPhaseMember(ctx.store, input.key, member);
  }
  const out = await writePhaseMember(
    ctx.store,
    ctx.run,
    ctx.node.id,
    'out.json',
    Buffer.from(JSON.stringify({ phase: ctx.node.id, dataset: ctx.dataset, inputs })),
  );
  return { members: [out], summary };
};

// Called as `phase-fixture.js phase run --run ...`, like kzr.
const { values } = parseArgs({
  args: process.argv.slice(4),
  options: {
    run: { type: 'string' },
    phase: { type: 'string' },
    model: { type: 'string' },
    attempt: { type: 'string' },
    resume: { type: 'boolean' },
  },
});
const config = compileEmbeddedConfig(process.env);
const logger = createLogger({ level: 'warn' });
const adapters = await openAdapters(config.adapters, { logger, source: 'phase-fixture' });
try {
  await runPhase({
    store: adapters.store,
    bus: adapters.bus,
    logger,
    run: values.run!,
    phase: phaseId(values.phase as PhaseName, values.model),
    attempt: Number(values.attempt ?? 1),
    resume: values.resume === true,
    dataDir: config.dataDir,
    signal: new AbortController().signal,
    loadBody: () => Promise.resolve(body),
    print: (line) => process.stdout.write(`${JSON.stringify(line)}\n`),
  });
} catch (err) {
  process.stderr.write(`phase-fixture: ${String(err)}\n`);
  process.exitCode = 1;
} finally {
  await adapters.close();
}
