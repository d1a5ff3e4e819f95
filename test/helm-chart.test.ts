/**
 * The Helm chart (helm/kzr), checked without a cluster: `helm lint --strict` over each CI values
 * file; the values schema refusing a typo, a negative count and a wrong type; every rendered
 * document valid for its kubernetes-models class and free of fields Kubernetes does not know;
 * and what the chart promises: RBAC exactly as the trainer uses it, probes on the health-only
 * port, the restricted securityContext, GPU limits left to the trainer's training phases, only
 * environment variables and ports the code reads, gRPC auth, TLS and the NATS and S3 files
 * through existing Secrets, the trainer's Job bodies laid over the rendered Job template, and
 * KEDA ScaledObjects (HPAs without KEDA) on the durable consumers the code reads.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { compileInferenceConfig, defaultInferencePort, inferenceEnvNames } from '@kzr/inference';
import { modelPhaseNames, phaseId, PhaseName } from '@kzr/pipeline';
import {
  buildJobManifest,
  compileAdapterConfig,
  hashToken,
  livenessHealthName,
  platformEnvNames,
  readJobTemplate,
  runLabel,
  unknownEnvNames,
} from '@kzr/platform';
import {
  compilePostprocessConfig,
  defaultPostprocessPort,
  filterSwapDurable,
  postprocessEnvNames,
} from '@kzr/postprocess';
import { compilePreprocessConfig, defaultPreprocessPort, preprocessDurable, preprocessEnvNames } from '@kzr/preprocess';
import { TestPki } from '@kzr/testkit';
import { compileTrainerConfig, defaultTrainerPort, phaseJobName, trainerEnvNames } from '@kzr/trainer';
import { parse } from 'yaml';

import {
  chartDir,
  helm,
  type K8sObject,
  kubeVersion,
  lint,
  render,
  repoRoot,
  unknownFields,
  validateModel,
} from './helpers/helm.js';

const ciFiles = ['default', 'gpu', 'external-nats-s3', 'hardened', 'keda'].map((name) =>
  join(chartDir, 'ci', `${name}-values.yaml`),
);
const monitoringApi = 'monitoring.coreos.com/v1';
const kedaApi = 'keda.sh/v1alpha1';

/** The parts of a pod spec the checks read. */
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: Record<string, unknown> }>;
  ports?: Array<{ name: string; containerPort: number }>;
  resources?: { limits?: Record<string, unknown>; requests?: Record<string, unknown> };
  securityContext?: Record<string, unknown>;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
}
interface Probe {
  grpc?: { port: number; service?: string };
  httpGet?: { path: string };
  failureThreshold?: number;
  periodSeconds?: number;
}
interface PodSpec {
  containers: Container[];
  securityContext?: Record<string, unknown>;
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  volumes?: Array<{
    name: string;
    emptyDir?: unknown;
    configMap?: { name: string };
    secret?: { secretName: string; items?: Array<{ key: string; path: string }> };
  }>;
  nodeSelector?: Record<string, string>;
  tolerations?: unknown[];
}

const kzrServices = ['preprocess', 'inference', 'postprocess', 'trainer'] as const;

function podSpecOf(obj: K8sObject): PodSpec {
  if (obj.kind === 'Pod') return obj['spec'] as PodSpec;
  return (obj['spec'] as { template: { spec: PodSpec } }).template.spec;
}
function component(obj: K8sObject): string | undefined {
  return obj.metadata.labels?.['app.kubernetes.io/component'];
}
function only(objects: K8sObject[], kind: string, name?: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.equal(found.length, 1, `one ${kind} ${name ?? ''}, found ${found.length}`);
  return found[0]!;
}
function envOf(container: Container): Map<string, { value?: string; valueFrom?: Record<string, unknown> }> {
  return new Map((container.env ?? []).map((e) => [e.name, e]));
}
/** The phase Job template the trainer reads (the ConfigMap's job.yaml). */
function jobTemplateOf(objects: K8sObject[]): K8sObject {
  const configMap = only(objects, 'ConfigMap', 'kzr-job-template');
  return parse((configMap['data'] as Record<string, string>)['job.yaml']!) as K8sObject;
}

/**
 * Where the file `path` a container's variable names comes from: the Secret and key behind it,
 * through a read-only Secret volume mounted above it; undefined when it comes from no Secret.
 */
function secretFileOf(pod: PodSpec, container: Container, path: string): { secret: string; key: string } | undefined {
  const mount = container.volumeMounts?.find((m) => path.startsWith(`${m.mountPath}/`));
  const secret = pod.volumes?.find((v) => v.name === mount?.name)?.secret;
  const item = secret?.items?.find((i) => `${mount?.mountPath}/${i.path}` === path);
  if (!mount?.readOnly || !secret || !item) return undefined;
  return { secret: secret.secretName, key: item.key };
}
/** The four kzr services' Deployments: name, pod and container. */
function servicesOf(objects: K8sObject[]): Array<{ name: string; pod: PodSpec; container: Container }> {
  return kzrServices.map((name) => {
    const pod = podSpecOf(only(objects, 'Deployment', `kzr-${name}`));
    return { name, pod, container: pod.containers[0]! };
  });
}
/** Asserts that each variable of `expected` names a file of the Secret `secret/key` mounted in the container. */
function assertSecretFiles(pod: PodSpec, container: Container, expected: Record<string, string>, where: string): void {
  const env = envOf(container);
  for (const [name, secretKey] of Object.entries(expected)) {
    const file = secretFileOf(pod, container, env.get(name)?.value ?? '');
    assert.equal(file && `${file.secret}/${file.key}`, secretKey, `${where}: ${name}`);
  }
}

