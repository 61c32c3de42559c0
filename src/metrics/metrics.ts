import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { EVENT_TYPES } from '../people/custody-status.js';

export const METRIC_PREFIX = 'vigil_';

export type CustodyEventOutcome = 'recorded' | 'duplicate' | 'conflict' | 'rejected' | 'error';

type CounterChild = ReturnType<Counter<string>['labels']>;
type HistogramChild = ReturnType<Histogram<string>['labels']>;

function childOf<T>(cache: Map<string, Map<string, T>>, first: string, second: string, make: () => T): T {
  let inner = cache.get(first);
  if (!inner) cache.set(first, (inner = new Map<string, T>()));
  let child = inner.get(second);
  if (!child) inner.set(second, (child = make()));
  return child;
}

const KNOWN_TYPES = new Set<string>(EVENT_TYPES);

/**
 * This process's own counters and histograms (each api or worker process has its own; Prometheus
 * sums them). Labels hold only bounded vocabularies: source names (set by admins), event types,
 * channels, statuses and outcomes, never anything about a person. The registry is the app's own, not
 * prom-client's global one, so several apps in one process (tests) keep separate counts.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  private readonly custodyEvents = new Counter({
    name: `${METRIC_PREFIX}custody_events_total`,
    help: 'Custody events received from an authenticated source, by source name, event type and outcome',
    labelNames: ['source', 'type', 'outcome'] as const,
    registers: [this.registry],
  });

  private readonly rosterSnapshots = new Counter({
    name: `${METRIC_PREFIX}roster_snapshots_total`,
    help: 'Roster snapshots taken in, by source name and outcome (baseline, applied, held)',
    labelNames: ['source', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly planningDuration = new Histogram({
    name: `${METRIC_PREFIX}planning_duration_seconds`,
    help: 'Time to plan the notifications and deliveries of one ingestion transaction',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  private readonly attemptDuration = new Histogram({
    name: `${METRIC_PREFIX}delivery_attempt_duration_seconds`,
    help: 'Time from the start of a send attempt to its outcome, by channel and attempt outcome',
    labelNames: ['channel', 'outcome'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  private readonly deliveriesProcessed = new Counter({
    name: `${METRIC_PREFIX}deliveries_processed_total`,
    help: 'Deliveries a worker of this process finished handling, by channel and the status it left them in',
    labelNames: ['channel', 'status'] as const,
    registers: [this.registry],
  });

  // The ingest path counts every event: a label set's child is made once and kept in nested maps,
  // so counting allocates neither label objects nor keys.
  private readonly eventChildren = new Map<string, Map<string, Map<string, CounterChild>>>();
  private readonly attemptChildren = new Map<string, Map<string, HistogramChild>>();
  private readonly processedChildren = new Map<string, Map<string, CounterChild>>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
  }

  custodyEvent(source: string, type: string, outcome: CustodyEventOutcome, count = 1): void {
    const knownType = KNOWN_TYPES.has(type) ? type : 'unknown';
    let bySource = this.eventChildren.get(source);
    if (!bySource) this.eventChildren.set(source, (bySource = new Map<string, Map<string, CounterChild>>()));
    childOf(bySource, outcome, knownType, () => this.custodyEvents.labels(source, knownType, outcome)).inc(count);
  }

  rosterSnapshot(source: string, outcome: 'baseline' | 'applied' | 'held'): void {
    this.rosterSnapshots.labels(source, outcome).inc();
  }

  attempt(channel: string, outcome: string, seconds: number): void {
    childOf(this.attemptChildren, channel, outcome, () => this.attemptDuration.labels(channel, outcome)).observe(seconds);
  }

  deliveryProcessed(channel: string, status: string): void {
    childOf(this.processedChildren, channel, status, () => this.deliveriesProcessed.labels(channel, status)).inc();
  }
}
