export * from './wire.js';
export * from './alert-config.js';
