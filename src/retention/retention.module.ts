import { Module } from '@nestjs/common';
import { RetentionService } from './retention.service.js';

/** Erasure of ended registrations' personal data and of old raw event payloads (RETENTION_DAYS, EVENT_PAYLOAD_RETENTION_DAYS). */
@Module({ providers: [RetentionService], exports: [RetentionService] })
export class RetentionModule {}
