/** Types of flood.mjs, for the TypeScript test that shares it with the benchmark. */
export interface FloodOptions {
  url: string;
  wsUrl: string;
  pid: number;
  clients?: number;
  seconds?: number;
  maxPayloadBytes?: number;
  hardCapFactor?: number;
}

export interface FloodResult {
  connections: number;
  refused: number;
  replies: number;
  errorReplies: number;
  bytes: number;
  frames: Record<string, number>;
  closes: Record<string, number>;
  healthProbes: number;
  healthFailures: number;
  rssBefore: number;
  peakRss: number;
  rssAfter: number;
  hwm: number;
}

export function memoryOf(pid: number): Promise<{ rss: number; hwm: number }>;
export function runFlood(options: FloodOptions): Promise<FloodResult>;
