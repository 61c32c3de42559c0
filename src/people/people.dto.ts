import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsISO8601, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { SingleLine } from '../common/problem/input-rules.js';
import { CUSTODY_STATUSES } from './custody-status.js';

export class PeopleQueryDto {
  @ApiPropertyOptional({ example: 'A_NUMBER' })
  @IsOptional()
  @Matches(/^[A-Z][A-Z0-9_]{1,31}$/, { message: 'must be an identifier system such as A_NUMBER' })
  identifierSystem?: string;

  @ApiPropertyOptional({ example: '012-345-678' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  @SingleLine()
  identifier?: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @MinLength(1) @MaxLength(100) @SingleLine() lastName?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MinLength(1) @MaxLength(100) @SingleLine() firstName?: string;

  @ApiPropertyOptional({ format: 'date' })
  @IsOptional()
  @IsISO8601({ strict: true })
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'must be a date YYYY-MM-DD' })
  dateOfBirth?: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @MinLength(2) @MaxLength(64) @SingleLine() countryOfBirth?: string;
}

export class FacilitySummaryDto {
  @ApiProperty() code: string;
  @ApiProperty({ type: String, nullable: true }) name: string | null;
}

export class PersonSummaryDto {
  @ApiProperty({ format: 'uuid' }) personId: string;
  @ApiProperty() displayName: string;
  @ApiProperty({ enum: CUSTODY_STATUSES }) custodyStatus: string;
  @ApiProperty({ type: FacilitySummaryDto, nullable: true }) facility: FacilitySummaryDto | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) statusAsOf: string | null;
}

export class PeopleResponseDto {
  @ApiProperty({ type: [PersonSummaryDto] }) people: PersonSummaryDto[];
}

export class ProtectionBody {
  @ApiProperty() @IsBoolean() protected: boolean;
  @ApiProperty({ example: 'Court order 2026-CV-0142' })
  @IsString()
  @MinLength(1)
  @MaxLength(500)
  reason: string;
}

export class ProtectionDto {
  @ApiProperty({ format: 'uuid' }) personId: string;
  @ApiProperty() protected: boolean;
  @ApiProperty() reason: string;
  @ApiProperty({ format: 'date-time' }) changedAt: string;
}
