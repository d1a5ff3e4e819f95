import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import type { V1Job } from '@kubernetes/client-node';
import { KubernetesApiStandIn } from '@kzr/testkit';
import { Job } from 'kubernetes-models/batch/v1/Job';

import {
  buildJobManifest,
  compileAdapterConfig,
  createLogger,
  JobPhase,
  type JobSpec,
  openAdapters,
  readJobTemplate,
  runLabel,
  ValidationError,
} from '@kzr/platform';

// What the Helm chart mounts: the cluster's side of every phase Job.
const templateYaml = `# the phase Job template
apiVersion: batch/v1
kind: Job
metadata:
  labels:
    app.kubernetes.io/name: kzr
    app.kubernetes.io/component: phase
  annotations:
    kzr.io/chart: kzr-0.1.0
spec:
  backoffLimit: 2
  activeDeadlineSeconds: 86400
  ttlSecondsAfterFinished: 3600
  template:
    metadata:
      labels:
        app.kubernetes.io/name: kzr
    spec:
      serviceAccountName: kzr-phase
      nodeSelector:
        kzr.io/pool: training
      tolerations:
        - key: nvidia.com/gpu
          operator: Exists
          effect: NoSchedule
      securityContext:
        runAsNonRoot: true
        runAsUser: 1000
      volumes:
        - name: tmp
          emptyDir: {}
      containers:
        - name: phase
          image: ghcr.io/kzr/kzr:0.1.0-gpu
          env:
            - name: KZR_STORE
              value: s3
            - name: KZR_S3_ENDPOINT
              value: http://minio:9000
            - name: KZR_NATS_URL
              value: nats://nats:4222
            - name: KZR_LOG_LEVEL
              value: info
            - name: KZR_S3_SECRET_KEY
              valueFrom:
                secretKeyRef:
                  name: kzr-s3
                  key: secret-key
          envFrom:
            - configMapRef:
                name: kzr-env
          resources:
            requests:
              cpu: "2"
              memory: 8Gi
              nvidia.com/gpu: "1"
            limits:
              memory: 8Gi
              nvidia.com/gpu: "1"
          volumeMounts:
            - name: tmp
              mountPath: /tmp
`;

function phaseSpec(phase: string, overrides: Partial<JobSpec> = {}): JobSpec {
  return {
    name: `r1-${phase}-a1`,
    image: 'kzr',
    command: ['node', '--conditions=production', '/app/packages/cli/bin/kzr.js'],
    args: ['phase', 'run', '--run', 'r1', '--phase', phase, '--attempt', '1'],
    env: { KZR_LOG_LEVEL: 'debug', KZR_RUN: 'r1' },
    labels: { [runLabel]: 'r1', 'kzr.io/phase': phase },
    ...overrides,
  };
}

function validate(body: V1Job): void {
  new Job(body as ConstructorParameters<typeof Job>[0]).validate();
}

