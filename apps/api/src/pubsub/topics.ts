/**
 * Publish/subscribe through Yoga's pubsub. `cluster` carries events every replica must see
 * (through Redis when configured); `local` carries this process's own ticks.
 */
import { createPubSub, type PubSub } from 'graphql-yoga';
import { setMaxListeners } from 'node:events';
import type { Interaction } from '../model/interaction.js';
import type { AlertRecord } from '../model/alert.js';

export type ClusterTopics = {
  /** Interactions committed by any replica, one event per transaction. */
  interactions: [records: Interaction[]];
  /** A new alert (`alertRaised`). */
  alerts: [alert: AlertRecord];
  /** An alert resolved, acknowledged or with a delivery recorded (`alertUpdated`). */
  alertUpdates: [alert: AlertRecord];
};

export type LocalTopics = {
  /** A coalesced "metrics may have changed" tick (epoch ms). */
  metricsTick: [at: number];
};

export type ClusterPubSub = PubSub<ClusterTopics>;
export type LocalPubSub = PubSub<LocalTopics>;

/** An EventTarget without Node's 10-listener warning: every subscriber adds a listener. */
export function unboundedEventTarget(): EventTarget {
  const target = new EventTarget();
  setMaxListeners(0, target);
  return target;
}

export function createLocalPubSub(): LocalPubSub {
  return createPubSub<LocalTopics>({ eventTarget: unboundedEventTarget() });
}

export function createClusterPubSub(eventTarget?: EventTarget): ClusterPubSub {
  return createPubSub<ClusterTopics>({ eventTarget: eventTarget ?? unboundedEventTarget() });
}
