import { createHash } from 'node:crypto';

export interface AttemptFacts {
  deliveryId: string;
  attemptNo: number;
  startedAt: Date;
  finishedAt: Date;
  provider: string;
  providerMessageId: string | null;
  outcome: string;
  errorCode: string | null;
  errorClass: string | null;
}

/**
 * The hash that chains a delivery's attempts: each covers the previous attempt's hash and this
 * attempt's facts, so an edited or removed attempt breaks every hash after it.
 */
export function attemptHash(prev: Buffer | null, a: AttemptFacts): Buffer {
  return createHash('sha256')
    .update(prev ?? Buffer.alloc(0))
    .update(
      JSON.stringify([
        a.deliveryId,
        a.attemptNo,
        a.startedAt.toISOString(),
        a.finishedAt.toISOString(),
        a.provider,
        a.providerMessageId,
        a.outcome,
        a.errorCode,
        a.errorClass,
      ]),
    )
    .digest();
}
