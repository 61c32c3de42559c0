import { Foundation1764136800000 } from './1764136800000-Foundation.js';
import { Ingestion1764140400000 } from './1764140400000-Ingestion.js';
import { Registrations1764144000000 } from './1764144000000-Registrations.js';
import { Delivery1764147600000 } from './1764147600000-Delivery.js';
import { DeliveryThroughput1764151200000 } from './1764151200000-DeliveryThroughput.js';
import { IngestionReplays1764154800000 } from './1764154800000-IngestionReplays.js';
import { ProviderReports1764158400000 } from './1764158400000-ProviderReports.js';
import { EscalationWatch1764162000000 } from './1764162000000-EscalationWatch.js';
import { ClaimIndexes1764165600000 } from './1764165600000-ClaimIndexes.js';
import { AlertWaitingByNotification1764169200000 } from './1764169200000-AlertWaitingByNotification.js';
import { PlanningIds1764172800000 } from './1764172800000-PlanningIds.js';
import { WithdrawnAttempts1764176400000 } from './1764176400000-WithdrawnAttempts.js';
import { TwilioCallbacksHeard1764201000000 } from './1764201000000-TwilioCallbacksHeard.js';
import { PendingCorrections1764213000000 } from './1764213000000-PendingCorrections.js';
import { QuietHoursObjects1764234000000 } from './1764234000000-QuietHoursObjects.js';
import { ContactLimits1764244000000 } from './1764244000000-ContactLimits.js';
import { DevOutboxSubjects1764250000000 } from './1764250000000-DevOutboxSubjects.js';
import { RateLimitCounters1764260000000 } from './1764260000000-RateLimitCounters.js';
import { BoundCiphertexts1764261000000 } from './1764261000000-BoundCiphertexts.js';
import { OptOutNumbers1764262000000 } from './1764262000000-OptOutNumbers.js';
import { HeldRosterUnchanged1764270000000 } from './1764270000000-HeldRosterUnchanged.js';
import { ManageTokens1765100000000 } from './1765100000000-ManageTokens.js';
import { VictimMessages1765150000000 } from './1765150000000-VictimMessages.js';
import { EscalationHandling1765200000000 } from './1765200000000-EscalationHandling.js';
import { StaffSessionsAuditPages1765300000000 } from './1765300000000-StaffSessionsAuditPages.js';
import { ServicesDirectory1765500000000 } from './1765500000000-ServicesDirectory.js';
import { SealedServiceMessages1765600000001 } from './1765600000001-SealedServiceMessages.js';
import { SealedStopReason1765600000000 } from './1765600000000-SealedStopReason.js';
import { Retention1765720000000 } from './1765720000000-Retention.js';
import { ClaimByLane1765840000000 } from './1765840000000-ClaimByLane.js';

/**
 * Every migration, oldest first. Listed rather than globbed so the app, the CLI and the tests
 * (which run TypeScript directly) load the same set. Add each new migration here.
 */
export const MIGRATIONS = [
  Foundation1764136800000,
  Ingestion1764140400000,
  Registrations1764144000000,
  Delivery1764147600000,
  DeliveryThroughput1764151200000,
  IngestionReplays1764154800000,
  ProviderReports1764158400000,
  EscalationWatch1764162000000,
  ClaimIndexes1764165600000,
  AlertWaitingByNotification1764169200000,
  PlanningIds1764172800000,
  WithdrawnAttempts1764176400000,
  TwilioCallbacksHeard1764201000000,
  PendingCorrections1764213000000,
  QuietHoursObjects1764234000000,
  ContactLimits1764244000000,
  DevOutboxSubjects1764250000000,
  RateLimitCounters1764260000000,
  BoundCiphertexts1764261000000,
  OptOutNumbers1764262000000,
  HeldRosterUnchanged1764270000000,
  ManageTokens1765100000000,
  VictimMessages1765150000000,
  EscalationHandling1765200000000,
  StaffSessionsAuditPages1765300000000,
  ServicesDirectory1765500000000,
  SealedStopReason1765600000000,
  SealedServiceMessages1765600000001,
  Retention1765720000000,
  ClaimByLane1765840000000,
];
