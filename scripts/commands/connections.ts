/** Moved to lib/connections.ts (the console reads it too, and lib/ never imports scripts/); kept for the CLI. */
export * from '../../lib/connections';
