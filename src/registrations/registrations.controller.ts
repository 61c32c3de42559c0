import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Req, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { CurrentStaff } from '../auth/current-staff.decorator.js';
import { type StaffPrincipal, StaffOnly } from '../auth/staff-auth.guard.js';
import { RateLimited } from '../common/rate-limit.js';
import { CurrentAccess, RegistrationAccessGuard } from './registration-access.guard.js';
import {
  CreatedRegistrationDto,
  CreateEnrollmentDto,
  CreateRegistrationDto,
  RegistrationViewDto,
  UpdateRegistrationDto,
  VerifyCodeDto,
} from './registration.dto.js';
import { type RegistrationAccess, RegistrationsService } from './registrations.service.js';
import { VerificationService } from './verification.service.js';
import { UuidParam } from '../common/problem/input-rules.js';

@ApiTags('registrations')
@Controller('v1/registrations')
export class RegistrationsController {
  constructor(
    private readonly registrations: RegistrationsService,
    private readonly verification: VerificationService,
  ) {}

  @Post()
  @RateLimited('public')
  @ApiCreatedResponse({ type: CreatedRegistrationDto, description: 'The manage token is shown only here' })
  create(@Body() body: CreateRegistrationDto): Promise<CreatedRegistrationDto> {
    return this.registrations.create(body);
  }

  @Post(':id/contacts/:contactId/verify')
  @HttpCode(200)
  @RateLimited('public')
  @ApiOkResponse({ description: 'Verified. Wrong or expired code: 422; locked after 5 wrong tries: 429' })
  verify(
    @Param('id', UuidParam) id: string,
    @Param('contactId', UuidParam) contactId: string,
    @Body() body: VerifyCodeDto,
  ): Promise<{ contactId: string; verified: true }> {
    return this.verification.verify(id, contactId, body.code);
  }

  @Post(':id/contacts/:contactId/resend-code')
  @HttpCode(202)
  @RateLimited('public')
  @ApiAcceptedResponse({ description: 'A new code (or a new call) is on its way' })
  resend(@Param('id', UuidParam) id: string, @Param('contactId', UuidParam) contactId: string): Promise<{ contactId: string }> {
    return this.verification.resend(id, contactId);
  }

  @Get(':id')
  @UseGuards(RegistrationAccessGuard)
  @ApiBearerAuth('manage-token')
  @ApiOkResponse({ type: RegistrationViewDto })
  view(@Param('id', UuidParam) id: string, @CurrentAccess() access: RegistrationAccess): Promise<RegistrationViewDto> {
    return this.registrations.view(id, access);
  }

  @Patch(':id')
  @UseGuards(RegistrationAccessGuard)
  @ApiBearerAuth('manage-token')
  @ApiOkResponse({ type: RegistrationViewDto })
  update(
    @Param('id', UuidParam) id: string,
    @Body() body: UpdateRegistrationDto,
    @CurrentAccess() access: RegistrationAccess,
  ): Promise<RegistrationViewDto> {
    return this.registrations.update(id, body, access);
  }

  @Delete(':id')
  @HttpCode(204)
  @UseGuards(RegistrationAccessGuard)
  @ApiBearerAuth('manage-token')
  @ApiNoContentResponse({ description: 'Every alert stops at once' })
  async stop(@Param('id', UuidParam) id: string, @CurrentAccess() access: RegistrationAccess): Promise<void> {
    await this.registrations.stop(id, access);
  }
}

@ApiTags('enrollments')
@Controller('v1/enrollments')
@StaffOnly('specialist')
export class EnrollmentsController {
  constructor(private readonly registrations: RegistrationsService) {}

  @Post()
  @ApiCreatedResponse({ type: CreatedRegistrationDto, description: 'Contacts attested as verified by the specialist' })
  create(@Body() body: CreateEnrollmentDto, @CurrentStaff() staff: StaffPrincipal, @Req() req: Request): Promise<CreatedRegistrationDto> {
    return this.registrations.create(body, { staff, clientAddress: req.ip });
  }

  @Get()
  @ApiOkResponse({ type: [RegistrationViewDto] })
  async list(@CurrentStaff() staff: StaffPrincipal, @Req() req: Request): Promise<{ enrollments: RegistrationViewDto[] }> {
    return { enrollments: await this.registrations.listEnrollments(staff, req.ip) };
  }
}
