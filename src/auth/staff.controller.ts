import { Body, Controller, Get, Param, Patch, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CurrentStaff } from './current-staff.decorator.js';
import { ApiConflictResponse, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CreateStaffDto, StaffResponseDto, UpdateStaffDto } from './staff.dto.js';
import { type StaffPrincipal, StaffOnly } from './staff-auth.guard.js';
import { StaffService } from './staff.service.js';
import { UuidParam } from '../common/problem/input-rules.js';

@ApiTags('admin')
@Controller('v1/admin/staff')
@StaffOnly('admin')
export class StaffController {
  constructor(private readonly staff: StaffService) {}

  @Post()
  @ApiCreatedResponse({ type: StaffResponseDto })
  @ApiConflictResponse({ description: 'That email is already a staff member' })
  create(@Body() body: CreateStaffDto, @CurrentStaff() staff: StaffPrincipal, @Req() req: FastifyRequest): Promise<StaffResponseDto> {
    return this.staff.create(body.email, body.password, body.role, { staff, clientAddress: req.ip });
  }

  @Get()
  @ApiOkResponse({ type: [StaffResponseDto] })
  list(): Promise<StaffResponseDto[]> {
    return this.staff.list();
  }

  @Patch(':id')
  @ApiOkResponse({ type: StaffResponseDto })
  update(
    @Param('id', UuidParam) id: string,
    @Body() body: UpdateStaffDto,
    @CurrentStaff() staff: StaffPrincipal,
    @Req() req: FastifyRequest,
  ): Promise<StaffResponseDto> {
    return this.staff.setDisabled(id, body.disabled, { staff, clientAddress: req.ip });
  }
}
