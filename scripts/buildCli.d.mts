/** Types of scripts/buildCli.mjs (plain JavaScript: bin/custflow.mjs imports it before anything is compiled). */
export declare const DIST_DIR: string;
export declare function sourceStamp(root: string): string;
export declare function freshEntry(root: string, stamp?: string): string | undefined;
export declare function buildCli(root: string, stamp?: string): Promise<string>;
export declare function ensureCliBundle(
  root: string,
  log?: (message: string) => void,
): Promise<string | undefined>;
