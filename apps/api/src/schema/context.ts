/** What every resolver receives: the services (no SQL here) and who is asking. */
import type { Config } from '../config/load.js';
import type { Store } from '../store/types.js';
import type { IngestService } from '../ingest/service.js';
import type { ClockSkewTracker } from '../ingest/clock-skew.js';
import type { MetricsService } from '../metrics/service.js';
import type { ClusterPubSub, LocalPubSub } from '../pubsub/topics.js';
import type { Logger } from '../log/logger.js';
import type { Principal } from '../security/tokens.js';
import type { AlertService } from '../alerts/service.js';
import type { OtlpService } from '../ingest/otlp/service.js';
import type { ReleaseService } from '../releases/service.js';
import type { ImprovementService } from '../improvements/service.js';

export interface Services {
  config: Config;
  logger: Logger;
  store: Store;
  ingest: IngestService;
  clockSkew: ClockSkewTracker;
  metrics: MetricsService;
  cluster: ClusterPubSub;
  local: LocalPubSub;
  alerts: AlertService;
  /** OpenTelemetry traces → interactions (OTLP/HTTP). */
  otlp: OtlpService;
  releases: ReleaseService;
  improvements: ImprovementService;
}

export interface Context {
  services: Services;
  /** The caller's token and scopes, resolved by the security gate for every transport. */
  auth: Principal;
  /** The caller's network address (after a trusted proxy), naming it in clock-skew reports. */
  address: string | null;
}
