/**
 * `custflow data generate --attributes`: a generated dataset with open inputs (issue 14, item 1): the
 * planted customers table (attributes.ts) and extension columns on transactions and events (extensions.ts),
 * and dataset-config.json, the `attributes` section that declares both, for `data load --config`. What is
 * planted with and without an effect on spend goes to truth_attributes.json.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePlantedAttributes } from './attributes';
import { writePlantedExtensions } from './extensions';

export interface OpenInputs {
  /** dataset-config.json: the attributes config declaring the customers table and extension columns. */
  configPath: string;
  /** The customers table (client column names). */
  customersPath: string;
  /** truth_attributes.json: names (as the tests report them) with and without a planted effect. */
  truthPath: string;
  withEffect: string[];
  withoutEffect: string[];
}

export function writeOpenInputs(outDir: string, seed: number): OpenInputs {
  const attributes = writePlantedAttributes(outDir, seed);
  const extensions = writePlantedExtensions(outDir, seed);
  const config = {
    attributes: {
      ...(attributes.config.attributes as Record<string, unknown>),
      ...(extensions.config.attributes as Record<string, unknown>),
    },
  };
  const configPath = join(outDir, 'dataset-config.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2) + '\n');
  const withEffect = [...attributes.withEffect, ...extensions.withEffect];
  const withoutEffect = [...attributes.withoutEffect, ...extensions.withoutEffect];
  const truthPath = join(outDir, 'truth_attributes.json');
  writeFileSync(
    truthPath,
    JSON.stringify(
      {
        withEffect,
        withoutEffect,
        badValues: { ...attributes.badValues, ...extensions.badValues },
        extensionRows: extensions.rows,
      },
      null,
      2,
    ) + '\n',
  );
  return { configPath, customersPath: attributes.path, truthPath, withEffect, withoutEffect };
}
