import { Module } from '@nestjs/common';
import { DeliveryRepository } from './delivery.repository.js';

/** The delivery table's owner, for the modules that queue, stop or send deliveries (registrations, delivery). */
@Module({ providers: [DeliveryRepository], exports: [DeliveryRepository] })
export class DeliveryRepositoryModule {}
