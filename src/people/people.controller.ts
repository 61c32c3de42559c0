import { Body, Controller, Get, Param, Put, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
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
  @ApiOperation({
    summary: 'Search for a person in custody',
    description:
      'By identifier (`identifierSystem` and `identifier`, compared without case, spaces or dashes) or by exact first and last ' +
      'name (case and accents folded), narrowed by date and country of birth. Public and rate limited per client.',
    security: [],
  })
  @ApiUnprocessableEntityResponse({ description: 'SEARCH_CRITERIA: neither an identifier pair nor both names; or invalid fields' })
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
  @ApiOperation({
    summary: 'Protect a person, or lift protection',
    description:
      'Admins only. A protected person disappears from every search and is never notified about; alerts already waiting are ' +
      'withheld. The reason is kept; audited.',
  })
  @ApiParam({ name: 'id', format: 'uuid', description: 'The person' })
  @ApiNotFoundResponse({ description: 'PERSON_NOT_FOUND' })
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
