#!/usr/bin/env node
// The `kzr` command. Sources are TypeScript; tsx compiles them on load, so no build is needed.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
