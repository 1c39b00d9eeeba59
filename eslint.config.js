// Flat config in the spirit of Temporal's samples-typescript: typed linting everywhere, no floating
// promises, and Node built-ins banned in workflow code (workflows run in Temporal's deterministic sandbox).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '.custflow/**', 'out/**', 'bin/**', 'dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'object-shorthand': ['error', 'always'],
    },
  },
  {
    // lib/stageRegistry.ts is imported by workflows: the same rules keep it deterministic data.
    files: ['workflows/**/*.ts', 'lib/stageRegistry.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*'],
              message: 'Workflow code runs in a deterministic sandbox: no Node built-ins.',
            },
            {
              group: ['../activities/*/*', '../lib/objectStore*', '@duckdb/*', '@aws-sdk/*'],
              message: 'Workflows import activity types only.',
            },
          ],
          paths: ['fs', 'path', 'os', 'crypto', 'child_process', 'http', 'https', 'net'],
        },
      ],
      'no-restricted-properties': [
        'error',
        {
          object: 'Math',
          property: 'random',
          message: 'Use workflow-safe randomness (uuid4 from @temporalio/workflow).',
        },
        {
          object: 'Date',
          property: 'now',
          message: 'Workflow time comes from the Temporal clock; pass it in or use workflow info.',
        },
      ],
    },
  },
  {
    // Stage boundaries: a stage reads another stage's outputs, not its code. activities/<a>/** imports from
    // lib/** and, for the typed metrics and documents it reads, from activities/<b>/contract.ts only.
    files: ['activities/*/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\./[^./][^/]*(/(?!contract$)[^/]+)*$',
              message:
                'Import another stage through its contract.ts (typed metrics and documents), or move shared code to lib/.',
            },
          ],
        },
      ],
    },
  },
  {
    // A stage's own subfolders (activities/report/cards/): `../` is the same stage, `../../<b>` another one.
    files: ['activities/*/*/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\./\\.\\./[^./][^/]*(/(?!contract$)[^/]+)*$',
              message:
                'Import another stage through its contract.ts (typed metrics and documents), or move shared code to lib/.',
            },
          ],
        },
      ],
    },
  },
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
);
