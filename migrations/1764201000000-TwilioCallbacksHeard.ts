import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Twilio's callbacks carry no timestamp in their signature, so a captured one can be sent again at
 * any time and still verify. Each callback that changes something (a status report, the right PIN,
 * an inbound STOP or START) is recorded here by Twilio's id for it and what it said, in the same
 * transaction as its effect; a second copy finds its row and changes nothing.
 */
export class TwilioCallbacksHeard1764201000000 implements MigrationInterface {
  name = 'TwilioCallbacksHeard1764201000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE twilio_callback_heard (
        sid text NOT NULL,
        event text NOT NULL,
        heard_at timestamptz NOT NULL,
        PRIMARY KEY (sid, event)
      )`);
    await db.query(`CREATE INDEX twilio_callback_heard_at_idx ON twilio_callback_heard (heard_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE twilio_callback_heard`);
  }
}
