// ESLint flat config, run by `npm test` (scripts/lint.mjs) before vitest over packages/*, apps/*, bench
// and test. The rule set is described in README.md ("Lint and import cycles"). Globs, not a list of
// folders, so a new package or app is linted as soon as it exists.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const kTs = ['packages/*/**/*.{ts,mts,tsx}', 'apps/*/**/*.{ts,mts,tsx}', 'bench/**/*.ts', 'test/**/*.ts', 'scripts/**/*.ts', '*.ts'];
const kJs = ['packages/*/**/*.{js,mjs}', 'apps/*/**/*.{js,mjs,jsx}', 'bench/**/*.{js,mjs}', 'test/**/*.{js,mjs}', 'scripts/**/*.mjs', '*.js'];
// Library and app sources and the benchmarks, each covered by its own tsconfig.json: these get the
// type-aware rules (promise safety), for which the type checker must load their programs.
const kTyped = ['packages/*/src/**/*.{ts,mts}', 'apps/*/src/**/*.{ts,mts,tsx}', 'bench/**/*.ts'];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.runtime/**', '**/*.d.ts', 'apps/*/public/**', 'apps/*/web/dist/**', 'bench/scratch/**'] },
  {
    files: [...kTs, ...kJs],
    extends: [js.configs.recommended],
    languageOptions: { ecmaVersion: 2024, sourceType: 'module', globals: { ...globals.node } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      eqeqeq: ['error', 'always'],
      'no-var': 'error',
      'prefer-const': 'error',
      'no-throw-literal': 'error',
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: kTs,
    extends: [tseslint.configs.recommended],
    rules: {
      'no-unused-vars': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Test doubles and protocol fuzzers legitimately pass odd values through `any`-typed seams.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: kTyped,
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // A dropped promise is a lost error or an unawaited scan: the bugs an async server must not have.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/only-throw-error': 'error',
    },
  },
  {
    // Browser code of an app (e.g. a web UI under apps/*/web) runs in the browser, not in Node.
    files: ['apps/*/web/**/*.{ts,tsx,js,mjs,jsx}'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
