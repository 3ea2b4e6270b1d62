export * from './limits.js';
export * from './record.js';
export * from './wire.js';
export * from './alert-config.js';
export * from './otel.js';
