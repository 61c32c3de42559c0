import { FakeTwilio } from './fake-twilio.js';
import { SmtpSink } from './smtp-sink.js';

export const TWILIO_TEST_ACCOUNT = 'AC00000000000000000000000000000000';

export interface Providers {
  smtp: SmtpSink;
  twilio: FakeTwilio;
  /** What points Vigil at both: pass it in startTestApp's env. */
  env: Record<string, string>;
  stop: () => Promise<void>;
}

/** A real SMTP server and the fake Twilio (driven through the real SDK), started for a suite that follows messages out. */
export async function startProviders(): Promise<Providers> {
  const smtp = new SmtpSink();
  const twilio = new FakeTwilio();
  await Promise.all([smtp.start(), twilio.start()]);
  return {
    smtp,
    twilio,
    env: {
      SMTP_URL: smtp.url,
      EMAIL_FROM: 'Vigil <alerts@vigil.test>',
      TWILIO_ACCOUNT_SID: TWILIO_TEST_ACCOUNT,
      TWILIO_AUTH_TOKEN: 'test-token',
      TWILIO_FROM_NUMBER: '+15005550006',
      TWILIO_API_BASE_URL: twilio.baseUrl,
    },
    stop: async () => {
      await Promise.all([smtp.stop(), twilio.stop()]);
    },
  };
}
