/**
 * Checking an {@link ArchitectureConfig} without TensorFlow.js, so readers of model-set manifests
 * (`@kzr/artifacts`, through `@kzr/ml/architecture`) validate architectures without loading it.
 */
import { MlValidationError } from '../errors.js';
import { Arch, type ArchitectureConfig, Stem } from './types.js';

function positive(value: unknown, field: string): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)) {
    throw new MlValidationError(field, `expected a positive number, got ${JSON.stringify(value)}`);
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
  if (!Number.isInteger(config.numClasses) || config.numClasses < 2) {
    throw new MlValidationError(
      `${prefix}.numClasses`,
      `expected an integer ≥ 2, got ${JSON.stringify(config.numClasses)}`,
    );
  }
  positive(config.widthMultiplier, `${prefix}.widthMultiplier`);
  positive(config.depthMultiplier, `${prefix}.depthMultiplier`);
  positive(config.headScale, `${prefix}.headScale`);
  positive(config.groups, `${prefix}.groups`);
  positive(config.baseWidth, `${prefix}.baseWidth`);
  if (config.stem !== undefined && !(Object.values(Stem) as string[]).includes(config.stem)) {
    throw new MlValidationError(
      `${prefix}.stem`,
      `expected ${Object.values(Stem).join(' or ')}, got "${String(config.stem)}"`,
    );
  }
}
