// ESLint flat config (STYLE.md §17): typescript-eslint with type information, import rules,
// relaxed under test/. Generated code is ignored.
import js from '@eslint/js';
import globals from 'globals';
import { importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/**
 * DESIGN.md "Layers": which of our packages each layer's sources may import. A folder not listed
 * (cli) is the top layer and may import any package. Services may import packages, never another
 * service.
 */
const layers = {
  'packages/core': [],
  'packages/api': [],
  'packages/imaging': ['core'],
  'packages/gbdt': ['core'],
  'packages/data': ['core'],
  'packages/pipeline': ['core'],
  'packages/ml': ['core', 'imaging'],
  'packages/platform': ['core', 'api'],
  'packages/artifacts': ['platform', 'ml', 'gbdt', 'pipeline', 'core'],
  'packages/testkit': ['platform'],
};
const packages = [...Object.keys(layers).map((folder) => folder.slice('packages/'.length)), 'cli'];
const services = ['preprocess', 'inference', 'postprocess', 'trainer'];

/** Names from outside become Store keys only in @kzr/artifacts (DESIGN.md "Artifacts"). */
// esquery regexes cannot hold a slash, hence \x2F.
const storeKeyPrefix = String.raw`^(datasets|preprocessed|crops|runs|cache|models|filters|results)\x2F`;
const noExportAll = { selector: 'ExportAllDeclaration', message: 'Export names explicitly.' };
const noStoreKeyLiteral = [`Literal[value=/${storeKeyPrefix}/]`, `TemplateElement[value.raw=/${storeKeyPrefix}/]`].map(
  (selector) => ({ selector, message: 'Build Store keys with @kzr/artifacts, not a literal.' }),
);

const srcPathPattern = {
  group: ['@kzr/*/src/*', '**/packages/*/src/*', '**/services/*/src/*'],
  message: 'Import a package by its name, not its src/.',
};

/** A block for one layer: its sources may import only the `allowed` kzr packages. */
function layerBlock(folder, forbidden) {
  return {
    files: [`${folder}/src/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            srcPathPattern,
            ...(forbidden.length === 0
              ? []
              : [
                  {
                    group: forbidden.map((name) => `@kzr/${name}`),
                    message: `${folder} may not import this layer (DESIGN.md "Layers").`,
                  },
                ]),
          ],
        },
      ],
    },
  };
}
const everyName = [...packages, ...services];
const layerBlocks = [
  ...Object.entries(layers).map(([folder, allowed]) =>
    layerBlock(
      folder,
      everyName.filter((name) => name !== folder.slice('packages/'.length) && !allowed.includes(name)),
    ),
  ),
  ...services.map((service) => layerBlock(`services/${service}`, [...services.filter((s) => s !== service), 'cli'])),
];

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/src/generated/**', '.tools/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver': { node: true } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/explicit-module-boundary-types': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      'no-console': 'error',
      'no-restricted-syntax': ['error', noExportAll, ...noStoreKeyLiteral],
      'no-restricted-imports': ['error', { patterns: [srcPathPattern] }],
      'import-x/no-cycle': 'error',
      'import-x/no-relative-packages': 'error',
      'import-x/order': [
        'error',
        { groups: ['builtin', 'external', ['parent', 'sibling', 'index']], 'newlines-between': 'always' },
      ],
    },
  },
  ...layerBlocks,
  {
    // The one owner of Store keys, and the tests that check keys as users see them.
    files: ['packages/artifacts/src/**/*.ts', '**/test/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-restricted-syntax': ['error', noExportAll] },
  },
  {
    files: ['**/test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/explicit-module-boundary-types': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      'no-console': 'off',
    },
  },
  {
    // The live page's browser modules (packages/cli/web), served as they are.
    files: ['packages/cli/web/**/*.js'],
    languageOptions: { sourceType: 'module', globals: globals.browser },
  },
);
