import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  ValidateIf,
  registerDecorator,
  type ValidationOptions,
} from 'class-validator';
import { NestedObject, SingleLine } from '../common/problem/input-rules.js';
import { CUSTODY_STATUSES, EVENT_TYPES, type EventType } from '../people/custody-status.js';
import { FacilitySummaryDto } from '../people/people.dto.js';
import { CHANNELS, type Channel } from './contact-address.js';

export const LANGUAGES = ['en', 'es'] as const;
export type Language = (typeof LANGUAGES)[number];

function IsTimeZone(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isTimeZone',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: 'must be an IANA time zone such as America/Chicago', ...options },
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string' || !value.includes('/')) return value === 'UTC';
          try {
            new Intl.DateTimeFormat('en-US', { timeZone: value });
            return true;
          } catch {
            return false;
          }
        },
      },
    });
}

/** A non-empty set of event types; omitted means all of them. */
function EventTypesField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ enum: EVENT_TYPES, isArray: true, description: 'Omitted = all types' }),
    IsOptional(),
    IsArray(),
    ArrayMinSize(1),
    ArrayUnique(),
    IsIn(EVENT_TYPES, { each: true }),
  );
}

const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;

export class QuietHoursDto {
  @ApiProperty({ example: '22:00' }) @Matches(HH_MM, { message: 'must be HH:MM' }) start: string;
  @ApiProperty({ example: '07:00' }) @Matches(HH_MM, { message: 'must be HH:MM' }) end: string;
  @ApiProperty({ example: 'America/Chicago' }) @IsTimeZone() timeZone: string;
}

export class ContactInputDto {
  @ApiProperty({ enum: CHANNELS }) @IsIn(CHANNELS) channel: Channel;
  @ApiProperty({ example: '+17135550123' }) @IsString() @Length(3, 254) @SingleLine() address: string;
}

export class CreateRegistrationDto {
  @ApiProperty({ format: 'uuid' }) @IsUUID() personId: string;

  @ApiProperty({ enum: LANGUAGES }) @IsIn(LANGUAGES) language: Language;

  @ApiPropertyOptional({ description: '4 digits; required with a voice contact', example: '2468' })
  @IsOptional()
  @Matches(/^\d{4}$/, { message: 'must be exactly 4 digits' })
  pin?: string;

  @ApiProperty({ type: [ContactInputDto], minItems: 1, maxItems: 6 })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(6)
  @NestedObject(() => ContactInputDto, { each: true })
  contacts: ContactInputDto[];

  @EventTypesField()
  eventTypes?: EventType[];

  @ApiPropertyOptional({ type: QuietHoursDto, description: 'Non-urgent alerts wait until the end of quiet hours' })
  @IsOptional()
  @NestedObject(() => QuietHoursDto)
  quietHours?: QuietHoursDto;
}

export class CreateEnrollmentDto extends CreateRegistrationDto {
  @ApiPropertyOptional({ description: "The victim's name, for the specialist's list; stored encrypted" })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  @SingleLine()
  registrantName?: string;

  @ApiPropertyOptional({
    default: false,
    description:
      "Queue a confirmation now, in the victim's language, to every contact: who the alerts are about, that a specialist signed " +
      'them up, the safety line and the manage link. Off unless asked for: a message to a shared phone can endanger someone, ' +
      'and clients written before this field expect no message. Withheld like any alert while the person is protected.',
  })
  // Absent is "no"; null is not a boolean and is refused like any other non-boolean.
  @ValidateIf((dto: CreateEnrollmentDto) => dto.sendConfirmation !== undefined)
  @IsBoolean()
  sendConfirmation?: boolean;
}

export class UpdateRegistrationDto {
  @ApiPropertyOptional({ enum: LANGUAGES }) @IsOptional() @IsIn(LANGUAGES) language?: Language;

  @EventTypesField()
  eventTypes?: EventType[];

  @ApiPropertyOptional({ type: QuietHoursDto, nullable: true, description: 'null removes quiet hours' })
  @IsOptional()
  @NestedObject(() => QuietHoursDto)
  quietHours?: QuietHoursDto | null;
}

