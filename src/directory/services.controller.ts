import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query, Req } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { CurrentStaff } from '../auth/current-staff.decorator.js';
import { type StaffPrincipal, StaffOnly } from '../auth/staff-auth.guard.js';
import { UuidParam } from '../common/problem/input-rules.js';
import { DirectoryService } from './directory.service.js';
import {
  CreateServiceDto,
  ServiceDto,
  ServiceListDto,
  ServiceListQuery,
  SharedServiceDto,
  ShareServiceDto,
  UpdateServiceDto,
} from './service.dto.js';

/** The services directory, for every staff member: specialists need it to share an entry. */
@ApiTags('services')
@Controller('v1/services')
@StaffOnly('specialist')
export class ServicesController {
  constructor(private readonly directory: DirectoryService) {}

  @Get()
  @ApiOperation({
    summary: 'Search the services directory',
    description: 'Shelters, legal aid, counselling and other services staff can share with a victim; by kind and free text.',
  })
  @ApiOkResponse({ type: ServiceListDto, description: 'Active entries (archived ones too with archived=true), by kind and name' })
  async list(@Query() query: ServiceListQuery): Promise<ServiceListDto> {
    return { services: await this.directory.list({ kind: query.kind, q: query.q, includeArchived: query.archived === 'true' }) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One directory entry', description: 'Archived entries too.' })
  @ApiParam({ name: 'id', format: 'uuid', description: 'The directory entry' })
  @ApiOkResponse({ type: ServiceDto })
  @ApiNotFoundResponse({ description: 'SERVICE_NOT_FOUND' })
  get(@Param('id', UuidParam) id: string): Promise<ServiceDto> {
    return this.directory.get(id);
  }
}

/** Keeping the directory: admins only, every change audited. Entries are archived, never deleted. */
@ApiTags('services')
@Controller('v1/admin/services')
@StaffOnly('admin')
export class ServicesAdminController {
  constructor(private readonly directory: DirectoryService) {}

  @Post()
  @ApiOperation({ summary: 'Add a directory entry', description: 'Admins only. Phone numbers are stored as E.164; audited.' })
  @ApiCreatedResponse({ type: ServiceDto })
  create(@Body() body: CreateServiceDto, @CurrentStaff() staff: StaffPrincipal, @Req() req: FastifyRequest): Promise<ServiceDto> {
    return this.directory.create(body, { staff, clientAddress: req.ip });
  }

  @Patch(':id')
  @ApiOperation({
    summary: 'Change or archive a directory entry',
    description:
      'Admins only. Only the fields sent change; `null` clears an optional one; `archived: true` archives (entries are never deleted). Audited.',
  })
  @ApiParam({ name: 'id', format: 'uuid', description: 'The directory entry' })
  @ApiOkResponse({ type: ServiceDto })
  @ApiNotFoundResponse({ description: 'SERVICE_NOT_FOUND' })
  update(
    @Param('id', UuidParam) id: string,
    @Body() body: UpdateServiceDto,
    @CurrentStaff() staff: StaffPrincipal,
    @Req() req: FastifyRequest,
  ): Promise<ServiceDto> {
    return this.directory.update(id, body, { staff, clientAddress: req.ip });
  }
}

/** Sharing an entry with a victim: through the ledger like any message, in the victim's language, on every contact. */
@ApiTags('services')
@Controller('v1/registrations')
@StaffOnly('specialist')
export class ShareServiceController {
  constructor(private readonly directory: DirectoryService) {}

  @Post(':id/services')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Share a directory entry with a victim',
    description:
      'Sent through the ledger like any message, in the victim’s language, to every verified contact that may receive it. ' +
      'A specialist only for their own enrollees. Audited.',
  })
  @ApiParam({ name: 'id', format: 'uuid', description: 'The registration' })
  @ApiAcceptedResponse({ type: SharedServiceDto })
  @ApiNotFoundResponse({ description: 'REGISTRATION_NOT_FOUND: no such registration, or another specialist’s enrollee' })
  @ApiConflictResponse({ description: 'REGISTRATION_STOPPED' })
  @ApiUnprocessableEntityResponse({ description: 'SERVICE_NOT_AVAILABLE: no such service, or archived' })
  share(
    @Param('id', UuidParam) id: string,
    @Body() body: ShareServiceDto,
    @CurrentStaff() staff: StaffPrincipal,
    @Req() req: FastifyRequest,
  ): Promise<SharedServiceDto> {
    return this.directory.share(id, body.serviceId, { kind: 'staff', staff, clientAddress: req.ip });
  }
}
