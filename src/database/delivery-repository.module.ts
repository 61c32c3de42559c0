import { Module } from '@nestjs/common';
import { AuditService } from '../common/audit.service.js';
import { VictimMessagesService } from '../delivery/victim-messages.service.js';
import { DeliveryRepository } from './delivery.repository.js';

/**
 * The delivery table's owner, for the modules that queue, stop or send deliveries (registrations,
 * delivery), and the messages staff send a victim, which an enrolment queues in its own transaction.
 */
@Module({ providers: [DeliveryRepository, VictimMessagesService, AuditService], exports: [DeliveryRepository, VictimMessagesService] })
export class DeliveryRepositoryModule {}
