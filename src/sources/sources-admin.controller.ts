import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiParam, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { CurrentStaff } from '../auth/current-staff.decorator.js';
import { type StaffPrincipal, StaffOnly } from '../auth/staff-auth.guard.js';
import { FacilitiesService, type SuppressionDto } from './facilities.service.js';
import { type FeedDto, FeedHealthService } from './feed-health.service.js';
import { CreatedSourceDto, CreatedSourceKeyDto, CreateSourceDto, FACILITY_CODE, SourceDto, upperTrim } from './source.dto.js';
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
  @ApiCreatedResponse({ type: CreatedSourceDto, description: 'The API key and signing secret are shown only here' })
  create(@Body() body: CreateSourceDto, @CurrentStaff() staff: StaffPrincipal, @Req() req: FastifyRequest): Promise<CreatedSourceDto> {
    return this.sources.create(body, { staff, clientAddress: req.ip });
  }

  @Get('sources')
  @ApiOkResponse({ type: [SourceDto] })
  list(): Promise<SourceDto[]> {
    return this.sources.list();
  }

  @Post('sources/:id/keys')
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
  @ApiNoContentResponse()
  async revokeKey(
    @Param('id', UuidParam) id: string,
    @Param('keyId', UuidParam) keyId: string,
    @CurrentStaff() staff: StaffPrincipal,
    @Req() req: FastifyRequest,
  ): Promise<void> {
    await this.sources.revokeKey(id, keyId, { staff, clientAddress: req.ip });
  }

  @Get('feeds')
  @ApiOkResponse({ description: 'Per source and facility: last contact, expected interval, stale flag, population' })
  listFeeds(): Promise<FeedDto[]> {
    return this.feeds.list();
  }

  @Put('facilities/:code/suppression')
  @ApiParam({ name: 'code', example: 'HCJ-1', description: 'Facility code: 1-32 letters, digits, dot, dash or underscore' })
  @ApiOkResponse()
  suppress(
    @Param() params: FacilityCodeParam,
    @Body() body: SuppressionBody,
    @CurrentStaff() staff: StaffPrincipal,
    @Req() req: FastifyRequest,
  ): Promise<SuppressionDto> {
    return this.facilities.setSuppression(params.code, body.suppressed, body.reason, { staff, clientAddress: req.ip });
  }
}
