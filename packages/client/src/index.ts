export { AIMonitorClient, DEFAULT_URL } from './client.js';
export { InteractionTracker, type ToolUseResult, type TrackOptions, type TrackFields } from './tracker.js';
export { toWireRecord, toWireToolUse, errorTypeOf } from './mapping.js';
export {
  AIMonitorError,
  type AIMonitorClientOptions,
  type AIMonitorErrorKind,
  type ClientStats,
  type InteractionRecord,
  type RecordDefaults,
  type RejectedInteraction,
  type ToolUse,
} from './types.js';
export type { InteractionWire, ToolUseWire, HttpIngestReply } from '@ai-monitor/schema';
