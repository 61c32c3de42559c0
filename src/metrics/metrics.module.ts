import { Module } from '@nestjs/common';
import { DatabaseGauges } from './database-gauges.service.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsExposition } from './metrics-exposition.service.js';
import { Metrics } from './metrics.js';

/** This process's counters and histograms, for the modules that count (ingestion, planning, delivery). */
@Module({ providers: [Metrics], exports: [Metrics] })
export class MetricsModule {}

/** GET /metrics, served in every role: workers hold the delivery counters, api processes the ingest ones. */
@Module({ imports: [MetricsModule], controllers: [MetricsController], providers: [DatabaseGauges, MetricsExposition] })
export class MetricsApiModule {}
