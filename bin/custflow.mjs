#!/usr/bin/env node
// The custflow CLI runs straight from TypeScript sources through tsx's loader: no build step between a
// fresh clone and a working binary.
import { register } from 'tsx/esm/api';

// The pinned AWS SDK supports Node 20; its notice about future releases is not for custflow's users.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
await import('../scripts/cli.ts');
