import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

// Workflow code is replayed: no Node builtins, no I/O, no wall clock, no randomness outside Temporal's APIs.
const workflowForbiddenModules = [
  ...builtinModules,
  ...builtinModules.map((m) => `node:${m}`),
  'pg',
  'mssql',
  'hono',
  '@hono/node-server',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
  'pino',
  'yaml',
  'tar',
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cutover/**', 'examples/**/node_modules/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: workflowForbiddenModules.map((name) => ({
            name,
            message: 'Workflow code must be deterministic: do I/O in an activity.',
            allowTypeImports: true,
          })),
          patterns: [
            {
              // The agent's contract is pure (types and slot ids); everything else there does I/O.
              regex:
                '/(activities|engines|api|stack|devtools|logging|platform/router|platform/agent/(?!contract))|/config/load|/packages/(?!manifest)',
              message: 'Workflows reach the world only through activities (type-only imports are fine).',
              allowTypeImports: true,
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'Not available in workflows.' },
        { name: 'setImmediate', message: 'Use Temporal timers.' },
        { name: 'fetch', message: 'Do I/O in an activity.' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
          message: 'Use workflow time through Temporal APIs (Date is replay-safe only via the sandbox; prefer workflowInfo()).',
        },
        {
          selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']",
          message: 'Use uuid4() from @temporalio/workflow.',
        },
      ],
    },
  },
  {
    // Tests read JSON bodies loosely; production code may not.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        setTimeout: 'readonly',
        URL: 'readonly',
      },
    },
  },
);
