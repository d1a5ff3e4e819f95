/**
 * Checking an {@link ArchitectureConfig} without TensorFlow.js, so readers of model-set manifests
 * (`@kzr/artifacts`, through `@kzr/ml/architecture`) validate architectures without loading it.
 */
import { MlValidationError } from '../errors.js';
import { Arch, type ArchitectureConfig, Stem } from './types.js';

/**
 * Bounds on the declared dimensions, checked before anything is built: a model at the bound is
 * already far larger than any upstream one (4,212 classes, multipliers up to 1.8), and past it a
 * config asks for gigabytes (`widthMultiplier: 100` took 7.4 GB and minutes to refuse).
 */
const ArchitectureLimits = {
  /** Most classes. */
  maxNumClasses: 100_000,
  /** Largest width or depth multiplier. */
  maxMultiplier: 8,
  /** Largest `groups` and `baseWidth` (ResNeXt). */
  maxGroupWidth: 1024,
} as const;

function positive(value: unknown, field: string, max = Number.POSITIVE_INFINITY): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > max)) {
    const range = max === Number.POSITIVE_INFINITY ? 'a positive number' : `a positive number up to ${max}`;
    throw new MlValidationError(field, `expected ${range}, got ${JSON.stringify(value)}`);
  }
}

/** Checks an architecture config; throws {@link MlValidationError} naming the bad field. */
export function validateArchitecture(config: ArchitectureConfig, prefix = 'config'): void {
  if (!(Object.values(Arch) as string[]).includes(config.arch)) {
    throw new MlValidationError(
      `${prefix}.arch`,
      `unknown architecture "${String(config.arch)}"; expected one of ${Object.values(Arch).join(', ')}`,
    );
  }
  if (config.inputChannels !== 1 && config.inputChannels !== 3) {
    throw new MlValidationError(
      `${prefix}.inputChannels`,
      `expected 1 or 3, got ${JSON.stringify(config.inputChannels)}`,
    );
  }
  const { maxNumClasses, maxMultiplier, maxGroupWidth } = ArchitectureLimits;
  if (!Number.isInteger(config.numClasses) || config.numClasses < 2 || config.numClasses > maxNumClasses) {
    throw new MlValidationError(
      `${prefix}.numClasses`,
      `expected an integer in [2, ${maxNumClasses}], got ${JSON.stringify(config.numClasses)}`,
    );
  }
  positive(config.widthMultiplier, `${prefix}.widthMultiplier`, maxMultiplier);
  positive(config.depthMultiplier, `${prefix}.depthMultiplier`, maxMultiplier);
  positive(config.headScale, `${prefix}.headScale`);
  positive(config.groups, `${prefix}.groups`, maxGroupWidth);
  positive(config.baseWidth, `${prefix}.baseWidth`, maxGroupWidth);
  const seed = config.initSeed;
  if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) {
    throw new MlValidationError(
      `${prefix}.initSeed`,
      `expected an integer in [0, 2^32 - 1], got ${JSON.stringify(seed)}`,
    );
  }
  if (config.stem !== undefined && !(Object.values(Stem) as string[]).includes(config.stem)) {
    throw new MlValidationError(
      `${prefix}.stem`,
      `expected ${Object.values(Stem).join(' or ')}, got "${String(config.stem)}"`,
    );
  }
}
