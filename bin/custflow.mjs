#!/usr/bin/env node
// The custflow CLI. It runs the bundle in dist/cli/ (scripts/buildCli.mjs), rebuilt here whenever a source
// file is newer than it, so a command starts in a fraction of a second and never runs stale code; without
// esbuild, or with CUSTFLOW_FROM_SOURCE=1, it runs the TypeScript sources through tsx's loader (slower:
// every start transforms them).
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// The pinned AWS SDK supports Node 20; its notice about future releases is not for custflow's users.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const bundle =
  process.env.CUSTFLOW_FROM_SOURCE === '1'
    ? undefined
    : await import('../scripts/buildCli.mjs').then(
        ({ ensureCliBundle }) => ensureCliBundle(root, (message) => process.stderr.write(`${message}\n`)),
        () => undefined,
      );
if (bundle) {
  await import(pathToFileURL(bundle).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../scripts/cli.ts');
}
