import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The dispatcher claims each provider's channels apart (a lane per provider), so one provider's
 * outage fills only its own lane. A lane's claim walked the waiting index in due order past every
 * other lane's backlog: during a Twilio outage the email lane stepped over all the stalled SMS at
 * every claim, more work the longer the outage. Waiting deliveries by channel give a lane its own
 * rows. PostgreSQL judges how many waiting rows each channel has from status and channel taken
 * apart (sent emails make email look common), and kept walking the old index; statistics on the
 * pair tell it that one channel's waiting rows are few.
 */
export class ClaimByLane1765840000000 implements MigrationInterface {
  name = 'ClaimByLane1765840000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE INDEX delivery_waiting_channel_idx ON delivery (channel, due_at) WHERE status IN ('pending', 'held')`);
    await db.query(`CREATE STATISTICS delivery_status_channel_stats (mcv) ON status, channel FROM delivery`);
    // Until autovacuum analyzes the table the planner would not have the new statistics.
    await db.query(`ANALYZE delivery`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP STATISTICS delivery_status_channel_stats`);
    await db.query(`DROP INDEX delivery_waiting_channel_idx`);
  }
}
