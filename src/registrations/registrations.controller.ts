import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Req, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { CurrentStaff } from '../auth/current-staff.decorator.js';
import { bearerToken, StaffAuthGuard, type StaffPrincipal, StaffOnly } from '../auth/staff-auth.guard.js';
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
    private readonly staffAuth: StaffAuthGuard,
  ) {}

  @Post()
  @RateLimited('public', 'signup')
  @ApiCreatedResponse({ type: CreatedRegistrationDto, description: 'The manage token is shown only here' })
  create(@Body() body: CreateRegistrationDto): Promise<CreatedRegistrationDto> {
    return this.registrations.create(body);
  }

  @Post(':id/contacts/:contactId/verify')
  @HttpCode(200)
  @RateLimited('public')
  @ApiOkResponse({
    description:
      'Verified. Wrong or expired code: 422. 429 with Retry-After: CONTACT_LOCKED for an hour after 5 wrong codes, ' +
      'CONTACT_LOCKED_FOR_HELP after 10 in a day (until a specialist resends, or a new registration). ' +
      'A registration unverified after 24 hours is gone: 404',
  })
  verify(
    @Param('id', UuidParam) id: string,
    @Param('contactId', UuidParam) contactId: string,
    @Body() body: VerifyCodeDto,
  ): Promise<{ contactId: string; verified: true }> {
    return this.verification.verify(id, contactId, body.code);
  }

  @Post(':id/contacts/:contactId/resend-code')
  @HttpCode(202)
  @RateLimited('public', 'signup')
  @ApiBearerAuth('staff')
  @ApiAcceptedResponse({
    description:
      'A new code (or a new call) is on its way. It never resets the wrong-code count; with a staff token (optional) it also ' +
      'lifts a lockout, audited',
  })
  @ApiTooManyRequestsResponse({
    description:
      'With Retry-After: RESEND_TOO_SOON (a minute between codes), CONTACT_LOCKED / CONTACT_LOCKED_FOR_HELP (wrong codes), ' +
      'CODES_PAUSED (the address had CODES_PER_NUMBER_PER_DAY codes or calls in 24 hours; Retry-After is when one frees)',
  })
  async resend(
    @Param('id', UuidParam) id: string,
    @Param('contactId', UuidParam) contactId: string,
    @Req() req: FastifyRequest,
  ): Promise<{ contactId: string }> {
    // A manage token is not needed here and lifts nothing; a staff token must be valid.
    const token = bearerToken(req);
    const staff = token && !token.startsWith('vmt_') ? await this.staffAuth.verify(token) : undefined;
    return this.verification.resend(id, contactId, staff && { staff, clientAddress: req.ip });
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
  create(
    @Body() body: CreateEnrollmentDto,
    @CurrentStaff() staff: StaffPrincipal,
    @Req() req: FastifyRequest,
  ): Promise<CreatedRegistrationDto> {
    return this.registrations.create(body, { staff, clientAddress: req.ip });
  }

  @Get()
  @ApiOkResponse({ type: [RegistrationViewDto] })
  async list(@CurrentStaff() staff: StaffPrincipal, @Req() req: FastifyRequest): Promise<{ enrollments: RegistrationViewDto[] }> {
    return { enrollments: await this.registrations.listEnrollments(staff, req.ip) };
  }
}
