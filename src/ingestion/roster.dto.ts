import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, ValidateNested } from 'class-validator';
import { IsTimestampWithOffset, PersonDto } from './custody-event.dto.js';

export const MAX_ROSTER = 100_000;

export class RosterDto {
  @ApiProperty({ example: '2026-11-26T06:00:00-06:00' })
  @IsTimestampWithOffset()
  asOf: string;

  @ApiProperty({ type: [PersonDto], maxItems: MAX_ROSTER })
  @IsArray()
  @ArrayMaxSize(MAX_ROSTER)
  @ValidateNested({ each: true })
  @Type(() => PersonDto)
  people: PersonDto[];
}

export class RosterResultDto {
  @ApiProperty({ format: 'uuid' }) snapshotId: string;
  @ApiProperty() baseline: boolean;
  @ApiProperty() booked: number;
  @ApiProperty() released: number;
  @ApiProperty() unchanged: number;
  @ApiProperty({ description: 'The diff waits for an admin' }) held: boolean;
}

export class HeldPersonDto {
  @ApiProperty({ format: 'uuid' }) personId: string;
  @ApiProperty() displayName: string;
}

export class RosterSnapshotDto {
  @ApiProperty({ format: 'uuid' }) snapshotId: string;
  @ApiProperty() status: string;
  @ApiProperty() source: { sourceId: string; name: string };
  @ApiProperty() facility: { code: string; name: string | null };
  @ApiProperty({ format: 'date-time' }) asOf: string;
  @ApiProperty({ format: 'date-time' }) receivedAt: string;
  @ApiProperty() population: number;
  @ApiProperty() booked: number;
  @ApiProperty() released: number;
  @ApiProperty() unchanged: number;
  @ApiProperty({ type: [HeldPersonDto] }) wouldRelease: HeldPersonDto[];
  @ApiProperty({ type: [HeldPersonDto] }) wouldBook: HeldPersonDto[];
}
