/**
 * Named model variables. Trainable parameters (convolution weights, batch-norm gamma / beta,
 * SE biases, the head's class weights) and non-trainable state (batch-norm running statistics)
 * live in one ordered registry, so checkpoints, weight decay and parameter counts all walk the
 * same list. Initial values come from a seeded {@link Rng}, never from tfjs's global random state.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '@kzr/core';

/** One registered variable. */
export interface NamedVariable {
  /** Dotted name, for example `layer1.0.conv1.weight`. */
  readonly name: string;
  readonly variable: tf.Variable;
  /** False for batch-norm running statistics. */
  readonly trainable: boolean;
}

/** Ordered registry of a model's variables. */
export class ParamSet {
  readonly entries: NamedVariable[] = [];
  private readonly byName = new Map<string, NamedVariable>();

  /** Registers a variable holding `values`. */
  add(name: string, shape: number[], values: Float32Array, trainable = true): tf.Variable {
    if (this.byName.has(name)) throw new Error(`duplicate variable name ${name}`);
    const initial = tf.tensor(values, shape, 'float32');
    const variable = tf.variable(initial, trainable, `${name}_${uid++}`);
    initial.dispose(); // the variable holds its own reference to the data
    const entry = { name, variable, trainable };
    this.entries.push(entry);
    this.byName.set(name, entry);
    return variable;
  }

  /** The trainable variables, in registration order. */
  trainable(): tf.Variable[] {
    return this.entries.filter((e) => e.trainable).map((e) => e.variable);
  }

  /** Number of trainable scalars whose name starts with `prefix` (all when omitted). */
  countTrainable(prefix = ''): number {
    let n = 0;
    for (const e of this.entries) if (e.trainable && e.name.startsWith(prefix)) n += e.variable.size;
    return n;
  }

  /** Looks a variable up by name. */
  get(name: string): NamedVariable | undefined {
    return this.byName.get(name);
  }

  /** Frees every variable. */
  dispose(): void {
    for (const e of this.entries) e.variable.dispose();
    this.entries.length = 0;
    this.byName.clear();
  }
}

let uid = 0;

/** Values filled from a normal distribution. */
export function normalInit(rng: Rng, size: number, std: number): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = std * rng.normal();
  return out;
}

/** Values filled from U(-bound, bound). */
export function uniformInit(rng: Rng, size: number, bound: number): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = rng.uniform(-bound, bound);
  return out;
}

/** A constant fill. */
export function constantInit(size: number, value: number): Float32Array {
  return new Float32Array(size).fill(value);
}
