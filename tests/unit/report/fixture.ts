/** The sample report data moved to scripts/bench/reportSample.ts (the report benchmark renders it too). */
export * from '../../../scripts/bench/reportSample';
