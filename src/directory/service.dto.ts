import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  MaxLength,
  MinLength,
  registerDecorator,
  ValidateIf,
  type ValidationOptions,
} from 'class-validator';
import { NestedObject, SingleLine } from '../common/problem/input-rules.js';
import { normalizeServicePhone } from '../common/service-phone.js';
import { SERVICE_KINDS, type ServiceKind } from '../i18n/alerts.js';

export const SERVICE_LIMITS = { name: 200, phone: 40, website: 500, language: 35, languages: 20, line: 200, description: 1000 } as const;

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/** A website a victim may open: http or https only (no javascript:, data: or file:), a host with a dot, no credentials in it. */
export function normalizeWebsite(input: string): string | undefined {
  if (/\s/.test(input) || !/^https?:\/\//i.test(input)) return undefined;
  try {
    const url = new URL(input);
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password) return undefined;
    if (!/^[a-z0-9.-]+\.[a-z]{2,}$/i.test(url.hostname) && !/^xn--/.test(url.hostname)) return undefined;
    return url.href.length <= SERVICE_LIMITS.website ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** A BCP 47 language tag (`en`, `es`, `vi`, `zh-Hant`), in its canonical spelling; undefined otherwise. */
export function normalizeLanguageCode(input: string): string | undefined {
  if (!/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(input)) return undefined;
  try {
    return Intl.getCanonicalLocales(input)[0];
  } catch {
    return undefined;
  }
}

function Satisfies(check: (value: string) => unknown, message: string, options: ValidationOptions = {}): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'satisfies',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message, ...options },
      validator: { validate: (value: unknown) => typeof value === 'string' && check(value) !== undefined },
    });
}

/** On a change, null clears an optional field; undefined leaves it alone. */
const Clearable = () => IsOptional();
/** On a change, a required field may be left out but never set to null. */
const Keepable = () => ValidateIf((_: object, value: unknown) => value !== undefined);

const PHONE_MESSAGE = 'must be a phone number such as (800) 799-7233, +52 55 1234 5678 or a three-digit line such as 988';
const WEBSITE_MESSAGE = 'must be a web address starting with http:// or https://';

function NameField() {
  return applyDecorators(
    ApiProperty({ example: 'Casa Segura shelter', maxLength: SERVICE_LIMITS.name }),
    Transform(trim),
    IsString(),
    MinLength(1),
    MaxLength(SERVICE_LIMITS.name),
    SingleLine(),
  );
}
function KindField() {
  return applyDecorators(ApiProperty({ enum: SERVICE_KINDS }), IsIn(SERVICE_KINDS));
}
function PhoneField() {
  return applyDecorators(
    ApiPropertyOptional({
      type: String,
      nullable: true,
      example: '1-800-799-7233',
      description:
        'Any valid number (toll-free and foreign ones too), a vanity number, an extension, or 211, 311, 711, 988…; stored as E.164',
    }),
    Transform(trim),
    IsString(),
    MaxLength(SERVICE_LIMITS.phone),
    Satisfies(normalizeServicePhone, PHONE_MESSAGE),
  );
}
function WebsiteField() {
  return applyDecorators(
    ApiPropertyOptional({ type: String, nullable: true, example: 'https://casasegura.example.org/', maxLength: SERVICE_LIMITS.website }),
    Transform(trim),
    IsString(),
    MaxLength(SERVICE_LIMITS.website),
    Satisfies(normalizeWebsite, WEBSITE_MESSAGE),
  );
}
function LanguagesField() {
  return applyDecorators(
    ApiPropertyOptional({
      type: [String],
      example: ['en', 'es'],
      description: 'BCP 47 language codes',
      maxItems: SERVICE_LIMITS.languages,
    }),
    IsArray(),
    ArrayMaxSize(SERVICE_LIMITS.languages),
    ArrayUnique(),
    IsString({ each: true }),
    MaxLength(SERVICE_LIMITS.language, { each: true }),
    Satisfies(normalizeLanguageCode, 'each must be a language code such as en, es or vi', { each: true }),
  );
}
function LineField(example: string) {
  return applyDecorators(
    ApiPropertyOptional({ type: String, nullable: true, example, maxLength: SERVICE_LIMITS.line }),
    Transform(trim),
    IsString(),
    MinLength(1),
    MaxLength(SERVICE_LIMITS.line),
    SingleLine(),
  );
}

export class ServiceDescriptionDto {
  @ApiPropertyOptional({ maxLength: SERVICE_LIMITS.description, example: 'Emergency shelter for survivors and their children.' })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @MinLength(1)
  @MaxLength(SERVICE_LIMITS.description)
  en?: string;

