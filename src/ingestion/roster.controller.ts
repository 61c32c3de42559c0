import { Body, Controller, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiParam, ApiAcceptedResponse, ApiBody, ApiNoContentResponse, ApiOkResponse, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { CurrentStaff } from '../auth/current-staff.decorator.js';
import { type StaffPrincipal, StaffOnly } from '../auth/staff-auth.guard.js';
import { FACILITY_CODE, upperTrim } from '../sources/source.dto.js';
import { CurrentSource, type SourceRequest, SourceOnly } from '../sources/source-auth.guard.js';
import { openApiSchema, parseWith } from '../common/problem/validation.js';
import { rosterSchema } from './custody-event.schema.js';
import { RosterResultDto, RosterSnapshotDto } from './roster.dto.js';
import { RosterService } from './roster.service.js';
import { UuidParam } from '../common/problem/input-rules.js';

class FacilityCodeParam {
  @Transform(upperTrim)
  @Matches(FACILITY_CODE, { message: 'must be 1-32 letters, digits, dot, dash or underscore' })
  code: string;
}

class SnapshotQuery {
  @ApiPropertyOptional({ enum: ['held', 'applied', 'baseline', 'approved', 'discarded'], default: 'held' })
  @IsOptional()
  @IsIn(['held', 'applied', 'baseline', 'approved', 'discarded'])
  status?: string;
}

@ApiTags('ingestion')
@Controller('v1/facilities')
@SourceOnly()
export class RosterController {
  constructor(private readonly rosters: RosterService) {}

  @Put(':code/roster')
  @ApiParam({ name: 'code', example: 'HCJ-1', description: 'Facility code: 1-32 letters, digits, dot, dash or underscore' })
  @HttpCode(202)
  @ApiAcceptedResponse({ type: RosterResultDto, description: 'Counts are what the diff found, whether or not it was held' })
  @ApiBody({ schema: openApiSchema(rosterSchema) })
  submit(@Param() params: FacilityCodeParam, @Body() body: unknown, @CurrentSource() source: SourceRequest): Promise<RosterResultDto> {
    return this.rosters.submit(source, params.code, parseWith(rosterSchema, body));
  }
}

@ApiTags('admin')
@Controller('v1/admin/roster-snapshots')
@StaffOnly('admin')
export class RosterAdminController {
  constructor(private readonly rosters: RosterService) {}

  @Get()
  @ApiOkResponse({ type: [RosterSnapshotDto] })
  async list(@Query() query: SnapshotQuery): Promise<{ snapshots: RosterSnapshotDto[] }> {
    return { snapshots: await this.rosters.list(query.status ?? 'held') };
  }

  @Post(':id/approve')
  @HttpCode(200)
  @ApiOkResponse({ type: RosterResultDto, description: 'The held events are emitted now' })
  approve(@Param('id', UuidParam) id: string, @CurrentStaff() staff: StaffPrincipal): Promise<RosterResultDto> {
    return this.rosters.approve(id, staff.staffId);
  }

  @Post(':id/discard')
  @HttpCode(204)
  @ApiNoContentResponse()
  async discard(@Param('id', UuidParam) id: string, @CurrentStaff() staff: StaffPrincipal): Promise<void> {
    await this.rosters.discard(id, staff.staffId);
  }
}
