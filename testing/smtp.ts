import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** An SMTP reply that refuses a recipient, e.g. `{ code: 451, message: 'Try again later' }`. */
export type SmtpRefusal = { code: number; message: string };

export interface SmtpListener {
  /** `smtp://127.0.0.1:<port>`, ready to be given as SMTP_URL. */
  url: string;
  /** Every message accepted so far, parsed, in the order it arrived. */
  received: ParsedMail[];
  /** RCPT TO commands seen, refused ones included. */
  attempts(): number;
  /** Resolves with the received mails that match once there are at least `count` of them. */
  waitForMails(match: (mail: ParsedMail) => boolean, count: number, timeoutMs?: number): Promise<ParsedMail[]>;
  close(): Promise<void>;
}

/**
 * A real SMTP server on loopback (no auth, no TLS) that parses what it receives. It may
 * refuse RCPT TO by attempt number, to drive a sender's retries.
 */
export async function startSmtpListener(
  options: {
    refuse?: (attempt: number) => SmtpRefusal | undefined;
    /** Holds each message this long before accepting it, so deliveries are in flight for a while. */
    acceptDelayMs?: number;
  } = {},
): Promise<SmtpListener> {
  const received: ParsedMail[] = [];
  let attempts = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onRcptTo(_address, _session, callback) {
      attempts += 1;
      const refusal = options.refuse?.(attempts);
      if (refusal) callback(Object.assign(new Error(refusal.message), { responseCode: refusal.code }));
      else callback();
    },
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        (mail) => {
          setTimeout(() => {
            received.push(mail);
            callback();
          }, options.acceptDelayMs ?? 0);
        },
        (error: Error) => callback(error),
      );
    },
  });
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    attempts: () => attempts,
    async waitForMails(match, count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const matching = received.filter(match);
        if (matching.length >= count) return matching;
        if (Date.now() > deadline) {
          const seen = received.map((mail) => `${addresses(mail.to).join(',')}: ${mail.subject ?? ''}`);
          throw new Error(`timed out waiting for ${count} mail(s); ${matching.length} matched of [${seen.join('; ')}]`);
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

/** The plain addresses of a parsed To/From/Cc header. */
export function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  const objects = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return objects.flatMap((object) => object.value.map((entry) => entry.address ?? ''));
}
