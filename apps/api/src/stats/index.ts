/** Release statistics: pure functions, no I/O. See README "Release comparison" for the methods. */
export * from './distributions.js';
export * from './proportions.js';
export * from './multiple.js';
export * from './power.js';
export * from './quantiles.js';
export * from './sequential.js';
export * from './compare.js';
