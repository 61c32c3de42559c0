import { ApiProperty } from '@nestjs/swagger';

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
