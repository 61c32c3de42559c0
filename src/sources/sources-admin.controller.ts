import { Body, Controller, Delete, Get, Header, HttpCode, Param, Post, Put, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProperty,
  ApiTags,
} from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { CurrentStaff } from '../auth/current-staff.decorator.js';
import { type StaffPrincipal, StaffOnly } from '../auth/staff-auth.guard.js';
import { FacilitiesService, type SuppressionDto } from './facilities.service.js';
import { type FeedDto, FeedHealthService } from './feed-health.service.js';
import {
  CreatedSourceDto,
  CreatedSourceKeyDto,
  CreateSourceDto,
  FACILITY_CODE,
  FacilitySuppressionDto,
  FeedHealthDto,
  SourceDto,
  upperTrim,
} from './source.dto.js';
import { SourcesService } from './sources.service.js';
import { UuidParam } from '../common/problem/input-rules.js';

export class SuppressionBody {
  @ApiProperty() @IsBoolean() suppressed: boolean;
  @ApiProperty({ example: 'JMS maintenance window 02:00-04:00' })
  @IsString()
  @MinLength(1)
  @MaxLength(500)
  reason: string;
}

class FacilityCodeParam {
  @Transform(upperTrim)
  @Matches(FACILITY_CODE, { message: 'must be 1-32 letters, digits, dot, dash or underscore' })
  code: string;
}

@ApiTags('admin')
@Controller('v1/admin')
@StaffOnly('admin')
export class SourcesAdminController {
  constructor(
    private readonly sources: SourcesService,
    private readonly feeds: FeedHealthService,
    private readonly facilities: FacilitiesService,
  ) {}

  @Post('sources')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Add a source',
    description:
      'Admins only. A jail or custody system that will post events and rosters: returns its first API key and its Standard ' +
      'Webhooks signing secret, each shown once. Audited.',
  })
  @ApiConflictResponse({ description: 'SOURCE_NAME_TAKEN' })
  @ApiCreatedResponse({ type: CreatedSourceDto, description: 'The API key and signing secret are shown only here' })
  create(@Body() body: CreateSourceDto, @CurrentStaff() staff: StaffPrincipal, @Req() req: FastifyRequest): Promise<CreatedSourceDto> {
    return this.sources.create(body, { staff, clientAddress: req.ip });
  }

  @Get('sources')
  @ApiOperation({
    summary: 'List sources',
    description: 'Admins only. Every source with its active keys (prefixes only) and last contact.',
  })
  @ApiOkResponse({ type: [SourceDto] })
  list(): Promise<SourceDto[]> {
    return this.sources.list();
  }

  @Post('sources/:id/keys')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Add an API key to a source',
    description: 'Admins only. For rotation: the new key works at once beside the old ones and is shown once. Audited.',
  })
  @ApiParam({ name: 'id', format: 'uuid', description: 'The source' })
  @ApiNotFoundResponse({ description: 'SOURCE_NOT_FOUND' })
  @ApiConflictResponse({ description: 'SOURCE_KEY_LIMIT: too many active keys; revoke one first' })
  @ApiCreatedResponse({ type: CreatedSourceKeyDto })
  addKey(
    @Param('id', UuidParam) id: string,
    @CurrentStaff() staff: StaffPrincipal,
    @Req() req: FastifyRequest,
  ): Promise<CreatedSourceKeyDto> {
    return this.sources.addKey(id, { staff, clientAddress: req.ip });
  }

  @Delete('sources/:id/keys/:keyId')
  @HttpCode(204)
  @ApiOperation({
    summary: "Revoke a source's API key",
    description: "Admins only. The key stops working at once. A source's last active key cannot be revoked. Audited.",
  })
  @ApiParam({ name: 'id', format: 'uuid', description: 'The source' })
  @ApiParam({ name: 'keyId', format: 'uuid', description: 'The key' })
  @ApiNotFoundResponse({ description: 'SOURCE_KEY_NOT_FOUND: no such active key' })
  @ApiConflictResponse({ description: 'SOURCE_KEY_LAST: add a new key before revoking this one' })
  @ApiNoContentResponse({ description: 'Revoked' })
  async revokeKey(
    @Param('id', UuidParam) id: string,
    @Param('keyId', UuidParam) keyId: string,
    @CurrentStaff() staff: StaffPrincipal,
    @Req() req: FastifyRequest,
  ): Promise<void> {
    await this.sources.revokeKey(id, keyId, { staff, clientAddress: req.ip });
  }

  @Get('feeds')
  @ApiOperation({
    summary: 'Feed health',
    description:
      'Admins only. Per source and facility: last contact, expected interval, whether it is stale (silent too long), population.',
  })
  @ApiOkResponse({ type: [FeedHealthDto], description: 'Per source and facility: last contact, expected interval, stale flag, population' })
  listFeeds(): Promise<FeedDto[]> {
    return this.feeds.list();
  }

  @Put('facilities/:code/suppression')
  @ApiParam({ name: 'code', example: 'HCJ-1', description: 'Facility code: 1-32 letters, digits, dot, dash or underscore' })
  @ApiOperation({
    summary: 'Suppress or resume alerts for a facility',
    description:
      'Admins only. While suppressed, events from the facility are recorded and statuses updated, but nobody is notified. ' +
      'The reason is kept; every change is audited.',
  })
  @ApiOkResponse({ type: FacilitySuppressionDto })
  suppress(
    @Param() params: FacilityCodeParam,
    @Body() body: SuppressionBody,
    @CurrentStaff() staff: StaffPrincipal,
    @Req() req: FastifyRequest,
  ): Promise<SuppressionDto> {
    return this.facilities.setSuppression(params.code, body.suppressed, body.reason, { staff, clientAddress: req.ip });
  }
}
