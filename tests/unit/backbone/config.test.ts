import { describe, expect, it } from 'vitest';
import { parseRunConfig, stableHash } from '../../../lib/config';
import { ConfigError } from '../../../lib/errors';

describe('run config', () => {
  it('fills every default from an empty file', () => {
    const config = parseRunConfig({});
    expect(config.seed).toBe(42);
    expect(config.clean.outlierIqrMultiplier).toBe(3);
    expect(config.ingest.downloadConcurrency).toBe(16);
  });

  it('names an unknown key with its path', () => {
    expect(() => parseRunConfig({ clean: { outlierIqrMultipler: 2 } }, 'shop.yaml')).toThrow(ConfigError);
    expect(() => parseRunConfig({ clean: { outlierIqrMultipler: 2 } }, 'shop.yaml')).toThrow(
      /shop\.yaml: unknown key "clean\.outlierIqrMultipler"/,
    );
    expect(() => parseRunConfig({ cleen: {} })).toThrow(/unknown key "cleen"/);
  });

  it('names a bad value with its path', () => {
    expect(() => parseRunConfig({ clean: { outlierIqrMultiplier: -1 } })).toThrow(
      /clean\.outlierIqrMultiplier/,
    );
    expect(() => parseRunConfig({ seed: 'x' })).toThrow(/seed/);
  });

  it('hashes JSON independently of key order', () => {
    expect(stableHash({ a: 1, b: { c: [1, 2], d: 'x' } })).toBe(
      stableHash({ b: { d: 'x', c: [1, 2] }, a: 1 }),
    );
    expect(stableHash({ a: 1 })).not.toBe(stableHash({ a: 2 }));
  });
});
