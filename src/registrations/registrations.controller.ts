import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Req, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiSecurity,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { CurrentStaff } from '../auth/current-staff.decorator.js';
import { bearerToken, StaffAuthGuard, type StaffPrincipal, StaffOnly } from '../auth/staff-auth.guard.js';
import { RateLimited } from '../common/rate-limit.js';
import { CurrentAccess, RegistrationAccessGuard } from './registration-access.guard.js';
import {
  CodeResentDto,
  CreatedRegistrationDto,
  CreateEnrollmentDto,
  CreateRegistrationDto,
  EnrollmentListDto,
  RegistrationViewDto,
  UpdateRegistrationDto,
  VerifiedContactDto,
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
  @ApiOperation({
    summary: 'Sign up for alerts about a person in custody',
    description:
      'Anonymous self-registration for a person found with `GET /v1/people`. Each email or SMS contact gets a 6-digit code over ' +
      'its own channel; a voice contact gets a call and is verified by entering the PIN (so `pin` is required with one). Alerts ' +
      'start once a contact is verified; a registration with none verified within 24 hours is gone. Returns the manage token ' +
      'once. Rate limited per client.',
    security: [],
  })
  @ApiBody({
    type: CreateRegistrationDto,
    examples: {
      registration: {
        summary: 'Text and call one phone, in Spanish, with quiet hours',
        value: {
          personId: '3f2b8c1e-6d4a-4f7b-9a51-2c8e0d7b6a10',
          language: 'es',
          pin: '2468',
          contacts: [
            { channel: 'sms', address: '+17135550123' },
            { channel: 'voice', address: '+17135550123' },
          ],
          eventTypes: ['RELEASED', 'ESCAPED', 'TRANSFERRED'],
          quietHours: { start: '22:00', end: '07:00', timeZone: 'America/Chicago' },
        },
      },
    },
  })
  @ApiCreatedResponse({ type: CreatedRegistrationDto, description: 'The manage token is shown only here' })
  @ApiUnprocessableEntityResponse({
    description: 'Invalid fields, or PERSON_NOT_FOUND: no such person, or one nobody may register for (minors, protected persons)',
  })
  create(@Body() body: CreateRegistrationDto): Promise<CreatedRegistrationDto> {
    return this.registrations.create(body);
  }

  @Post(':id/contacts/:contactId/verify')
  @HttpCode(200)
  @RateLimited('public')
  @ApiOperation({
    summary: 'Verify a contact with its code',
    description:
      'The 6-digit code sent over that contact’s own channel (valid 30 minutes, 5 tries). Needs no token: the code is the secret. ' +
      'Voice contacts verify by entering the PIN in the call instead.',
    security: [],
  })
  @ApiParam({ name: 'id', format: 'uuid', description: 'The registration' })
  @ApiParam({ name: 'contactId', format: 'uuid', description: 'One of its contacts' })
  @ApiUnprocessableEntityResponse({ description: 'CODE_WRONG, CODE_EXPIRED, or a malformed code; VERIFY_BY_CALL for a voice contact' })
  @ApiNotFoundResponse({ description: 'REGISTRATION_NOT_FOUND, CONTACT_NOT_FOUND' })
  @ApiOkResponse({
    type: VerifiedContactDto,
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
  @ApiOperation({
    summary: 'Send a contact a new code (or a new call)',
    description:
      'Public: anyone holding the ids may ask for a fresh code, at most one a minute. A staff token is optional: with one, ' +
      'a lockout after wrong codes is lifted too, and that is audited.',
  })
  // Public, or with a staff token.
  @ApiSecurity({})
  @ApiBearerAuth('staff')
  @ApiParam({ name: 'id', format: 'uuid', description: 'The registration' })
  @ApiParam({ name: 'contactId', format: 'uuid', description: 'One of its contacts' })
  @ApiUnauthorizedResponse({ description: 'AUTH_INVALID: a staff token was sent and is not valid' })
  @ApiNotFoundResponse({ description: 'No such registration or contact, or the contact is verified already' })
  @ApiAcceptedResponse({
    type: CodeResentDto,
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
  @ApiOperation({
    summary: 'View a registration',
    description:
      'With its manage token (or a staff token: a specialist only for their own enrollees). Addresses are masked. Another ' +
      'registration’s token, or one that does not exist, answers 404 alike.',
  })
  @ApiBearerAuth('manage-token')
  @ApiBearerAuth('staff')
  @ApiParam({ name: 'id', format: 'uuid', description: 'The registration' })
  @ApiUnauthorizedResponse({ description: 'AUTH_REQUIRED: no token; AUTH_INVALID: a bad staff token' })
  @ApiNotFoundResponse({ description: 'REGISTRATION_NOT_FOUND: no such registration, or not this token’s' })
  @ApiOkResponse({ type: RegistrationViewDto })
  view(@Param('id', UuidParam) id: string, @CurrentAccess() access: RegistrationAccess): Promise<RegistrationViewDto> {
    return this.registrations.view(id, access);
  }

  @Patch(':id')
  @UseGuards(RegistrationAccessGuard)
  @ApiOperation({
    summary: 'Change language, event types or quiet hours',
    description: 'Only the fields sent change; `quietHours: null` removes quiet hours. Unknown fields are refused (422).',
  })
  @ApiBearerAuth('manage-token')
  @ApiBearerAuth('staff')
  @ApiParam({ name: 'id', format: 'uuid', description: 'The registration' })
  @ApiUnauthorizedResponse({ description: 'AUTH_REQUIRED: no token; AUTH_INVALID: a bad staff token' })
  @ApiNotFoundResponse({ description: 'REGISTRATION_NOT_FOUND: no such registration, or not this token’s' })
  @ApiConflictResponse({ description: 'REGISTRATION_STOPPED: a stopped registration cannot change' })
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
  @ApiOperation({
    summary: 'Stop every alert',
    description: 'Ends the registration at once: nothing more is sent, and deliveries still waiting are suppressed. The ledger stays.',
  })
  @ApiBearerAuth('manage-token')
  @ApiBearerAuth('staff')
  @ApiParam({ name: 'id', format: 'uuid', description: 'The registration' })
  @ApiUnauthorizedResponse({ description: 'AUTH_REQUIRED: no token; AUTH_INVALID: a bad staff token' })
  @ApiNotFoundResponse({ description: 'REGISTRATION_NOT_FOUND: no such registration, or not this token’s' })
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
  @ApiOperation({
    summary: "Enrol a victim (register on a victim's behalf)",
    description:
      'A specialist registers a victim: the contacts are attested as verified by the specialist, and `enrolledBy` is kept. ' +
      'Specialists may enrol minors; only admins protected persons. A confirmation is sent only with `sendConfirmation: true`.',
  })
  @ApiCreatedResponse({ type: CreatedRegistrationDto, description: 'Contacts attested as verified by the specialist' })
  @ApiUnprocessableEntityResponse({
    description: 'Invalid fields, or PERSON_NOT_FOUND: no such person, or one this role may not enrol for',
  })
  create(
    @Body() body: CreateEnrollmentDto,
    @CurrentStaff() staff: StaffPrincipal,
    @Req() req: FastifyRequest,
  ): Promise<CreatedRegistrationDto> {
    return this.registrations.create(body, { staff, clientAddress: req.ip });
  }

  @Get()
  @ApiOperation({
    summary: 'List enrollees',
    description: "A specialist's own enrollees (an admin's list holds everyone's), newest first; the read is audited.",
  })
  @ApiOkResponse({ type: EnrollmentListDto })
  async list(@CurrentStaff() staff: StaffPrincipal, @Req() req: FastifyRequest): Promise<{ enrollments: RegistrationViewDto[] }> {
    return { enrollments: await this.registrations.listEnrollments(staff, req.ip) };
  }
}
