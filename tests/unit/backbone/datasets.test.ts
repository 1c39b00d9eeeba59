import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeConfigLayers, readRunConfigFile } from '../../../lib/config';
import { formatConventions, resolveRunConfigLayers, type DatasetSource } from '../../../lib/datasets';
import { ConfigError } from '../../../lib/errors';

const cdnow: DatasetSource[] = [{ table: 'transactions', format: 'cdnow' }];
const onlineRetail: DatasetSource[] = [{ table: 'transactions', format: 'online-retail' }];
const canonical: DatasetSource[] = [
  { table: 'assignments', format: 'canonical' },
  { table: 'transactions', format: 'canonical' },
];

const record = (sources: DatasetSource[], config: unknown = null, dataset = 'shop') => ({
  dataset,
  sources,
  config: config as never,
  configSource: config ? 'dataset.yaml' : null,
});

describe('format defaults', () => {
  it('cdnow: $0 orders are purchases, amounts in USD', () => {
    const { config } = resolveRunConfigLayers(record(cdnow));
    expect(config.clean.quarantineZeroPrice).toBe(false);
    expect(config.currency).toBe('USD');
    expect(config.clean.nonMerchandiseCodes).toEqual([]);
  });

  it("online-retail: GBP and the shop's non-merchandise stock codes", () => {
    const { config } = resolveRunConfigLayers(record(onlineRetail));
    expect(config.currency).toBe('GBP');
    expect(config.clean.quarantineZeroPrice).toBe(true);
    for (const code of ['POST', 'DOT', 'M', 'C2', 'D', 'BANK CHARGES', 'AMAZONFEE'])
      expect(config.clean.nonMerchandiseCodes).toContain(code);
    // real products that merely have odd codes stay merchandise
    expect(config.clean.nonMerchandiseCodes).not.toContain('PADS');
    expect(config.clean.nonMerchandiseCodes).not.toContain('85123A');
  });

  it('canonical: no currency assumed, zero prices quarantined as before', () => {
    const { config } = resolveRunConfigLayers(record(canonical));
    expect(config.currency).toBeUndefined();
    expect(config.clean.quarantineZeroPrice).toBe(true);
  });

  it('no defaults when transactions arrive in two formats, and says why', () => {
    const conventions = formatConventions([...cdnow, ...onlineRetail]);
    expect(conventions.format).toBeNull();
    expect(conventions.note).toMatch(/2 formats \(cdnow, online-retail\)/);
    expect(resolveRunConfigLayers(record([...cdnow, ...onlineRetail])).config.currency).toBeUndefined();
  });
});

describe('config precedence: format defaults < dataset config < command --config', () => {
  it('the dataset config overrides the format, the command config overrides both', () => {
    const dataset = { currency: 'EUR', clean: { outlierIqrMultiplier: 5 }, segment: { kRange: [3, 6] } };
    const withDataset = resolveRunConfigLayers(record(cdnow, dataset));
    expect(withDataset.config.currency).toBe('EUR');
    expect(withDataset.config.clean.outlierIqrMultiplier).toBe(5);
    // untouched format default survives a dataset config that says nothing about it
    expect(withDataset.config.clean.quarantineZeroPrice).toBe(false);
    expect(withDataset.layers.map((l) => l.name)).toEqual(['format', 'dataset']);

    const withCommand = resolveRunConfigLayers(record(cdnow, dataset), {
      source: 'run.yaml',
      config: { clean: { quarantineZeroPrice: true }, segment: { kRange: [2, 4] } },
    });
    expect(withCommand.config.clean.quarantineZeroPrice).toBe(true);
    expect(withCommand.config.clean.outlierIqrMultiplier).toBe(5); // from the dataset layer
    expect(withCommand.config.currency).toBe('EUR');
    // lists are one setting: replaced, not concatenated
    expect(withCommand.config.segment.kRange).toEqual([2, 4]);
    expect(withCommand.layers.map((l) => l.name)).toEqual(['format', 'dataset', 'command']);
  });

  it('extra non-merchandise codes add to the format list; the list itself can be replaced', () => {
    const extra = resolveRunConfigLayers(
      record(onlineRetail, { clean: { extraNonMerchandiseCodes: ['GIFTWRAP'] } }),
    ).config.clean;
    expect(extra.nonMerchandiseCodes).toContain('POST');
    expect(extra.extraNonMerchandiseCodes).toEqual(['GIFTWRAP']);
    const replaced = resolveRunConfigLayers(record(onlineRetail, { clean: { nonMerchandiseCodes: [] } }));
    expect(replaced.config.clean.nonMerchandiseCodes).toEqual([]);
  });

  it('merges mappings key by key and replaces scalars and lists', () => {
    expect(
      mergeConfigLayers(
        { clean: { outlierIqrMultiplier: 2, nonMerchandiseCodes: ['A', 'B'] }, seed: 1 },
        { clean: { nonMerchandiseCodes: ['C'] } },
        { seed: 7 },
      ),
    ).toEqual({ clean: { outlierIqrMultiplier: 2, nonMerchandiseCodes: ['C'] }, seed: 7 });
  });
});

describe('dataset config validation', () => {
  it('an unknown key is an error that names it and the file', () => {
    expect(() => resolveRunConfigLayers(record(cdnow, { clean: { quarantineZeroPrise: false } }))).toThrow(
      /unknown key "clean\.quarantineZeroPrise"/,
    );
    expect(() =>
      resolveRunConfigLayers(record(cdnow), { source: 'run.yaml', config: { curency: 'GBP' } }),
    ).toThrow(ConfigError);
    expect(() =>
      resolveRunConfigLayers(record(cdnow), { source: 'run.yaml', config: { curency: 'GBP' } }),
    ).toThrow(/run\.yaml: unknown key "curency"/);
  });

  it('a currency must be an ISO code', () => {
    expect(() => resolveRunConfigLayers(record(cdnow, { currency: '£' }))).toThrow(
      /currency: must be an ISO 4217/,
    );
  });

  it('a config naming another dataset is refused', () => {
    expect(() =>
      resolveRunConfigLayers(record(cdnow, null, 'cdnow'), {
        source: 'x.yaml',
        config: { dataset: 'other' },
      }),
    ).toThrow(/config is for dataset "other", not "cdnow"/);
  });

  it('reads a YAML file as written (no defaults filled in) after validating it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'custflow-dsconfig-'));
    const good = join(dir, 'good.yaml');
    await writeFile(good, 'currency: GBP\nclean:\n  extraNonMerchandiseCodes: [GIFT]\n');
    expect(await readRunConfigFile(good)).toEqual({
      currency: 'GBP',
      clean: { extraNonMerchandiseCodes: ['GIFT'] },
    });
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'clv:\n  timeUnit: week\n  horizn: 12\n');
    await expect(readRunConfigFile(bad)).rejects.toThrow(/bad\.yaml: unknown key "clv\.horizn"/);
  });
});
