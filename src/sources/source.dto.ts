import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { SingleLine } from '../common/problem/input-rules.js';
import type { SuppressionDto } from './facilities.service.js';
import type { FeedDto, FeedFacilityDto } from './feed-health.service.js';

export const FACILITY_CODE = /^[A-Z0-9][A-Z0-9_.-]{0,31}$/;
export const upperTrim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toUpperCase() : value);

export class CreateSourceDto {
  @ApiProperty({ example: 'Harris County Jail JMS' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  @SingleLine()
  name: string;

  @ApiPropertyOptional({ type: [String], description: 'Facilities this source may report; omitted = any', example: ['HCJ-1'] })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1, { message: 'must name at least one facility; omit it to allow any' })
  @ArrayMaxSize(1000)
  @Transform(({ value }: { value: unknown }) => (Array.isArray(value) ? value.map((code) => upperTrim({ value: code })) : value))
  @Matches(FACILITY_CODE, { each: true, message: 'each facility code must be 1-32 letters, digits, dot, dash or underscore' })
  facilityCodes?: string[];

  @ApiPropertyOptional({ default: false, description: 'Require Standard Webhooks signatures on every request' })
  @IsOptional()
  @IsBoolean()
  signingRequired?: boolean;

  @ApiPropertyOptional({ description: 'The feed is stale once silent longer than this', minimum: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(30 * 24 * 3600)
  expectedIntervalSeconds?: number;
}

export class CreatedSourceDto {
  @ApiProperty({ format: 'uuid' }) sourceId: string;
  @ApiProperty({ description: 'Shown once: `Authorization: Bearer <apiKey>` on every request', example: 'vgl_…' }) apiKey: string;
  @ApiProperty({ description: 'Shown once: the Standard Webhooks signing secret, `whsec_` + base64', example: 'whsec_…' })
  signingSecret: string;
}

export class SourceKeyDto {
  @ApiProperty({ format: 'uuid' }) keyId: string;
  @ApiProperty({ description: 'First characters, to tell keys apart' }) prefix: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
}

export class CreatedSourceKeyDto {
  @ApiProperty({ format: 'uuid' }) keyId: string;
  @ApiProperty({ description: 'Shown once' }) apiKey: string;
}

export class SourceDto {
  @ApiProperty({ format: 'uuid' }) sourceId: string;
  @ApiProperty() name: string;
  @ApiProperty({ type: [String], nullable: true }) facilityCodes: string[] | null;
  @ApiProperty() signingRequired: boolean;
  @ApiProperty({ type: Number, nullable: true }) expectedIntervalSeconds: number | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastContactAt: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ type: [SourceKeyDto] }) keys: SourceKeyDto[];
}

export class FeedFacilityHealthDto implements FeedFacilityDto {
  @ApiProperty({ example: 'HCJ-1' }) code: string;
  @ApiProperty({ type: String, nullable: true }) name: string | null;
  @ApiProperty({ format: 'date-time' }) lastContactAt: string;
  @ApiProperty({ type: Number, nullable: true, description: 'From the last roster' }) population: number | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) populationAsOf: string | null;
  @ApiProperty({ description: "Silent past the source's expected interval" }) stale: boolean;
}

export class FeedHealthDto implements FeedDto {
  @ApiProperty({ format: 'uuid' }) sourceId: string;
  @ApiProperty() name: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastContactAt: string | null;
  @ApiProperty({ type: Number, nullable: true }) expectedIntervalSeconds: number | null;
  @ApiProperty() stale: boolean;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) staleSince: string | null;
  @ApiProperty({ type: [FeedFacilityHealthDto] }) facilities: FeedFacilityHealthDto[];
}

export class FacilitySuppressionDto implements SuppressionDto {
  @ApiProperty({ example: 'HCJ-1' }) code: string;
  @ApiProperty({ type: String, nullable: true }) name: string | null;
  @ApiProperty() suppressed: boolean;
  @ApiProperty({ type: String, nullable: true }) reason: string | null;
  @ApiProperty({ format: 'date-time' }) changedAt: string;
}
