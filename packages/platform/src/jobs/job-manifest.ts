/**
 * The batch/v1 Job body of a {@link JobSpec}, alone or laid over a Job template. In the cluster
 * the Helm chart mounts one template (`KZR_JOB_TEMPLATE_FILE`, YAML or JSON) that says how phase
 * Jobs run there: image, resources, nodeSelector, tolerations, backoffLimit, active deadline,
 * `ttlSecondsAfterFinished`, service account, security context, volumes and the Store and Bus
 * environment. The JobSpec adds what is particular to one attempt of one phase: name, run and
 * phase labels, command and args, environment, resources, retries and deadline.
 *
 * Only types come from `@kubernetes/client-node` here: loading it costs about a second, and
 * every `kzr` process loads this module.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import type { V1Container, V1EnvVar, V1Job, V1ResourceRequirements } from '@kubernetes/client-node';
import type { parseAllDocuments } from 'yaml';

import { ValidationError } from '../errors.js';
import { checkJobSpec, type JobSpec } from './types.js';

/** The container a Job template holds and a phase runs in, unless told otherwise. */
export const defaultContainerName = 'phase';

/** The extended resource a GPU is requested as. */
const gpuResource = 'nvidia.com/gpu';

/** Options of {@link buildJobManifest}. */
export interface JobManifestOptions {
  /** Service account of the pods; overrides the template's. @default the template's, else the namespace default */
  readonly serviceAccountName?: string;
  /** The container to run the command in. @default 'phase' */
  readonly containerName?: string;
  /** The Job the body is laid over (see {@link readJobTemplate}). @default none: a bare Job */
  readonly template?: V1Job;
}

// `yaml` is loaded on first use only: most processes never read a template.
const requireModule = createRequire(import.meta.url);

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks what {@link buildJobManifest} relies on in a template (the API server checks the rest
 * when the Job is created); a ValidationError names the file and the field.
 */
function checkJobTemplate(value: unknown, file: string, containerName: string): asserts value is V1Job {
  const fail = (field: string, problem: string): never => {
    throw new ValidationError(field, `${problem} (job template ${file})`);
  };
  const objectAt = (parent: Json, key: string, path: string, required: boolean): Json | undefined => {
    const child = parent[key];
    if (child === undefined && !required) return undefined;
    if (!isObject(child)) return fail(path, 'expected an object');
    return child;
  };
  const integerAt = (parent: Json, key: string, path: string, min: number): void => {
    const n = parent[key];
    if (n !== undefined && (typeof n !== 'number' || !Number.isInteger(n) || n < min))
      fail(path, `expected an integer >= ${min}`);
  };
  const stringsAt = (parent: Json | undefined, key: string, path: string): void => {
    const map = parent?.[key];
    if (map === undefined) return;
    if (!isObject(map)) return void fail(path, 'expected an object of strings');
    for (const [k, v] of Object.entries(map)) if (typeof v !== 'string') fail(`${path}.${k}`, 'expected a string');
  };

  if (!isObject(value)) return void fail('(document)', 'expected one batch/v1 Job');
  if (value['apiVersion'] !== 'batch/v1') fail('apiVersion', 'expected "batch/v1"');
  if (value['kind'] !== 'Job') fail('kind', 'expected "Job"');
  const metadata = objectAt(value, 'metadata', 'metadata', false);
  stringsAt(metadata, 'labels', 'metadata.labels');
  stringsAt(metadata, 'annotations', 'metadata.annotations');
  const spec = objectAt(value, 'spec', 'spec', true)!;
  integerAt(spec, 'backoffLimit', 'spec.backoffLimit', 0);
  integerAt(spec, 'activeDeadlineSeconds', 'spec.activeDeadlineSeconds', 1);
  integerAt(spec, 'ttlSecondsAfterFinished', 'spec.ttlSecondsAfterFinished', 0);
  const pod = objectAt(spec, 'template', 'spec.template', true)!;
  stringsAt(objectAt(pod, 'metadata', 'spec.template.metadata', false), 'labels', 'spec.template.metadata.labels');
  const podSpec = objectAt(pod, 'spec', 'spec.template.spec', true)!;
  // backoffLimit counts failed pods only when a failed container is not restarted in place.
  if (podSpec['restartPolicy'] !== undefined && podSpec['restartPolicy'] !== 'Never')
    fail('spec.template.spec.restartPolicy', 'expected "Never" (or none)');
  stringsAt(podSpec, 'nodeSelector', 'spec.template.spec.nodeSelector');
  const containers = podSpec['containers'];
  if (!Array.isArray(containers) || containers.length !== 1 || !isObject(containers[0]))
    return void fail('spec.template.spec.containers', 'expected exactly one container');
  const container = containers[0];
  const at = 'spec.template.spec.containers[0]';
  if (container['name'] !== containerName) fail(`${at}.name`, `expected ${JSON.stringify(containerName)}`);
  if (container['image'] !== undefined && (typeof container['image'] !== 'string' || !container['image']))
    fail(`${at}.image`, 'expected a non-empty string');
  const env = container['env'];
  if (env !== undefined) {
    if (!Array.isArray(env)) fail(`${at}.env`, 'expected a list');
    (env as unknown[]).forEach((entry, i) => {
      if (!isObject(entry) || typeof entry['name'] !== 'string' || !entry['name'])
        fail(`${at}.env[${i}].name`, 'expected a non-empty string');
    });
  }
  const resources = objectAt(container, 'resources', `${at}.resources`, false);
  stringsAt(resources, 'requests', `${at}.resources.requests`);
  stringsAt(resources, 'limits', `${at}.resources.limits`);
}

