import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { LivenessDto } from './health.dto.js';
import { HealthCheck, HealthCheckService, type HealthCheckResult, TypeOrmHealthIndicator } from '@nestjs/terminus';

@ApiTags('ops')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
  ) {}

  /** The process is up; says nothing about its dependencies. */
  @Get('live')
  @ApiOperation({
    summary: 'Liveness',
    description: 'The process is up and answering. Says nothing about the database: use readiness for that.',
    security: [],
  })
  @ApiOkResponse({ type: LivenessDto })
  @ApiResponse({ status: 431, description: 'Request line or headers over 16 KB, answered before routing' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Ready to serve: PostgreSQL answers. 503 with Retry-After otherwise. */
  @Get('ready')
  @ApiOperation({
    summary: 'Readiness',
    description: 'Ready to serve: PostgreSQL answered within 2 seconds. Otherwise 503 with Retry-After.',
    security: [],
  })
  @ApiServiceUnavailableResponse({ description: 'Not ready: the database did not answer; Retry-After says when to look again' })
  @ApiResponse({ status: 431, description: 'Request line or headers over 16 KB, answered before routing' })
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check([() => this.database.pingCheck('database', { timeout: 2_000 })]);
  }
}
