export type { IngestAdapter, Transport } from './types.js';
export { seedAdapter } from './seed.js';
export { httpAdapter } from './http.js';
export { graphqlAdapter } from './graphql.js';
export { otlpAdapter } from './otlp.js';
