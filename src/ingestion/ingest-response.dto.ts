import { ApiProperty } from '@nestjs/swagger';

export class IngestResultDto {
  @ApiProperty() sourceEventId: string;
  @ApiProperty({ format: 'uuid' }) eventId: string;
  @ApiProperty({ enum: ['accepted', 'duplicate', 'conflict'] }) status: 'accepted' | 'duplicate' | 'conflict';
  @ApiProperty() notificationsPlanned: number;
}

export class IngestResponseDto {
  @ApiProperty({ type: [IngestResultDto] }) results: IngestResultDto[];
}