function containerOf(body: V1Job) {
  const containers = body.spec!.template.spec!.containers;
  assert.equal(containers.length, 1);
  return containers[0]!;
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kzr-job-template-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function templateFile(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

describe('Job template', () => {
  it('reads the same Job from YAML and from JSON', async () => {
    const fromYaml = readJobTemplate(await templateFile('job.yaml', templateYaml));
    const fromJson = readJobTemplate(await templateFile('job.json', JSON.stringify(fromYaml)));
    assert.deepEqual(fromJson, fromYaml);
    assert.equal(fromYaml.spec?.template.spec?.containers[0]?.image, 'ghcr.io/kzr/kzr:0.1.0-gpu');
  });

  it('refuses a bad template with one line naming the file and the field', async () => {
    const cases: Array<[string, string]> = [
      [templateYaml.replace('kind: Job', 'kind: Pod'), 'kind'],
      [templateYaml.replace('backoffLimit: 2', 'backoffLimit: -1'), 'spec.backoffLimit'],
      [
        templateYaml.replace('activeDeadlineSeconds: 86400', 'activeDeadlineSeconds: 1.5'),
        'spec.activeDeadlineSeconds',
      ],
      [templateYaml.replace('- name: phase', '- name: trainer'), 'spec.template.spec.containers[0].name'],
      [
        templateYaml.replace(
          '    spec:\n      serviceAccountName',
          '    spec:\n      restartPolicy: OnFailure\n      serviceAccountName',
        ),
        'spec.template.spec.restartPolicy',
      ],
      [templateYaml.replace('kzr.io/pool: training', 'kzr.io/pool: 3'), 'spec.template.spec.nodeSelector.kzr.io/pool'],
      [templateYaml.replace('cpu: "2"', 'cpu: 2'), 'spec.template.spec.containers[0].resources.requests.cpu'],
      [templateYaml.replace('- name: KZR_STORE', '- name: ""'), 'spec.template.spec.containers[0].env[0].name'],
      [templateYaml + '---\n' + templateYaml, '(document)'],
      ['apiVersion: batch/v1\nkind: [Job\n', '(document)'],
      ['apiVersion: batch/v1\nkind: Job\n', 'spec'],
    ];
    for (const [i, [text, field]] of cases.entries()) {
      const file = await templateFile(`bad-${i}.yaml`, text);
      assert.throws(
        () => readJobTemplate(file),
        (err) =>
          err instanceof ValidationError &&
          err.field === field &&
          err.message.includes(file) &&
          !err.message.includes('\n'),
        field,
      );
    }
    const missing = join(dir, 'missing.yaml');
    assert.throws(
      () => readJobTemplate(missing),
      (err) => err instanceof ValidationError && err.message.includes(missing),
    );
  });

  it('lays a phase over the template: labels, command, env, resources and limits merged', async () => {
    const template = readJobTemplate(await templateFile('job.yaml', templateYaml));
    const body = buildJobManifest(phaseSpec('first-train', { resources: { gpu: 2, cpu: '4' } }), 'ml', { template });
    validate(body);
    assert.equal(body.metadata?.name, 'r1-first-train-a1');
    assert.equal(body.metadata?.namespace, 'ml');
    assert.deepEqual(body.metadata?.labels, {
      'app.kubernetes.io/name': 'kzr',
      'app.kubernetes.io/component': 'phase',
      [runLabel]: 'r1',
      'kzr.io/phase': 'first-train',
    });
    assert.deepEqual(body.metadata?.annotations, { 'kzr.io/chart': 'kzr-0.1.0' });
    assert.equal(body.spec?.template.metadata?.labels?.['kzr.io/job'], 'r1-first-train-a1');
    assert.equal(body.spec?.template.metadata?.labels?.[runLabel], 'r1');
    // The template's: retries, deadline, clean-up, scheduling, security, volumes, image.
    assert.equal(body.spec?.backoffLimit, 2);
    assert.equal(body.spec?.activeDeadlineSeconds, 86400);
    assert.equal(body.spec?.ttlSecondsAfterFinished, 3600);
    const pod = body.spec!.template.spec!;
    assert.equal(pod.restartPolicy, 'Never');
    assert.equal(pod.serviceAccountName, 'kzr-phase');
    assert.deepEqual(pod.nodeSelector, { 'kzr.io/pool': 'training' });
    assert.equal(pod.tolerations?.[0]?.key, 'nvidia.com/gpu');
    assert.equal(pod.securityContext?.runAsUser, 1000);
    assert.equal(pod.volumes?.[0]?.name, 'tmp');
    const container = containerOf(body);
    assert.equal(container.name, 'phase');
    assert.equal(container.image, 'ghcr.io/kzr/kzr:0.1.0-gpu');
    assert.equal(container.volumeMounts?.[0]?.mountPath, '/tmp');
    // The spec's: command, args, env over the template's (by name, order kept).
    assert.deepEqual(container.command, ['node', '--conditions=production', '/app/packages/cli/bin/kzr.js']);
    assert.deepEqual(container.args?.slice(0, 2), ['phase', 'run']);
    assert.deepEqual(
      container.env?.map((e) => [e.name, e.value ?? (e.valueFrom ? 'secret' : undefined)]),
      [
        ['KZR_STORE', 's3'],
        ['KZR_S3_ENDPOINT', 'http://minio:9000'],
        ['KZR_NATS_URL', 'nats://nats:4222'],
        ['KZR_LOG_LEVEL', 'debug'],
        ['KZR_S3_SECRET_KEY', 'secret'],
        ['KZR_RUN', 'r1'],
      ],
    );
    assert.equal(container.envFrom?.[0]?.configMapRef?.name, 'kzr-env');
    assert.deepEqual(container.resources, {
      requests: { cpu: '4', memory: '8Gi' },
      limits: { cpu: '4', memory: '8Gi', 'nvidia.com/gpu': '2' },
    });
    // The spec's retries and deadline win when set.
    const strict = buildJobManifest(phaseSpec('split', { backoffLimit: 0, activeDeadlineSeconds: 60 }), 'ml', {
      template,
      serviceAccountName: 'kzr-trainer',
    });
    validate(strict);
    assert.equal(strict.spec?.backoffLimit, 0);
    assert.equal(strict.spec?.activeDeadlineSeconds, 60);
    assert.equal(strict.spec?.template.spec?.serviceAccountName, 'kzr-trainer');
    // The template itself is not changed.
    assert.equal(template.spec?.template.spec?.containers[0]?.resources?.limits?.['nvidia.com/gpu'], '1');
  });

  it('gives a GPU to a training phase that asks and never to another, with or without a template', async () => {
    const template = readJobTemplate(await templateFile('job.yaml', templateYaml));
    const gpus = (body: V1Job) => {
      const { requests, limits } = containerOf(body).resources ?? {};
      return [requests?.['nvidia.com/gpu'], limits?.['nvidia.com/gpu']];
    };
    for (const options of [{ template }, {}]) {
      for (const phase of ['first-train', 'second-train', 'refine']) {
        const body = buildJobManifest(phaseSpec(phase, { resources: { gpu: 1 } }), 'ml', options);
        validate(body);
        assert.deepEqual(gpus(body), [undefined, '1'], phase);
      }
      for (const phase of ['preprocess', 'split', 'first-infer', 'first-filter', 'publish']) {
        for (const resources of [undefined, { gpu: 0 }]) {
          const body = buildJobManifest(phaseSpec(phase, resources ? { resources } : {}), 'ml', options);
          validate(body);
          assert.deepEqual(gpus(body), [undefined, undefined], phase);
        }
      }
    }
    // Without a template or resources: no resources block at all, and the spec's image.
    const bare = buildJobManifest(phaseSpec('split'), 'ml');
    assert.equal(containerOf(bare).resources, undefined);
    assert.equal(containerOf(bare).image, 'kzr');
    assert.equal(bare.spec?.backoffLimit, 0);
  });
});

describe('Job template on the Kubernetes API stand-in', () => {
  let api: KubernetesApiStandIn;
  before(async () => {
    api = await KubernetesApiStandIn.start({ restartDelayMs: 50 });
  });
  after(async () => {
    await api?.cleanup();
  });

  it('runs a Job built from the template file of KZR_JOB_TEMPLATE_FILE with the template env in the process', async () => {
    // Arrange: a template that sets the Store and Bus environment; the stand-in's kubeconfig.
    const out = join(dir, 'env.json');
    const text = templateYaml.replace(/\n {12}- name: KZR_S3_SECRET_KEY\n(.*\n){4}/, '\n');
    const file = await templateFile('standin.yaml', text);
    const kubeconfig = await templateFile('kubeconfig.yaml', api.kubeconfig('ml'));
    const previous = process.env['KUBECONFIG'];
    process.env['KUBECONFIG'] = kubeconfig;
    try {
      const config = compileAdapterConfig({ KZR_JOBS: 'kubernetes', KZR_JOB_TEMPLATE_FILE: file }, dir);
      assert.equal(config.jobs.kind === 'kubernetes' && config.jobs.templateFile, file);
      await using adapters = await openAdapters(config, { logger: createLogger({ level: 'error' }), source: 'test' });
      assert.equal(adapters.describe.jobs, 'kubernetes:ml');
      // Act: one phase Job whose process writes its environment down.
      const name = 'r1-split-a1';
      await adapters.jobs.run({
        name,
        image: 'kzr',
        command: [
          process.execPath,
          '-e',
          `require('node:fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.env))`,
        ],
        env: { KZR_RUN: 'r1' },
        labels: { [runLabel]: 'r1', 'kzr.io/phase': 'split' },
      });
      assert.equal((await adapters.jobs.wait(name)).phase, JobPhase.Succeeded);
      // Assert: the template's environment and the spec's reached the process.
      const env = JSON.parse(await readFile(out, 'utf8')) as Record<string, string>;
      assert.equal(env['KZR_STORE'], 's3');
      assert.equal(env['KZR_NATS_URL'], 'nats://nats:4222');
      assert.equal(env['KZR_RUN'], 'r1');
      const stored = api.jobs().find((j) => j.metadata.name === name)!;
      assert.equal(stored.spec.backoffLimit, 2);
      assert.equal(stored.metadata.labels?.['app.kubernetes.io/component'], 'phase');
      const { status: _status, ...sent } = stored;
      validate(sent as V1Job);
    } finally {
      if (previous === undefined) delete process.env['KUBECONFIG'];
      else process.env['KUBECONFIG'] = previous;
    }
  });

  it('refuses to open the adapters with a bad template before anything connects', async () => {
    const file = await templateFile('bad.yaml', templateYaml.replace('- name: phase', '- name: main'));
    const config = compileAdapterConfig({ KZR_JOBS: 'kubernetes', KZR_JOB_TEMPLATE_FILE: file }, dir);
    await assert.rejects(
      openAdapters(config, { logger: createLogger({ level: 'error' }), source: 'test' }),
      (err) => err instanceof ValidationError && err.field === 'spec.template.spec.containers[0].name',
    );
  });
});
