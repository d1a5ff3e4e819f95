import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { KubernetesApiStandIn } from '@kzr/testkit';
import { KubeConfig } from '@kubernetes/client-node';
import { Job } from 'kubernetes-models/batch/v1/Job';

import { jobRunnerContract } from './contracts/job-runner-contract.js';
import { sleep } from './contracts/wait.js';

import { buildJobManifest, JobPhase, KubernetesJobRunner, runLabel } from '@kzr/platform';

let api: KubernetesApiStandIn;
before(async () => {
  api = await KubernetesApiStandIn.start({ restartDelayMs: 50 });
});
after(async () => {
  await api?.cleanup();
});

function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(api.kubeconfig('ml'));
  return kc;
}

jobRunnerContract('Kubernetes batch/v1 (official client against the API stand-in)', {
  open: async () => new KubernetesJobRunner({ kubeConfig: kubeConfig(), rewatchDelayMs: 50 }),
});

describe('Kubernetes JobRunner', () => {
  it('sends Job bodies that validate with kubernetes-models, GPUs as nvidia.com/gpu limits', async () => {
    await using runner = new KubernetesJobRunner({ kubeConfig: kubeConfig(), serviceAccountName: 'kzr-trainer' });
    const spec = {
      name: 'gpu-train-1',
      image: 'ghcr.io/kzr/trainer:1',
      command: [process.execPath, '-e', '0', '--'],
      args: ['--phase', 'first-train'],
      env: { KZR_RUN: 'r1' },
      resources: { cpu: '4', memory: '16Gi', gpu: 2 },
      backoffLimit: 3,
      activeDeadlineSeconds: 7200,
      labels: { [runLabel]: 'r1', 'kzr.io/phase': 'first-train' },
    };
    assert.equal(runner.namespace, 'ml');
    await runner.run(spec);
    assert.equal((await runner.wait(spec.name)).phase, JobPhase.Succeeded);
    const stored = api.jobs().find((j) => j.metadata.name === spec.name)!;
    const container =
      (stored.spec.template.spec.containers[0] as { resources?: { limits?: Record<string, string> } }) ?? {};
    assert.equal(container.resources?.limits?.['nvidia.com/gpu'], '2');
    // The body the client sent (without the server's status) is a valid batch/v1 Job.
    const { status: _status, ...sent } = stored;
    assert.doesNotThrow(() => new Job(sent as ConstructorParameters<typeof Job>[0]).validate());
    assert.doesNotThrow(() => new Job(buildJobManifest(spec, 'ml') as ConstructorParameters<typeof Job>[0]).validate());
    // And the validator does catch a broken body.
    const broken = { ...buildJobManifest(spec, 'ml'), spec: { backoffLimit: 1.5 } };
    assert.throws(
      () => new Job(broken as unknown as ConstructorParameters<typeof Job>[0]).validate(),
      /template|backoffLimit/,
    );
  });

  it('keeps waiting across a dropped watch stream and sees the job finish', async () => {
    await using runner = new KubernetesJobRunner({ kubeConfig: kubeConfig(), rewatchDelayMs: 50 });
    const name = 'watch-drop-1';
    await runner.run({ name, image: 'x', command: [process.execPath, '-e', 'setTimeout(() => {}, 1200)'] });
    const before = api.watchRequests;
    const waiting = runner.wait(name);
    await sleep(300);
    api.dropWatches();
    await sleep(200);
    api.dropWatches();
    const done = await waiting;
    assert.equal(done.phase, JobPhase.Succeeded);
    assert.ok(api.watchRequests - before >= 3, `watched ${api.watchRequests - before} times`);
  });
});