/**
 * A container's environment as the kubelet gives it, on this machine: each file under
 * `/etc/kzr/` rewritten to `dir` and written there with `contentOf(key)` (by the Secret key
 * behind it, or `job.yaml` for the Job template), Secret references and the downward API given
 * placeholder values.
 */
async function localEnv(
  pod: PodSpec,
  container: Container,
  dir: string,
  contentOf: (key: string) => string,
): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const entry of container.env ?? []) {
    if (entry.valueFrom) {
      env[entry.name] = entry.valueFrom['fieldRef'] ? 'kzr' : 'from-a-secret';
    } else if (entry.value?.startsWith('/etc/kzr/')) {
      const key = secretFileOf(pod, container, entry.value)?.key ?? entry.value.slice(entry.value.lastIndexOf('/') + 1);
      const file = join(dir, entry.value);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, contentOf(key));
      env[entry.name] = file;
    } else {
      env[entry.name] = entry.value ?? '';
    }
  }
  return env;
}

const rendered = new Map<string, K8sObject[]>();
let scratch = '';
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'kzr-helm-'));
  for (const file of ciFiles) rendered.set(file, await render([file], { apiVersions: [monitoringApi] }));
});
after(() => rm(scratch, { recursive: true, force: true }));

/** NOTES.txt as `helm install` would print it with these values files and `--set` pairs. */
async function renderNotes(valuesFiles: readonly string[], sets: readonly string[] = []): Promise<string> {
  // helm renders NOTES.txt only on install; a copy of the chart renders it through `tpl`.
  const copy = join(scratch, 'notes-chart');
  if (!existsSync(copy)) {
    await cp(chartDir, copy, { recursive: true });
    await cp(join(chartDir, 'templates', 'NOTES.txt'), join(copy, 'notes.txt'));
    await rm(join(copy, 'templates', 'NOTES.txt'));
    await writeFile(
      join(copy, 'templates', 'notes-check.yaml'),
      'notes: {{ tpl (.Files.Get "notes.txt") . | toJson }}\n',
    );
  }
  const result = await helm([
    'template',
    'kzr',
    copy,
    '-n',
    'kzr',
    '--kube-version',
    kubeVersion,
    ...valuesFiles.flatMap((f) => ['-f', f]),
    ...sets.flatMap((s) => ['--set', s]),
    '--show-only',
    'templates/notes-check.yaml',
  ]);
  assert.equal(result.code, 0, result.stderr);
  return (parse(result.stdout) as { notes: string }).notes;
}

/** A values file in the scratch folder. */
async function valuesFile(name: string, text: string): Promise<string> {
  const path = join(scratch, name);
  await writeFile(path, text);
  return path;
}

