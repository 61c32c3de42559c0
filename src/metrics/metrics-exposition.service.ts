import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { DatabaseGauges } from './database-gauges.service.js';
import { Metrics, METRIC_PREFIX } from './metrics.js';

/** One scrape: the database's gauges read afresh, then this process's metrics, then those gauges if the read worked. */
@Injectable()
export class MetricsExposition {
  private readonly databaseUp: Gauge<string>;

  constructor(
    private readonly metrics: Metrics,
    private readonly gauges: DatabaseGauges,
  ) {
    this.databaseUp = new Gauge({
      name: `${METRIC_PREFIX}metrics_database_up`,
      help: '1 when this scrape read its gauges from PostgreSQL, 0 when it could not (those gauges are then left out)',
      registers: [metrics.registry],
    });
  }

  async scrape(): Promise<string> {
    const readable = await this.gauges.refresh();
    this.databaseUp.set(readable ? 1 : 0);
    const own = await this.metrics.registry.metrics();
    return readable ? own + (await this.gauges.registry.metrics()) : own;
  }
}
