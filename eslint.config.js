// Flat config in the spirit of Temporal's samples-typescript: typed linting everywhere, no floating
// promises, and Node built-ins banned in workflow code (workflows run in Temporal's deterministic sandbox).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const WORKFLOW_SANDBOX_PATTERNS = [
  { group: ['node:*'], message: 'Workflow code runs in a deterministic sandbox: no Node built-ins.' },
  {
    group: ['../activities/*/*', '../lib/objectStore*', '@duckdb/*', '@aws-sdk/*'],
    message: 'Workflows import activity types only.',
  },
];
const WORKFLOW_BANNED_MODULES = ['fs', 'path', 'os', 'crypto', 'child_process', 'http', 'https', 'net'];

// Layers, bottom up: lib/ (what every part shares) < activities/ (stages) < workflows/, workers/,
// scripts/ (the CLI), console/, infra/. lib/ imports none of the layers above it (CONTRIBUTING.md, "Code layout").
const LIB_LAYERING_PATTERNS = [
  {
    regex: '^(\\.\\./)+(activities|workflows|workers|scripts|console|infra|tests)(/|$)',
    message:
      'lib/ is the bottom layer: move what lib needs from a stage or the CLI into lib/ (stage config schemas are in lib/stageConfig/).',
  },
];

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
    // lib/stageRegistry.ts is imported by workflows: the same rules keep it deterministic data (its own block
    // below adds lib's layering rule: a later block's no-restricted-imports replaces an earlier one's).
    files: ['workflows/**/*.ts', 'lib/stageRegistry.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: WORKFLOW_SANDBOX_PATTERNS, paths: WORKFLOW_BANNED_MODULES },
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
    files: ['lib/**/*.ts'],
    ignores: ['lib/stageRegistry.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: LIB_LAYERING_PATTERNS }] },
  },
  {
    files: ['lib/stageRegistry.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [...WORKFLOW_SANDBOX_PATTERNS, ...LIB_LAYERING_PATTERNS],
          paths: WORKFLOW_BANNED_MODULES,
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