describe('the kzr chart', () => {
  for (const file of ciFiles) {
    it(`passes helm lint --strict with ${file.slice(chartDir.length + 1)}`, async () => {
      const result = await lint([file]);
      assert.equal(result.code, 0, result.stdout + result.stderr);
    });
  }

  it('refuses a values file with a typo, a negative count or a wrong type, naming the key', async () => {
    const typo = await lint([await valuesFile('typo.yaml', 'inference:\n  replica: 2\n')]);
    assert.notEqual(typo.code, 0);
    assert.match(typo.stdout + typo.stderr, /inference: Additional property replica is not allowed/);
    const negative = await lint([await valuesFile('negative.yaml', 'preprocess:\n  replicas: -1\n')]);
    assert.notEqual(negative.code, 0);
    assert.match(negative.stdout + negative.stderr, /preprocess.replicas: Must be greater than or equal to 0/);
    const wrongType = await lint([], ['jobs.backoffLimit=two']);
    assert.notEqual(wrongType.code, 0);
    assert.match(wrongType.stdout + wrongType.stderr, /jobs.backoffLimit: Invalid type. Expected: integer/);
    const unknownEnv = await lint([], ['preprocess.env.THREADS=2']);
    assert.notEqual(unknownEnv.code, 0, 'extra env names must be KZR_ variables');
  });

  it('refuses to render external NATS or S3 without an address', async () => {
    await assert.rejects(render([], { sets: ['nats.deploy=false'] }), /nats.url is required/);
    await assert.rejects(render([], { sets: ['s3.deploy=false'] }), /s3.endpoint is required/);
  });

  it('renders only documents that validate with kubernetes-models and have no unknown fields', async () => {
    for (const [file, objects] of rendered) {
      for (const obj of [...objects, jobTemplateOf(objects)]) {
        await validateModel(obj);
        if (obj.kind === 'ServiceMonitor') continue; // a CRD: kubernetes-models checks it, the client has no type
        assert.deepEqual(unknownFields(obj), [], `${file}: ${obj.kind} ${obj.metadata.name}`);
      }
    }
  });

  it('finds an unknown field (the check is live)', async () => {
    const [deployment] = (await render([], { sets: ['preprocess.override.spec.templat.x=1'] })).filter(
      (o) => o.kind === 'Deployment' && component(o) === 'preprocess',
    );
    assert.deepEqual(unknownFields(deployment!), ['Deployment.spec.templat']);
  });

  it('gives the trainer exactly the RBAC its Kubernetes JobRunner uses, namespaced', () => {
    for (const objects of rendered.values()) {
      assert.equal(objects.filter((o) => o.kind.startsWith('Cluster')).length, 0, 'no cluster-wide RBAC');
      const role = only(objects, 'Role');
      assert.deepEqual(role['rules'], [
        { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'get', 'list', 'watch', 'delete'] },
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
      ]);
      const binding = only(objects, 'RoleBinding');
      assert.deepEqual(binding['roleRef'], {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'Role',
        name: role.metadata.name,
      });
      assert.deepEqual(binding['subjects'], [{ kind: 'ServiceAccount', name: 'kzr-trainer', namespace: 'kzr' }]);
      for (const deployment of objects.filter((o) => o.kind === 'Deployment')) {
        const pod = podSpecOf(deployment);
        if (component(deployment) === 'trainer') assert.equal(pod.serviceAccountName, 'kzr-trainer');
        else assert.equal(pod.automountServiceAccountToken, false, `${deployment.metadata.name} needs no API token`);
      }
      const phaseAccount = only(objects, 'ServiceAccount', 'kzr-phase');
      assert.equal(phaseAccount['automountServiceAccountToken'], false);
      assert.equal(podSpecOf(jobTemplateOf(objects)).serviceAccountName, 'kzr-phase');
    }
  });

  it('probes every Deployment; kzr services through native gRPC probes on the health-only port', () => {
    for (const objects of rendered.values()) {
      for (const deployment of objects.filter((o) => o.kind === 'Deployment')) {
        const [container] = podSpecOf(deployment).containers;
        assert.ok(
          container?.startupProbe && container.livenessProbe && container.readinessProbe,
          deployment.metadata.name,
        );
        if (!kzrServices.includes(component(deployment) as (typeof kzrServices)[number])) continue;
        const healthPort = Number(envOf(container).get('KZR_HEALTH_PORT')?.value);
        assert.ok(healthPort > 0);
        assert.deepEqual(container.startupProbe.grpc, { port: healthPort, service: livenessHealthName });
        assert.deepEqual(container.livenessProbe.grpc, { port: healthPort, service: livenessHealthName });
        assert.deepEqual(container.readinessProbe.grpc, { port: healthPort }, 'readiness is the overall health');
        assert.ok(container.ports?.some((p) => p.name === 'health' && p.containerPort === healthPort));
        const startupSeconds = container.startupProbe.failureThreshold! * container.startupProbe.periodSeconds!;
        if (component(deployment) === 'inference') assert.ok(startupSeconds >= 300, 'model loading has 5 minutes');
      }
    }
  });

  it('runs every pod and the phase Jobs under the restricted securityContext with /tmp an emptyDir', () => {
    for (const objects of rendered.values()) {
      const pods = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'Pod');
      for (const obj of [...pods, jobTemplateOf(objects)]) {
        const pod = podSpecOf(obj);
        assert.equal(pod.securityContext?.['runAsNonRoot'], true);
        assert.deepEqual(pod.securityContext?.['seccompProfile'], { type: 'RuntimeDefault' });
        for (const container of pod.containers) {
          assert.deepEqual(container.securityContext, {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          });
        }
        if (['nats', 'test'].includes(component(obj) ?? '')) continue;
        const tmp = pod.containers[0]?.volumeMounts?.find((m) => m.mountPath === '/tmp');
        assert.ok(tmp && pod.volumes?.find((v) => v.name === tmp.name)?.emptyDir, `${obj.kind} ${obj.metadata.name}`);
      }
    }
  });

  it('sets no GPU limit anywhere: the trainer adds nvidia.com/gpu to training phases only', () => {
    for (const [file, objects] of rendered) {
      assert.doesNotMatch(JSON.stringify(objects), /nvidia\.com\/gpu"?:/, file);
      assert.equal(JSON.stringify(jobTemplateOf(objects)).includes('nvidia.com/gpu":'), false);
    }
    const gpu = podSpecOf(jobTemplateOf(rendered.get(ciFiles[1]!)!));
    assert.equal(gpu.containers[0]?.name, 'phase');
    assert.equal(gpu.containers[0]?.image, 'kzr:0.1.0-gpu');
    assert.deepEqual(gpu.nodeSelector, { 'nvidia.com/gpu.present': 'true' });
    assert.equal(gpu.tolerations?.length, 1);
  });

  it('sets only KZR_ variables the code reads, and gRPC ports that match the code, the container and the Service', () => {
    const known: Record<string, { names: readonly string[]; port: number }> = {
      preprocess: { names: preprocessEnvNames, port: defaultPreprocessPort },
      inference: { names: inferenceEnvNames, port: defaultInferencePort },
      postprocess: { names: postprocessEnvNames, port: defaultPostprocessPort },
      trainer: { names: trainerEnvNames, port: defaultTrainerPort },
    };
    for (const objects of rendered.values()) {
      for (const name of kzrServices) {
        const deployment = only(objects, 'Deployment', `kzr-${name}`);
        const container = podSpecOf(deployment).containers[0]!;
        const env = envOf(container);
        const unknown = [...env.keys()].filter(
          (n) => n.startsWith('KZR_') && !platformEnvNames.includes(n) && !known[name]!.names.includes(n),
        );
        assert.deepEqual(unknown, [], name);
        const port = Number(env.get('KZR_GRPC_PORT')?.value);
        assert.equal(port, known[name]!.port);
        assert.ok(container.ports?.some((p) => p.name === 'grpc' && p.containerPort === port));
        const service = only(objects, 'Service', `kzr-${name}`);
        assert.ok((service['spec'] as { ports: Array<{ port: number }> }).ports.some((p) => p.port === port));
        assert.deepEqual(container.args?.slice(-1), [`services/${name}/dist/src/main.js`]);
      }
      const inference = envOf(podSpecOf(only(objects, 'Deployment', 'kzr-inference')).containers[0]!);
      assert.equal(inference.get('KZR_PREPROCESS_ENDPOINT')?.value, `kzr-preprocess:${defaultPreprocessPort}`);
      assert.equal(inference.get('KZR_POSTPROCESS_ENDPOINT')?.value, `kzr-postprocess:${defaultPostprocessPort}`);
    }
  });

  it('takes S3 credentials only from the existing Secret and renders no Secret', () => {
    for (const objects of rendered.values()) {
      assert.equal(objects.filter((o) => o.kind === 'Secret').length, 0);
      const pods = objects.filter((o) => o.kind === 'Deployment').map(podSpecOf);
      for (const container of [...pods, podSpecOf(jobTemplateOf(objects))].flatMap((p) => p.containers)) {
        for (const name of ['KZR_S3_ACCESS_KEY', 'KZR_S3_SECRET_KEY', 'MINIO_ROOT_USER', 'MINIO_ROOT_PASSWORD']) {
          const entry = envOf(container).get(name);
          if (entry)
            assert.ok(entry.valueFrom?.['secretKeyRef'] && entry.value === undefined, `${container.name} ${name}`);
        }
      }
    }
  });

  it('runs the trainer once with Recreate and mounts the Job template where KZR_JOB_TEMPLATE_FILE points', () => {
    const objects = rendered.get(ciFiles[0]!)!;
    const trainer = only(objects, 'Deployment', 'kzr-trainer');
    const spec = trainer['spec'] as { replicas: number; strategy: { type: string } };
    assert.equal(spec.replicas, 1);
    assert.equal(spec.strategy.type, 'Recreate');
    const pod = podSpecOf(trainer);
    const file = envOf(pod.containers[0]!).get('KZR_JOB_TEMPLATE_FILE')?.value ?? '';
    const mount = pod.containers[0]!.volumeMounts!.find((m) => file.startsWith(`${m.mountPath}/`));
    assert.ok(mount, `a mount holds ${file}`);
    assert.equal(pod.volumes!.find((v) => v.name === mount.name)?.configMap?.name, 'kzr-job-template');
    assert.equal(file.slice(mount.mountPath.length + 1), 'job.yaml');
    const job = jobTemplateOf(objects)['spec'] as Record<string, unknown>;
    assert.deepEqual(
      [job['backoffLimit'], job['activeDeadlineSeconds'], job['ttlSecondsAfterFinished']],
      [1, 86400, 3600],
    );
  });

  it('scales inference by an autoscaling/v2 HPA and guards replicated services with PDBs only when replicas > 1', () => {
    const defaults = rendered.get(ciFiles[0]!)!;
    assert.equal(
      defaults.filter((o) => o.kind === 'PodDisruptionBudget' || o.kind === 'HorizontalPodAutoscaler').length,
      0,
    );
    const hardened = rendered.get(ciFiles[3]!)!;
    const hpa = only(hardened, 'HorizontalPodAutoscaler');
    assert.equal(hpa.apiVersion, 'autoscaling/v2');
    assert.equal((hpa['spec'] as { scaleTargetRef: { name: string } }).scaleTargetRef.name, 'kzr-inference');
    assert.equal((only(hardened, 'Deployment', 'kzr-inference')['spec'] as { replicas?: number }).replicas, undefined);
    assert.deepEqual(
      hardened
        .filter((o) => o.kind === 'PodDisruptionBudget')
        .map((o) => o.metadata.name)
        .sort(),
      ['kzr-inference', 'kzr-postprocess', 'kzr-preprocess'],
    );
  });

  it('spreads each Deployment over nodes', () => {
    for (const deployment of rendered
      .get(ciFiles[0]!)!
      .filter((o) => o.kind === 'Deployment' && kzrServices.includes(component(o) as never))) {
      const spread = (podSpecOf(deployment) as unknown as { topologySpreadConstraints: Array<Record<string, unknown>> })
        .topologySpreadConstraints;
      assert.equal(spread[0]?.['topologyKey'], 'kubernetes.io/hostname');
    }
  });

  it('renders NetworkPolicies only when enabled, with egress to the external NATS and S3', () => {
    assert.equal(rendered.get(ciFiles[0]!)!.filter((o) => o.kind === 'NetworkPolicy').length, 0);
    const policy = only(rendered.get(ciFiles[3]!)!, 'NetworkPolicy');
    const egress = JSON.stringify((policy['spec'] as { egress: unknown }).egress);
    for (const cidr of ['10.20.0.0/16', '10.30.0.0/16', '10.96.0.1/32']) assert.ok(egress.includes(cidr), cidr);
  });

  it('renders a ServiceMonitor only where the Prometheus Operator API exists', async () => {
    const file = ciFiles[2]!;
    assert.equal(only(rendered.get(file)!, 'ServiceMonitor').apiVersion, monitoringApi);
    const without = await render([file]);
    assert.equal(without.filter((o) => o.kind === 'ServiceMonitor').length, 0);
  });

  it('renders NOTES.txt with every endpoint and how to create the credentials Secrets', async () => {
    for (const file of [ciFiles[0]!, ciFiles[2]!]) {
      const notes = await renderNotes([file]);
      for (const service of kzrServices) assert.match(notes, new RegExp(`kzr-${service}:\\d+`));
      assert.match(notes, /create secret generic kzr-s3(-credentials)? /);
      assert.match(notes, /create secret generic kzr-auth /);
      assert.match(notes, /helm test kzr -n kzr/);
      assert.doesNotMatch(notes, /WARNING/);
    }
  });

  it('lists every value in its README', async () => {
    const values = parse(await readFile(join(chartDir, 'values.yaml'), 'utf8')) as Record<string, unknown>;
    const readme = await readFile(join(chartDir, 'README.md'), 'utf8');
    // Kubernetes objects passed through whole are listed as one value.
    const whole = new Set(['resources', 'podSecurityContext', 'containerSecurityContext']);
    const leaves = (obj: Record<string, unknown>, prefix: string): string[] =>
      Object.entries(obj).flatMap(([key, value]) =>
        value !== null &&
        typeof value === 'object' &&
        !Array.isArray(value) &&
        !whole.has(key) &&
        Object.keys(value).length > 0
          ? leaves(value as Record<string, unknown>, `${prefix}${key}.`)
          : [`${prefix}${key}`],
      );
    const missing = leaves(values, '').filter((path) => !readme.includes(`| \`${path}\` |`));
    assert.deepEqual(missing, []);
  });

  it('has a helm test Pod that checks the health of every service on the plaintext health-only port', () => {
    // The hardened values serve gRPC with mTLS only; the helm test Pod and the probes reach the
    // health-only port, which stays plaintext and serves nothing else.
    for (const file of [ciFiles[0]!, ciFiles[3]!]) {
      const pod = only(rendered.get(file)!, 'Pod');
      assert.equal(pod.metadata.annotations?.['helm.sh/hook'], 'test');
      const { args, env } = podSpecOf(pod).containers[0]!;
      assert.deepEqual(args, ['images/health-check.mjs', ...kzrServices.map((s) => `kzr-${s}:8081`)]);
      assert.equal(env, undefined, 'no TLS or token: the health-only port needs none');
    }
  });
});

