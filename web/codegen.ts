// Types for every operation the client sends, generated from the server's contract.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: '../schema.graphql',
  documents: ['src/**/*.{ts,tsx}', '!src/gql/**/*'],
  ignoreNoDocuments: true,
  generates: {
    './src/gql/': {
      preset: 'client',
      config: {
        scalars: { UUID: 'string', NaiveDate: 'string', DateTime: 'string', JSON: 'unknown' },
        enumsAsTypes: true,
        useTypeImports: true,
        documentMode: 'string',
      },
      presetConfig: { fragmentMasking: false },
    },
    // Every schema type, for what the client lists before any operation uses it.
    './src/gql/schema.ts': {
      plugins: ['typescript'],
      config: {
        enumsAsTypes: true,
        scalars: { UUID: 'string', NaiveDate: 'string', DateTime: 'string', JSON: 'unknown' },
      },
    },
  },
};
export default config;
