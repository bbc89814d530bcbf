// Lint rules: typed linting with floating promises as errors (a dropped promise is a lost step).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'scratch/**', 'src/inspector/assets/**', 'bench/results/**'] },
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { project: './tsconfig.check.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // Configuration and build scripts are outside the typed project.
  { files: ['*.js', '*.cjs', '*.ts', 'scripts/**'], ignores: ['src/**', 'test/**', 'bench/**', 'examples/**'], ...tseslint.configs.disableTypeChecked },
);