describe('the kzr chart wires gRPC, NATS and S3 security through existing Secrets', () => {
  it('checks every caller against the access file of the existing Secret by default', () => {
    for (const { name, pod, container } of servicesOf(rendered.get(ciFiles[0]!)!)) {
      assert.equal(envOf(container).has('KZR_INSECURE'), false, name);
      assertSecretFiles(
        pod,
        container,
        { KZR_AUTH_TOKENS_FILE: 'kzr-auth/tokens.json', KZR_AUTH_TOKEN_FILE: 'kzr-auth/token' },
        name,
      );
    }
  });

  it('serves every caller only when auth.existingSecret is empty: KZR_INSECURE=1 and a warning', async () => {
    const objects = await render([], { sets: ['auth.existingSecret='] });
    for (const { name, container } of servicesOf(objects)) {
      const env = envOf(container);
      assert.equal(env.get('KZR_INSECURE')?.value, '1', name);
      assert.equal(env.has('KZR_AUTH_TOKENS_FILE'), false, name);
    }
    assert.equal(
      envOf(podSpecOf(jobTemplateOf(objects)).containers[0]!).has('KZR_INSECURE'),
      false,
      'phases serve nothing',
    );
    assert.match(await renderNotes([], ['auth.existingSecret=']), /WARNING: .*every gRPC port serves every caller/s);
    // Client certificates authenticate too: mTLS without an access file needs no KZR_INSECURE.
    const mtls = await render([], {
      sets: ['auth.existingSecret=', 'tls.existingSecret=kzr-grpc-tls', 'tls.mtls=true'],
    });
    for (const { name, container } of servicesOf(mtls)) assert.equal(envOf(container).has('KZR_INSECURE'), false, name);
  });

  it('turns on mTLS, auth, NetworkPolicy and the NATS and S3 credentials with the hardened values', () => {
    const objects = rendered.get(ciFiles[3]!)!;
    assert.ok(objects.some((o) => o.kind === 'NetworkPolicy'));
    const storeAndBus = {
      KZR_NATS_CREDS_FILE: 'kzr-nats-credentials/nats.creds',
      KZR_NATS_CA_FILE: 'kzr-nats-ca/ca.crt',
      KZR_S3_CA_FILE: 'kzr-s3-ca/ca.crt',
    };
    for (const { name, pod, container } of servicesOf(objects)) {
      assert.equal(envOf(container).has('KZR_INSECURE'), false, name);
      assertSecretFiles(
        pod,
        container,
        {
          KZR_GRPC_TLS_CERT_FILE: 'kzr-grpc-tls/tls.crt',
          KZR_GRPC_TLS_KEY_FILE: 'kzr-grpc-tls/tls.key',
          KZR_GRPC_TLS_CA_FILE: 'kzr-grpc-tls/ca.crt',
          KZR_GRPC_TLS_CLIENT_CA_FILE: 'kzr-grpc-tls/ca.crt',
          KZR_AUTH_TOKENS_FILE: 'kzr-auth/tokens.json',
          KZR_AUTH_TOKEN_FILE: 'kzr-auth/token',
          ...storeAndBus,
        },
        name,
      );
    }
    const phase = podSpecOf(jobTemplateOf(objects));
    assertSecretFiles(phase, phase.containers[0]!, storeAndBus, 'phase Job template');
    const phaseEnv = [...envOf(phase.containers[0]!).keys()];
    assert.deepEqual(
      phaseEnv.filter((n) => n.startsWith('KZR_GRPC_TLS') || n.startsWith('KZR_AUTH')),
      [],
      'phases serve and call no gRPC',
    );
    // The default values set none of them: plaintext gRPC, no NATS or S3 files.
    for (const { name, container } of servicesOf(rendered.get(ciFiles[0]!)!)) {
      const names = [...envOf(container).keys()];
      assert.deepEqual(
        names.filter((n) => n.startsWith('KZR_GRPC_TLS') || /^KZR_(NATS|S3)_.*_FILE$/.test(n)),
        [],
        name,
      );
    }
  });

  it('gives every service and the phase Jobs an environment their code accepts: each would start, naming no unknown variable', async () => {
    const pki = await TestPki.create();
    try {
      const server = await pki.issue('kzr-services');
      const token = randomBytes(32).toString('hex');
      const contents: Record<string, string> = {
        'tls.crt': await readFile(server.certFile, 'utf8'),
        'tls.key': await readFile(server.keyFile, 'utf8'),
        'ca.crt': await readFile(pki.caFile, 'utf8'),
        'tokens.json': JSON.stringify({ tokens: [{ name: 'kzr-services', sha256: hashToken(token), role: 'infer' }] }),
        token,
        'nats.creds': 'a NATS credentials file (read on connect)\n',
      };
      const compile: Record<
        (typeof kzrServices)[number],
        { names: readonly string[]; config: (env: Record<string, string>) => unknown }
      > = {
        preprocess: { names: preprocessEnvNames, config: compilePreprocessConfig },
        inference: { names: inferenceEnvNames, config: compileInferenceConfig },
        postprocess: { names: postprocessEnvNames, config: compilePostprocessConfig },
        trainer: { names: trainerEnvNames, config: compileTrainerConfig },
      };
      const open = await render([], { sets: ['auth.existingSecret='] });
      for (const [file, objects] of [...rendered, ['open', open] as const]) {
        const jobYaml = (only(objects, 'ConfigMap', 'kzr-job-template')['data'] as Record<string, string>)['job.yaml']!;
        const contentOf = (key: string): string => (key === 'job.yaml' ? jobYaml : contents[key]!);
        for (const { name, pod, container } of servicesOf(objects)) {
          const dir = join(scratch, 'local', name);
          const env = await localEnv(pod, container, dir, contentOf);
          assert.deepEqual(
            unknownEnvNames(env, compile[name as (typeof kzrServices)[number]].names),
            [],
            `${file}: ${name}`,
          );
          // Throws a ConfigError naming the variable for anything the process would refuse at start.
          compile[name as (typeof kzrServices)[number]].config(env);
          compileAdapterConfig(env, dir);
        }
        const phase = podSpecOf(jobTemplateOf(objects));
        const env = await localEnv(phase, phase.containers[0]!, join(scratch, 'local', 'phase'), contentOf);
        assert.deepEqual(unknownEnvNames(env, []), [], `${file}: phase`);
        compileAdapterConfig(env, join(scratch, 'local', 'phase'));
      }
    } finally {
      await pki.cleanup();
    }
  });

  it('refuses mTLS without the TLS Secret and an S3 CA for a plain-http endpoint', async () => {
    await assert.rejects(render([], { sets: ['tls.mtls=true'] }), /tls.mtls needs tls.existingSecret/);
    await assert.rejects(
      render([], { sets: ['s3.caSecret=kzr-s3-ca'] }),
      /s3.caSecret needs an https:\/\/ s3.endpoint/,
    );
    const typo = await lint([], ['tls.mTLS=true']);
    assert.match(typo.stdout + typo.stderr, /tls: Additional property mTLS is not allowed/);
  });
});

