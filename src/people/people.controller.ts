import { Body, Controller, Get, Param, Put, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentStaff } from '../auth/current-staff.decorator.js';
import { type StaffPrincipal, StaffOnly } from '../auth/staff-auth.guard.js';
import { RateLimited } from '../common/rate-limit.js';
import { PeopleQueryDto, PeopleResponseDto, ProtectionBody, ProtectionDto } from './people.dto.js';
import { PeopleService } from './people.service.js';
import { UuidParam } from '../common/problem/input-rules.js';

@ApiTags('people')
@Controller('v1/people')
export class PeopleController {
  constructor(private readonly people: PeopleService) {}

  @Get()
  @RateLimited('public')
  @ApiOkResponse({
    type: PeopleResponseDto,
    description: 'At most 20; minors, protected persons and persons with no custody information (status UNKNOWN) never appear',
  })
  async search(@Query() query: PeopleQueryDto): Promise<PeopleResponseDto> {
    return { people: await this.people.search(query) };
  }
}

@ApiTags('admin')
@Controller('v1/admin/people')
@StaffOnly('admin')
export class PeopleAdminController {
  constructor(private readonly people: PeopleService) {}

  @Put(':id/protection')
  @ApiOkResponse({ type: ProtectionDto })
  protect(
    @Param('id', UuidParam) id: string,
    @Body() body: ProtectionBody,
    @CurrentStaff() staff: StaffPrincipal,
    @Req() req: FastifyRequest,
  ): Promise<ProtectionDto> {
    return this.people.setProtection(id, body.protected, body.reason, { staff, clientAddress: req.ip });
  }
}