  @ApiPropertyOptional({ maxLength: SERVICE_LIMITS.description, example: 'Refugio de emergencia para sobrevivientes y sus hijos.' })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @MinLength(1)
  @MaxLength(SERVICE_LIMITS.description)
  es?: string;
}

export class CreateServiceDto {
  @NameField() name: string;
  @KindField() kind: ServiceKind;
  @IsOptional() @PhoneField() phone?: string | null;
  @IsOptional() @WebsiteField() website?: string | null;
  @IsOptional() @LanguagesField() languages?: string[];
  @IsOptional() @LineField('Harris County and surrounding counties') area?: string | null;
  @IsOptional() @LineField('24 hours, every day') hours?: string | null;

  @ApiPropertyOptional({ type: ServiceDescriptionDto, nullable: true, description: 'A short description in English, Spanish or both' })
  @IsOptional()
  @NestedObject(() => ServiceDescriptionDto)
  description?: ServiceDescriptionDto | null;

  @ApiPropertyOptional({
    default: false,
    description: 'Listed on the victims’ help page; otherwise only shared by a specialist with one victim',
  })
  @IsOptional()
  @IsBoolean()
  public?: boolean;
}

/** A change: fields left out stay as they are; null clears an optional one; `archived` archives or restores. */
export class UpdateServiceDto {
  @Keepable() @NameField() name?: string;
  @Keepable() @KindField() kind?: ServiceKind;
  @Clearable() @PhoneField() phone?: string | null;
  @Clearable() @WebsiteField() website?: string | null;
  @Keepable() @LanguagesField() languages?: string[];
  @Clearable() @LineField('Harris County and surrounding counties') area?: string | null;
  @Clearable() @LineField('24 hours, every day') hours?: string | null;

  @ApiPropertyOptional({ type: ServiceDescriptionDto, nullable: true, description: 'Replaces the description; null removes it' })
  @Clearable()
  @NestedObject(() => ServiceDescriptionDto)
  description?: ServiceDescriptionDto | null;

  @ApiPropertyOptional() @Keepable() @IsBoolean() public?: boolean;

  @ApiPropertyOptional({ description: 'true archives (no longer listed or shared; kept with its history), false restores' })
  @Keepable()
  @IsBoolean()
  archived?: boolean;
}

export class ServiceListQuery {
  @ApiPropertyOptional({ enum: SERVICE_KINDS }) @IsOptional() @IsIn(SERVICE_KINDS) kind?: ServiceKind;

  @ApiPropertyOptional({ description: 'Words in the name, area or description', maxLength: 100 })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @MaxLength(100)
  @SingleLine()
  q?: string;

  @ApiPropertyOptional({ enum: ['true', 'false'], default: 'false', description: 'Include archived entries' })
  @IsOptional()
  @IsIn(['true', 'false'])
  archived?: 'true' | 'false';
}

export class ShareServiceDto {
  @ApiProperty({ format: 'uuid', description: 'An active entry of the services directory' }) @IsUUID() serviceId: string;
}

export class ServiceDescriptionView {
  @ApiPropertyOptional() en?: string;
  @ApiPropertyOptional() es?: string;
}

export class ServiceDto {
  @ApiProperty({ format: 'uuid' }) serviceId: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: SERVICE_KINDS }) kind: ServiceKind;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'E.164 (`;ext=` for an extension) or a three-digit line',
    example: '+18007997233',
  })
  phone: string | null;
  @ApiProperty({ type: String, nullable: true }) website: string | null;
  @ApiProperty({ type: [String] }) languages: string[];
  @ApiProperty({ type: String, nullable: true }) area: string | null;
  @ApiProperty({ type: String, nullable: true }) hours: string | null;
  @ApiProperty({ type: ServiceDescriptionView }) description: ServiceDescriptionView;
  @ApiProperty() public: boolean;
  @ApiProperty() archived: boolean;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) archivedAt: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'uuid' }) createdBy: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiProperty({ format: 'uuid' }) updatedBy: string;
}

export class ServiceListDto {
  @ApiProperty({ type: [ServiceDto] }) services: ServiceDto[];
}

export class SharedServiceDto {
  @ApiProperty({ format: 'uuid', description: 'The ledger entry: GET /v1/notifications/{id}' }) notificationId: string;
  @ApiProperty({ description: 'Deliveries queued: one per verified contact that may receive it (0 when every contact opted out)' })
  queued: number;
}
