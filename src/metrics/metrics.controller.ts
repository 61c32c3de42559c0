import { Controller, Get, Header, Inject, Req } from '@nestjs/common';
import {
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiSecurity,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Registry } from 'prom-client';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { checkMetricsAccess } from './metrics-access.js';
import { MetricsExposition } from './metrics-exposition.service.js';

const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip'] as const;

@ApiTags('ops')
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly exposition: MetricsExposition,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Prometheus metrics of this process, and the gauges read from the database',
    description:
      'Text exposition format. With METRICS_TOKEN set, a bearer token is required (401 without it); unset, only loopback ' +
      'connections are answered (403 otherwise). Not rate limited. See README, Monitoring.',
  })
  // The token, or nothing from loopback when no token is configured.
  @ApiSecurity('metrics-token')
  @ApiSecurity({})
  @ApiUnauthorizedResponse({ description: 'METRICS_TOKEN is set and the request did not carry it' })
  @ApiForbiddenResponse({ description: 'No METRICS_TOKEN is set and the connection is not from loopback' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } })
  async scrape(@Req() request: FastifyRequest): Promise<string> {
    checkMetricsAccess(this.config.metricsToken, {
      authorization: request.headers.authorization,
      remoteAddress: request.raw.socket?.remoteAddress,
      forwarded: FORWARDING_HEADERS.flatMap((name) => request.headers[name] ?? []),
    });
    return this.exposition.scrape();
  }
}
