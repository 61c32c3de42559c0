import { Body, Controller, Get, Header, HttpCode, Param, Patch, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CurrentStaff } from './current-staff.decorator.js';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { CreateStaffDto, PasswordResetResponseDto, StaffResponseDto, UpdateStaffDto } from './staff.dto.js';
import { type StaffPrincipal, StaffOnly } from './staff-auth.guard.js';
import { StaffService } from './staff.service.js';
import { UuidParam } from '../common/problem/input-rules.js';

@ApiTags('admin')
@Controller('v1/admin/staff')
@StaffOnly('admin')
export class StaffController {
  constructor(private readonly staff: StaffService) {}

  @Post()
  @ApiOperation({
    summary: 'Add a staff member',
    description: 'Admins only. Creates a specialist or admin with the given password (at least 12 characters); audited.',
  })
  @ApiCreatedResponse({ type: StaffResponseDto })
  @ApiConflictResponse({ description: 'That email is already a staff member' })
  create(@Body() body: CreateStaffDto, @CurrentStaff() staff: StaffPrincipal, @Req() req: FastifyRequest): Promise<StaffResponseDto> {
    return this.staff.create(body.email, body.password, body.role, { staff, clientAddress: req.ip });
  }

  @Get()
  @ApiOperation({ summary: 'List staff members', description: 'Admins only. Every staff account, disabled ones included.' })
  @ApiOkResponse({ type: [StaffResponseDto] })
  list(): Promise<StaffResponseDto[]> {
    return this.staff.list();
  }

  @Patch(':id')
  @ApiOperation({
    summary: 'Disable or re-enable a staff member',
    description:
      "Admins only. Disabling ends the account's sessions and tokens at once; nobody can disable themselves or the last active admin.",
  })
  @ApiParam({ name: 'id', format: 'uuid', description: 'The staff member' })
  @ApiOkResponse({ type: StaffResponseDto })
  @ApiNotFoundResponse({ description: 'STAFF_NOT_FOUND' })
  @ApiConflictResponse({ description: 'STAFF_SELF_DISABLE: your own account; STAFF_LAST_ADMIN: the last active admin' })
  update(
    @Param('id', UuidParam) id: string,
    @Body() body: UpdateStaffDto,
    @CurrentStaff() staff: StaffPrincipal,
    @Req() req: FastifyRequest,
  ): Promise<StaffResponseDto> {
    return this.staff.setDisabled(id, body.disabled, { staff, clientAddress: req.ip });
  }

  @Post(':id/password-reset')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Give a staff member a new password',
    description:
      'Vigil makes the password and returns it once; the account’s open sessions and tokens end at once, and a login lockout on it is lifted. Takes no body.',
  })
  @ApiParam({ name: 'id', format: 'uuid', description: 'The staff member' })
  @ApiOkResponse({ type: PasswordResetResponseDto })
  @ApiNotFoundResponse({ description: 'STAFF_NOT_FOUND' })
  async resetPassword(
    @Param('id', UuidParam) id: string,
    @CurrentStaff() staff: StaffPrincipal,
    @Req() req: FastifyRequest,
  ): Promise<PasswordResetResponseDto> {
    const { staffId, temporaryPassword } = await this.staff.resetPassword(id, { staff, clientAddress: req.ip });
    return { staffId, temporaryPassword };
  }
}
