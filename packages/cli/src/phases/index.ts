/**
 * TEMPORARY (branch `runs`): the phase bodies by phase name. The lead's `phases/index.ts` on main
 * replaces this file; until then every body fails, so `kzr phase run` and the controller compile.
 */
import { PhaseName } from '@kzr/pipeline';

import type { PhaseBody } from './context.js';

const missing: PhaseBody = (ctx) => Promise.reject(new Error(`phase ${ctx.node.phase} has no body yet`));

export const phaseBodies: Readonly<Record<PhaseName, PhaseBody>> = Object.fromEntries(
  Object.values(PhaseName).map((name) => [name, missing]),
) as Record<PhaseName, PhaseBody>;
