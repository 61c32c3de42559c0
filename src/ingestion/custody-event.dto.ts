import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDefined,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  registerDecorator,
  ValidateIf,
  ValidateNested,
  type ValidationOptions,
} from 'class-validator';
import { isCalendarDate, isTimestampWithOffset } from '../common/time.js';
import { EVENT_TYPES, type EventType } from '../people/custody-status.js';
import { FACILITY_CODE, upperTrim } from '../sources/source.dto.js';

export const SCHEDULING_TYPES: EventType[] = ['RELEASE_SCHEDULED', 'HEARING_SCHEDULED'];
export const MAX_BATCH = 1000;

export function IsTimestampWithOffset(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isTimestampWithOffset',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: 'must be an ISO-8601 time with an offset, e.g. 2026-11-26T14:03:00-06:00', ...options },
      validator: { validate: isTimestampWithOffset },
    });
}

function IsPastDate(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isPastDate',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: 'must be a past date YYYY-MM-DD', ...options },
      validator: {
        validate: (value: unknown) => {
          if (!isCalendarDate(value)) return false;
          const date = new Date(`${value}T00:00:00Z`);
          return date.getTime() < Date.now() && date.getUTCFullYear() >= 1900;
        },
      },
    });
}

function HasCorrectionTarget(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'hasCorrectionTarget',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: 'must hold correctsSourceEventId (1-200 characters) for a CORRECTION', ...options },
      validator: {
        validate: (value: unknown, args) => {
          if ((args?.object as { type?: unknown }).type !== 'CORRECTION') return true;
          const id = (value as { correctsSourceEventId?: unknown } | undefined)?.correctsSourceEventId;
          return typeof id === 'string' && id.length >= 1 && id.length <= 200;
        },
      },
    });
}

export class IdentifierDto {
  @ApiProperty({ example: 'A_NUMBER', pattern: '^[A-Z][A-Z0-9_]{1,31}$' })
  @Matches(/^[A-Z][A-Z0-9_]{1,31}$/, { message: 'must be 2-32 capitals, digits or underscores, starting with a letter' })
  system: string;

  @ApiProperty({ example: '012-345-678' })
  @IsString()
  @Length(1, 64)
  value: string;
}

export class PersonDto {
  @ApiProperty({ type: [IdentifierDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @ValidateNested({ each: true })
  @Type(() => IdentifierDto)
  identifiers: IdentifierDto[];

  @ApiProperty() @IsString() @Length(1, 100) firstName: string;
  @ApiProperty() @IsString() @Length(1, 100) lastName: string;

  @ApiPropertyOptional({ format: 'date' })
  @IsOptional()
  @IsPastDate()
  dateOfBirth?: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @Length(2, 64) countryOfBirth?: string;
}

export class FacilityRefDto {
  @ApiProperty({ example: 'HCJ-1' })
  @Transform(upperTrim)
  @Matches(FACILITY_CODE, { message: 'must be 1-32 letters, digits, dot, dash or underscore' })
  code: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 200) name?: string;
}

export class CustodyEventDto {
  @ApiProperty({ description: 'Unique within the source; replays are recognised by it' })
  @IsString()
  @Length(1, 200)
  sourceEventId: string;

  @ApiProperty({ enum: EVENT_TYPES })
  @IsIn(EVENT_TYPES)
  type: EventType;

  @ApiProperty({ example: '2026-11-26T14:03:00-06:00' })
  @IsTimestampWithOffset()
  occurredAt: string;

  @ApiProperty({ type: PersonDto })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => PersonDto)
  person: PersonDto;

  @ApiProperty({ type: FacilityRefDto })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => FacilityRefDto)
  facility: FacilityRefDto;

  @ApiPropertyOptional({ type: FacilityRefDto, description: 'Required for TRANSFERRED' })
  @ValidateIf((event: CustodyEventDto) => event.type === 'TRANSFERRED' || event.toFacility !== undefined)
  @IsDefined({ message: 'is required for TRANSFERRED' })
  @IsObject()
  @ValidateNested()
  @Type(() => FacilityRefDto)
  toFacility?: FacilityRefDto;

  @ApiPropertyOptional({ description: 'Required for RELEASE_SCHEDULED and HEARING_SCHEDULED' })
  @ValidateIf((event: CustodyEventDto) => SCHEDULING_TYPES.includes(event.type) || event.scheduledFor !== undefined)
  @IsTimestampWithOffset({ message: 'is required for RELEASE_SCHEDULED and HEARING_SCHEDULED, as an ISO-8601 time with an offset' })
  scheduledFor?: string;

  @ApiPropertyOptional({ description: 'Free-form; a CORRECTION needs correctsSourceEventId' })
  @ValidateIf((event: CustodyEventDto) => event.type === 'CORRECTION' || event.details !== undefined)
  @IsObject()
  @HasCorrectionTarget()
  details?: Record<string, unknown>;
}

export class CustodyEventBatchDto {
  @ApiProperty({ type: [CustodyEventDto], minItems: 1, maxItems: MAX_BATCH })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCH)
  @ValidateNested({ each: true })
  @Type(() => CustodyEventDto)
  events: CustodyEventDto[];
}

export class IngestResultDto {
  @ApiProperty() sourceEventId: string;
  @ApiProperty({ format: 'uuid' }) eventId: string;
  @ApiProperty({ enum: ['accepted', 'duplicate', 'conflict'] }) status: 'accepted' | 'duplicate' | 'conflict';
  @ApiProperty() notificationsPlanned: number;
}

export class IngestResponseDto {
  @ApiProperty({ type: [IngestResultDto] }) results: IngestResultDto[];
}
