import { ApiProperty } from '@nestjs/swagger';
import { FacilitySummaryDto } from '../people/people.dto.js';

export const SNAPSHOT_STATUSES = ['held', 'applied', 'baseline', 'approved', 'discarded'];

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

export class SnapshotSourceDto {
  @ApiProperty({ format: 'uuid' }) sourceId: string;
  @ApiProperty() name: string;
}

export class RosterSnapshotDto {
  @ApiProperty({ format: 'uuid' }) snapshotId: string;
  @ApiProperty({ enum: SNAPSHOT_STATUSES }) status: string;
  @ApiProperty({ type: SnapshotSourceDto }) source: SnapshotSourceDto;
  @ApiProperty({ type: FacilitySummaryDto }) facility: FacilitySummaryDto;
  @ApiProperty({ format: 'date-time' }) asOf: string;
  @ApiProperty({ format: 'date-time' }) receivedAt: string;
  @ApiProperty() population: number;
  @ApiProperty() booked: number;
  @ApiProperty() released: number;
  @ApiProperty() unchanged: number;
  @ApiProperty({ type: [HeldPersonDto] }) wouldRelease: HeldPersonDto[];
  @ApiProperty({ type: [HeldPersonDto] }) wouldBook: HeldPersonDto[];
}

export class RosterSnapshotListDto {
  @ApiProperty({ type: [RosterSnapshotDto] }) snapshots: RosterSnapshotDto[];
}