describe('the trainer lays its phase Jobs over the rendered template', () => {
  const run = 'smoke-20261207';
  /** The JobSpec the trainer's controller makes for one attempt of a phase (controller.ts `launch`). */
  const phaseJob = (config: { jobCommand: readonly string[]; jobImage: string }, phase: PhaseName, gpu: boolean) => {
    const model = modelPhaseNames.includes(phase) ? 'tiny-resnet-gray32' : undefined;
    return {
      name: phaseJobName(run, phaseId(phase, model), 1),
      image: config.jobImage,
      command: [...config.jobCommand],
      args: ['phase', 'run', '--run', run, '--phase', phase, ...(model ? ['--model', model] : []), '--attempt', '1'],
      labels: { [runLabel]: run, 'kzr.io/phase': phase },
      resources: { gpu: gpu && modelPhaseNames.includes(phase) ? 1 : 0 },
    };
  };

  it('runs `kzr phase run` with the image kzr command, a valid Job for every phase, a GPU on training phases only', async () => {
    // The command the chart gives the trainer is the image's kzr entry: WORKDIR /app holds the repository.
    const dockerfile = await readFile(join(repoRoot, 'images', 'cpu.Dockerfile'), 'utf8');
    assert.match(dockerfile, /^WORKDIR \/app\nCOPY --from=build \/src \/app$/m);
    for (const [file, objects] of rendered) {
      const trainer = envOf(podSpecOf(only(objects, 'Deployment', 'kzr-trainer')).containers[0]!);
      const config = compileTrainerConfig({ KZR_TRAINER_JOB_COMMAND: trainer.get('KZR_TRAINER_JOB_COMMAND')?.value });
      assert.deepEqual(config.jobCommand, ['node', '--conditions=production', '/app/packages/cli/bin/kzr.js'], file);
      assert.ok(existsSync(join(repoRoot, config.jobCommand[2]!.replace(/^\/app\//, ''))));

      const templateFile = join(scratch, 'job.yaml');
      const configMap = only(objects, 'ConfigMap', 'kzr-job-template');
      await writeFile(templateFile, (configMap['data'] as Record<string, string>)['job.yaml']!);
      const template = readJobTemplate(templateFile);
      const image = podSpecOf(jobTemplateOf(objects)).containers[0]!.image;
      for (const phase of [PhaseName.FirstTrain, PhaseName.Refine, PhaseName.Preprocess, PhaseName.Publish]) {
        for (const gpu of [true, false]) {
          const job = buildJobManifest(phaseJob(config, phase, gpu), 'kzr', {
            serviceAccountName: trainer.get('KZR_KUBE_SERVICE_ACCOUNT')!.value!,
            template,
          }) as unknown as K8sObject;
          await validateModel(job);
          assert.deepEqual(unknownFields(job), [], `${file}: ${phase}`);
          const pod = podSpecOf(job);
          const container = pod.containers[0]!;
          assert.equal(container.image, image);
          assert.deepEqual(container.command, config.jobCommand);
          assert.deepEqual(container.args?.slice(0, 6), ['phase', 'run', '--run', run, '--phase', phase]);
          assert.equal(pod.serviceAccountName, 'kzr-phase');
          assert.ok(envOf(container).has('KZR_NATS_URL') && envOf(container).has('KZR_S3_ACCESS_KEY'), 'Store and Bus');
          const gpus = container.resources?.limits?.['nvidia.com/gpu'];
          assert.equal(gpus, gpu && modelPhaseNames.includes(phase) ? '1' : undefined, `${file}: ${phase} gpu ${gpu}`);
        }
      }
    }
  });
});

describe('the kzr chart scales on events where the cluster has KEDA', () => {
  const kedaFile = ciFiles[4]!;
  interface Trigger {
    type: string;
    metadata: Record<string, string>;
  }
  interface ScaledObjectSpec {
    scaleTargetRef: { name: string };
    minReplicaCount: number;
    maxReplicaCount: number;
    cooldownPeriod: number;
    triggers: Trigger[];
  }
  const specOf = (objects: K8sObject[], name: string): ScaledObjectSpec =>
    only(objects, 'ScaledObject', name)['spec'] as ScaledObjectSpec;

  it('renders a ScaledObject per scalable service: preprocess and postprocess from zero on their durables, inference on its request rate', async () => {
    const objects = await render([kedaFile], { apiVersions: [monitoringApi, kedaApi] });
    for (const obj of objects) {
      await validateModel(obj);
      if (obj.kind !== 'ServiceMonitor') assert.deepEqual(unknownFields(obj), [], `${obj.kind} ${obj.metadata.name}`);
    }
    assert.equal(objects.filter((o) => o.kind === 'HorizontalPodAutoscaler').length, 0);
    assert.deepEqual(
      objects
        .filter((o) => o.kind === 'ScaledObject')
        .map((o) => o.metadata.name)
        .sort(),
      ['kzr-inference', 'kzr-postprocess', 'kzr-preprocess'],
    );
    for (const [service, durable, subject] of [
      ['preprocess', preprocessDurable, 'kzr.pages.ingested'],
      ['postprocess', filterSwapDurable, 'kzr.filter.published'],
    ] as const) {
      const spec = specOf(objects, `kzr-${service}`);
      assert.equal(spec.scaleTargetRef.name, `kzr-${service}`);
      assert.equal(spec.minReplicaCount, 0, `${service} scales to zero: ${subject} waits on ${durable}`);
      const jetstream = spec.triggers.find((t) => t.type === 'nats-jetstream');
      assert.deepEqual(jetstream?.metadata, {
        natsServerMonitoringEndpoint: 'kzr-nats.kzr.svc:8222',
        account: '$G',
        stream: 'KZR',
        consumer: durable,
        lagThreshold: '1',
        activationLagThreshold: '0',
      });
      // RecognizePage calls both, so its rate wakes them too.
      const recognize = spec.triggers.find((t) => t.type === 'prometheus');
      assert.match(recognize?.metadata['query'] ?? '', /kzr_inference_requests_total\{.*method=~"RecognizePages\?"/);
      assert.equal(
        (only(objects, 'Deployment', `kzr-${service}`)['spec'] as { replicas?: number }).replicas,
        undefined,
      );
    }
    const preprocess = specOf(objects, 'kzr-preprocess');
    assert.deepEqual([preprocess.maxReplicaCount, preprocess.cooldownPeriod], [8, 120]);
    const inference = specOf(objects, 'kzr-inference');
    assert.deepEqual([inference.minReplicaCount, inference.maxReplicaCount], [1, 6]);
    assert.deepEqual(
      inference.triggers.map((t) => [t.type, t.metadata['serverAddress'], t.metadata['threshold']]),
      [['prometheus', 'http://prometheus.monitoring.svc:9090', '4']],
    );
    assert.equal(
      inference.triggers[0]?.metadata['query'],
      'sum(rate(kzr_inference_requests_total{namespace="kzr",service="kzr-inference"}[1m]))',
    );
  });

  it('lets inference scale to zero, and names the NATS monitoring endpoint of an external NATS', async () => {
    const objects = await render([kedaFile], {
      apiVersions: [kedaApi],
      sets: [
        'inference.autoscaling.minReplicas=0',
        'nats.deploy=false',
        'nats.url=nats://nats.messaging.svc:4222',
        'keda.natsMonitoringEndpoint=nats.messaging.svc:8222',
      ],
    });
    assert.equal(specOf(objects, 'kzr-inference').minReplicaCount, 0);
    const jetstream = specOf(objects, 'kzr-preprocess').triggers.find((t) => t.type === 'nats-jetstream');
    assert.equal(jetstream?.metadata['natsServerMonitoringEndpoint'], 'nats.messaging.svc:8222');
  });

  it('refuses a KEDA render it cannot make work, naming the value', async () => {
    await assert.rejects(
      render([kedaFile], { apiVersions: [kedaApi], sets: ['keda.prometheusServerAddress='] }),
      /set metrics.enabled and keda.prometheusServerAddress/,
    );
    await assert.rejects(
      render([kedaFile], { apiVersions: [kedaApi], sets: ['nats.deploy=false', 'nats.url=nats://n:4222'] }),
      /keda.natsMonitoringEndpoint is required/,
    );
    await assert.rejects(
      render([kedaFile], { apiVersions: [kedaApi], sets: ['preprocess.autoscaling.maxReplicas=0'] }),
      /preprocess.autoscaling.maxReplicas: Must be greater than or equal to 1/,
    );
  });

  it('renders HPAs on CPU, at least one replica, where the cluster has no KEDA', () => {
    const objects = rendered.get(kedaFile)!;
    assert.equal(objects.filter((o) => o.kind === 'ScaledObject').length, 0);
    const hpas = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler');
    assert.deepEqual(hpas.map((o) => [o.metadata.name, (o['spec'] as { minReplicas: number }).minReplicas]).sort(), [
      ['kzr-inference', 1],
      ['kzr-postprocess', 1],
      ['kzr-preprocess', 1],
    ]);
  });

  it('finds an unknown ScaledObject field and a misspelt trigger key (the check is live)', async () => {
    const objects = await render([kedaFile], { apiVersions: [kedaApi] });
    const scaled = structuredClone(only(objects, 'ScaledObject', 'kzr-preprocess'));
    const spec = scaled['spec'] as ScaledObjectSpec & Record<string, unknown>;
    spec['minReplicas'] = 0;
    spec.triggers[0]!.metadata['lagTreshold'] = '5';
    assert.deepEqual(unknownFields(scaled), [
      'ScaledObject.spec.minReplicas',
      'ScaledObject.spec.triggers[0].metadata.lagTreshold',
    ]);
  });
});
