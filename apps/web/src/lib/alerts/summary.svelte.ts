/**
 * Open-alert counts shared by the navigation badge and the overview tile, kept live by the
 * alert subscriptions (a burst of alert events makes one re-query), plus the newest raised
 * alert for the page-wide notice.
 */
import type { Client } from '@urql/core';
import { AlertRaised, AlertSummaryQuery, AlertUpdated } from '$lib/graphql/documents';
import { LiveQuery, subscribe } from '$lib/graphql/live-query.svelte';
import type { Alert } from '$lib/graphql/types';
import { throttle } from '$lib/live/coalesce';

export const ALERT_SUMMARY_KEY = Symbol('alert-summary');

export class AlertSummaryState {
  readonly query: LiveQuery<{ alertSummary: { open: number; firing: number; unacknowledged: number } }, Record<string, never>>;
  /** The last alert raised while the page was open, until dismissed. */
  latest = $state.raw<Alert | null>(null);
  /** Bumped on every alert event, so the alerts page can refresh its list. */
  version = $state(0);
  private readonly refetch;

  constructor(private readonly client: Client) {
    this.query = new LiveQuery(client, AlertSummaryQuery);
    this.refetch = throttle(() => this.query.run({}), 500);
  }

  refresh(): void {
    this.refetch.schedule();
  }

  /** Starts the alert subscriptions; returns the stop function. */
  listen(): () => void {
    const stops = [
      subscribe(this.client, AlertRaised, {}, (d) => {
        this.latest = d.alertRaised;
        this.version++;
        this.refetch.schedule();
      }),
      subscribe(this.client, AlertUpdated, {}, () => {
        this.version++;
        this.refetch.schedule();
      }),
    ];
    return () => {
      for (const stop of stops) stop();
      this.refetch.cancel();
    };
  }
}
