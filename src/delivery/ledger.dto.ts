import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DELIVERY_STATUSES } from '../database/delivery.repository.js';
import { SERVICE_KINDS } from '../i18n/alerts.js';
import { EVENT_TYPES } from '../people/custody-status.js';
import { CHANNELS, type Channel } from '../registrations/contact-address.js';
import type { AttemptView, DeliveryView, NotificationView } from './ledger.service.js';

const OUTCOMES = ['accepted', 'transient_error', 'permanent_error', 'withdrawn'];

export class AttemptViewDto implements AttemptView {
  @ApiProperty({ minimum: 1, description: 'Counts from 1 within the delivery' }) attemptNo: number;
  @ApiProperty({ format: 'date-time' }) startedAt: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'null while the provider call is under way' })
  finishedAt: string | null;
  @ApiProperty({
    type: String,
    enum: OUTCOMES,
    nullable: true,
    description: '`withdrawn`: consent ended while the batch was in hand; null while under way',
  })
  outcome: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: "The provider's message or call id",
    example: 'SM0123456789abcdef0123456789abcdef',
  })
  providerMessageId: string | null;
  @ApiProperty({ type: String, nullable: true, description: "The provider's code, as is or namespaced", example: 'twilio_21211' })
  errorCode: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'network' }) errorClass: string | null;
}

export class DeliveryViewDto implements DeliveryView {
  @ApiProperty({ format: 'uuid' }) deliveryId: string;
  @ApiProperty({ format: 'uuid' }) contactId: string;
  @ApiProperty({ enum: CHANNELS }) channel: Channel;
  @ApiProperty({ description: 'Masked', example: '+1•••••0123' }) address: string;
  @ApiProperty({
    enum: DELIVERY_STATUSES,
    description: '`sent`: the provider accepted it; `delivered`: only on its delivery report; `confirmed`: PIN entered',
  })
  status: string;
  @ApiProperty({ type: [AttemptViewDto] }) attempts: AttemptViewDto[];
}

export class SentServiceDto {
  @ApiProperty() name: string;
  @ApiProperty({ enum: SERVICE_KINDS }) kind: string;
}

export class NotificationViewDto implements NotificationView {
  @ApiProperty({ format: 'uuid' }) notificationId: string;
  @ApiProperty({
    enum: ['alert', 'correction', 'enrolled', 'service'],
    description: '`alert` or `correction` about a custody event; `enrolled` or `service`: a message staff sent, with no event',
  })
  kind: NotificationView['kind'];
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'null for a message staff sent' }) eventId: string | null;
  @ApiProperty({ type: String, enum: EVENT_TYPES, nullable: true }) eventType: string | null;
  @ApiProperty({ format: 'date-time', description: "The event's time; a message's, when it was sent" }) occurredAt: string;
  @ApiPropertyOptional({ type: SentServiceDto, description: 'A shared service, as sent' }) service?: SentServiceDto;
  @ApiProperty({ enum: DELIVERY_STATUSES, description: 'As far along as its furthest delivery' }) status: string;
  @ApiProperty({ description: 'An urgent alert nobody confirmed in time went to staff' }) escalated: boolean;
  @ApiProperty({ type: [DeliveryViewDto] }) deliveries: DeliveryViewDto[];
}

export class NotificationListDto {
  @ApiProperty({ type: [NotificationViewDto], description: 'Newest first' }) notifications: NotificationViewDto[];
}

export class ResentNotificationDto {
  @ApiProperty({ format: 'uuid' }) notificationId: string;
  @ApiProperty({ description: 'New deliveries queued, one per reachable contact' }) deliveries: number;
}

export class DeadDeliveryDto {
  @ApiProperty({ format: 'uuid' }) deliveryId: string;
  @ApiProperty({ enum: ['alert', 'verification', 'staff'] }) purpose: string;
  @ApiProperty({ enum: CHANNELS }) channel: string;
  @ApiProperty() attempts: number;
  @ApiProperty({ type: String, nullable: true, description: 'The last error code recorded' }) lastError: string | null;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class DeadDeliveryListDto {
  @ApiProperty({ type: [DeadDeliveryDto], description: 'Up to 200, most recent first' }) deliveries: DeadDeliveryDto[];
}

export class RetriedDeliveryDto {
  @ApiProperty({ format: 'uuid' }) deliveryId: string;
  @ApiProperty({ enum: ['pending'] }) status: 'pending';
}
