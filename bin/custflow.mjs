#!/usr/bin/env node
// The custflow CLI runs straight from TypeScript sources through tsx's loader: no build step between a
// fresh clone and a working binary.
import { register } from 'tsx/esm/api';

register();
await import('../scripts/cli.ts');