/**
 * Reads the Job template in `file` (YAML or JSON, one batch/v1 Job whose one container is named
 * `containerName`). A file that cannot be read or parsed, or a template that
 * {@link buildJobManifest} could not lay a JobSpec over, throws a one-line ValidationError
 * naming the file and the field.
 */
export function readJobTemplate(file: string, containerName = defaultContainerName): V1Job {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ValidationError('(file)', `cannot be read: ${(err as Error).message} (job template ${file})`, {
      cause: err,
    });
  }
  let value: unknown;
  try {
    // YAML 1.2 is a superset of JSON, so one parser reads both.
    const yaml = requireModule('yaml') as { parseAllDocuments: typeof parseAllDocuments };
    const documents = yaml.parseAllDocuments(text);
    if (!Array.isArray(documents) || documents.length !== 1)
      throw new Error(`expected one document, found ${Array.isArray(documents) ? documents.length : 0}`);
    const [document] = documents;
    if (document!.errors.length > 0) throw document!.errors[0]!;
    value = document!.toJS();
  } catch (err) {
    const reason = (err as Error).message.split('\n')[0];
    throw new ValidationError('(document)', `cannot be parsed: ${reason} (job template ${file})`, { cause: err });
  }
  checkJobTemplate(value, file, containerName);
  return value;
}

/** The template's container resources with the spec's laid over them (see {@link buildJobManifest}). */
function mergeResources(template: V1ResourceRequirements | undefined, spec: JobSpec): V1ResourceRequirements {
  const requests: Record<string, string> = { ...template?.requests };
  const limits: Record<string, string> = { ...template?.limits };
  // A template never gives a GPU: only a JobSpec that asks for one gets it.
  delete requests[gpuResource];
  delete limits[gpuResource];
  for (const key of ['cpu', 'memory'] as const) {
    const quantity = spec.resources?.[key];
    if (quantity) requests[key] = limits[key] = quantity;
  }
  // Extended resources are set as limits only (Kubernetes copies them to requests).
  if (spec.resources?.gpu) limits[gpuResource] = String(spec.resources.gpu);
  return {
    ...template,
    ...(Object.keys(requests).length ? { requests } : { requests: undefined }),
    ...(Object.keys(limits).length ? { limits } : { limits: undefined }),
  };
}

/** The template's environment with the spec's added, a spec variable replacing the template's of that name. */
function mergeEnv(template: readonly V1EnvVar[] | undefined, spec: JobSpec): V1EnvVar[] {
  const env = new Map<string, V1EnvVar>((template ?? []).map((e) => [e.name, e]));
  for (const [name, value] of Object.entries(spec.env ?? {})) env.set(name, { name, value });
  return [...env.values()];
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * The batch/v1 Job body for a spec, laid over `options.template` when given (exported so tests
 * and chart checks can validate it with kubernetes-models):
 * - metadata: the spec's name and `namespace`; the template's labels and annotations, with the
 *   spec's labels (run, phase) merged over them; the pod gets them too, and `kzr.io/job`;
 * - the container: the spec's command and args; the template's image when it names one (the
 *   chart pins it), else the spec's; the template's `env` and `envFrom` kept, the spec's `env`
 *   added or replacing a variable of the same name; the spec's cpu and memory as requests and
 *   limits over the template's;
 * - GPUs: `nvidia.com/gpu` limits from the spec's `resources.gpu` only; a template's GPU request
 *   is dropped, so a phase that does not ask for a GPU never holds one;
 * - `backoffLimit` and `activeDeadlineSeconds`: the spec's when set, else the template's
 *   (backoffLimit else 0); `restartPolicy: Never`, so backoffLimit counts pods;
 * - everything else of the template (nodeSelector, tolerations, ttlSecondsAfterFinished,
 *   securityContext, volumes, ...) as it is.
 */
export function buildJobManifest(spec: JobSpec, namespace: string, options: JobManifestOptions = {}): V1Job {
  checkJobSpec(spec);
  const template = options.template === undefined ? undefined : structuredClone(options.template);
  const containerName = options.containerName ?? defaultContainerName;
  const jobSpec = template?.spec;
  const podTemplate = jobSpec?.template;
  const podSpec = podTemplate?.spec;
  const base: V1Container | undefined = podSpec?.containers.find((c) => c.name === containerName);
  const labels = { ...template?.metadata?.labels, ...spec.labels };
  const resources = mergeResources(base?.resources, spec);
  const env = mergeEnv(base?.env, spec);
  const serviceAccountName = options.serviceAccountName ?? podSpec?.serviceAccountName;
  const backoffLimit = spec.backoffLimit ?? jobSpec?.backoffLimit ?? 0;
  const activeDeadlineSeconds = spec.activeDeadlineSeconds ?? jobSpec?.activeDeadlineSeconds;
  const container: V1Container = withoutUndefined({
    ...base,
    name: containerName,
    image: base?.image ?? spec.image,
    command: [...spec.command],
    args: spec.args?.length ? [...spec.args] : undefined,
    env,
    resources: resources.requests || resources.limits ? withoutUndefined(resources) : undefined,
  });
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: withoutUndefined({
      name: spec.name,
      namespace,
      labels,
      annotations: template?.metadata?.annotations,
    }),
    spec: withoutUndefined({
      ...jobSpec,
      backoffLimit,
      activeDeadlineSeconds,
      template: {
        ...podTemplate,
        metadata: {
          ...podTemplate?.metadata,
          labels: { ...podTemplate?.metadata?.labels, ...labels, 'kzr.io/job': spec.name },
        },
        spec: withoutUndefined({
          ...podSpec,
          restartPolicy: 'Never',
          serviceAccountName,
          containers: [container],
        }),
      },
    }),
  };
}