export class VerifyCodeDto {
  @ApiProperty({ example: '123456' }) @Matches(/^\d{6}$/, { message: 'must be 6 digits' }) code: string;
}

export class ContactViewDto {
  @ApiProperty({ format: 'uuid' }) contactId: string;
  @ApiProperty({ enum: CHANNELS }) channel: Channel;
  @ApiProperty({ description: 'Masked' }) address: string;
  @ApiProperty() verified: boolean;
  @ApiProperty({ description: 'Verified, and unsubscribed or the phone number sent STOP; always false while unverified' })
  optedOut: boolean;
  @ApiPropertyOptional({ description: 'Unverified SMS contacts only, the same words for every number: how to get a code after a STOP' })
  hint?: string;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description:
      'Set while no verification code or call may go to this address: it has had CODES_PER_NUMBER_PER_DAY in 24 hours, across all registrations. Until then resend-code answers 429.',
  })
  codesPausedUntil: string | null;
}

export class CreatedContactDto {
  @ApiProperty({ format: 'uuid' }) contactId: string;
  @ApiProperty({ enum: CHANNELS }) channel: Channel;
  @ApiProperty() verified: boolean;
  @ApiPropertyOptional({ description: 'Unverified SMS contacts only, the same words for every number: how to get a code after a STOP' })
  hint?: string;
}

export class ConfirmationDto {
  @ApiProperty({ format: 'uuid' }) notificationId: string;
  @ApiProperty({ description: 'Deliveries queued: one per contact that may receive it' }) deliveries: number;
}

export class CreatedRegistrationDto {
  @ApiProperty({ format: 'uuid' }) registrationId: string;
  @ApiProperty({ description: 'Shown once; Bearer token for managing this registration' }) manageToken: string;
  @ApiProperty({ enum: ['pending_verification', 'active'] }) status: string;
  @ApiProperty({ type: [CreatedContactDto] }) contacts: CreatedContactDto[];
  @ApiPropertyOptional({
    type: ConfirmationDto,
    description: 'Enrolments with sendConfirmation only: the confirmation queued in the same transaction',
  })
  confirmation?: ConfirmationDto;
}

export class RegistrationPersonDto {
  @ApiProperty({ example: 'Jane Doe' }) displayName: string;
  @ApiProperty({ enum: CUSTODY_STATUSES }) custodyStatus: string;
  @ApiProperty({ type: FacilitySummaryDto, nullable: true }) facility: FacilitySummaryDto | null;
}

export class RegistrationViewDto {
  @ApiProperty({ format: 'uuid' }) registrationId: string;
  @ApiProperty({ format: 'uuid' }) personId: string;
  @ApiProperty({
    type: RegistrationPersonDto,
    nullable: true,
    description: 'custodyStatus UNKNOWN and no facility when there is no custody information to show (protected persons included)',
  })
  person: {
    displayName: string;
    custodyStatus: string;
    facility: { code: string; name: string | null } | null;
  } | null;
  @ApiProperty({ enum: LANGUAGES }) language: Language;
  @ApiProperty({ enum: EVENT_TYPES, isArray: true }) eventTypes: EventType[];
  @ApiProperty({ type: QuietHoursDto, nullable: true }) quietHours: QuietHoursDto | null;
  @ApiProperty({
    enum: ['pending_verification', 'active', 'stopped'],
    description: 'Unverified after 24 hours: expired, and answered as not found',
  })
  status: string;
  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'The specialist who enrolled the victim; null when self-registered',
  })
  enrolledBy: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'Staff only' }) registrantName?: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ type: [ContactViewDto] }) contacts: ContactViewDto[];
}

export class EnrollmentListDto {
  @ApiProperty({
    type: [RegistrationViewDto],
    description: "The specialist's own enrollees (an admin's: everyone's), newest first, up to 500",
  })
  enrollments: RegistrationViewDto[];
}

export class VerifiedContactDto {
  @ApiProperty({ format: 'uuid' }) contactId: string;
  @ApiProperty({ enum: [true] }) verified: true;
}

export class CodeResentDto {
  @ApiProperty({ format: 'uuid' }) contactId: string;
}

export class UnsubscribedDto {
  @ApiProperty({ enum: [true] }) unsubscribed: true;
}
