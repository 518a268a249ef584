import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createTransport, type SendMailOptions } from 'nodemailer';
import type { Env } from '@popug/lib/env';
import type { MailMessage } from '@popug/lib/mail';

/** A mail ready to leave: the message plus the job it came from. */
export type OutgoingMail = MailMessage & {
  /** Job id: names the .eml file and seeds the Message-ID, so a retry reuses both. */
  id: string;
  /** When the mail was queued; sorts the .eml files in the order mails were asked for. */
  queuedAt: Date;
};

export type Delivery = {
  via: 'smtp' | 'file';
  messageId: string;
  /** The server's final reply, or the .eml file written. */
  detail: string;
};

export interface MailTransport {
  readonly via: Delivery['via'];
  send(mail: OutgoingMail): Promise<Delivery>;
  close(): void;
}

/**
 * SMTP when `SMTP_URL` is set; otherwise every mail becomes an `.eml` file under
 * `MAIL_DIR`, which a developer can open in any mail client.
 */
export function createMailTransport(env: Pick<Env, 'SMTP_URL' | 'MAIL_FROM' | 'MAIL_DIR'>): MailTransport {
  return env.SMTP_URL ? smtpTransport(env.SMTP_URL, env.MAIL_FROM) : fileTransport(env.MAIL_DIR, env.MAIL_FROM);
}

function smtpTransport(url: string, from: string): MailTransport {
  // nodemailer waits minutes by default on a silent server; a stuck send would hold a
  // worker slot and its job lock that long instead of failing into a retry.
  const mailer = createTransport(
    { url, connectionTimeout: 15_000, greetingTimeout: 15_000, socketTimeout: 60_000 },
    { from },
  );
  return {
    via: 'smtp',
    async send(mail) {
      const info = await mailer.sendMail(toNodemailer(mail, from));
      return { via: 'smtp', messageId: info.messageId, detail: info.response };
    },
    close: () => mailer.close(),
  };
}

function fileTransport(dir: string, from: string): MailTransport {
  // CRLF line ends: an .eml file is an RFC 5322 message as it would go over the wire.
  const mailer = createTransport({ streamTransport: true, buffer: true, newline: 'windows' }, { from });
  const folder = resolve(dir);
  return {
    via: 'file',
    async send(mail) {
      const info = await mailer.sendMail(toNodemailer(mail, from));
      if (!Buffer.isBuffer(info.message)) throw new Error('stream transport did not return a buffer');
      // Named by queue time and job id, not by the time of this attempt: a retry after a
      // crash overwrites its own file instead of leaving a second copy.
      const file = join(folder, `${fileStamp(mail.queuedAt)}-${safeFilePart(mail.id)}.eml`);
      await writeAtomically(file, info.message);
      return { via: 'file', messageId: info.messageId, detail: file };
    },
    close: () => mailer.close(),
  };
}

function toNodemailer(mail: OutgoingMail, from: string): SendMailOptions {
  return {
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    ...(mail.html === undefined ? {} : { html: mail.html }),
    // The same Message-ID on every attempt lets a receiving server or client drop the
    // copy when an attempt was delivered but its success never reached us.
    messageId: `<${safeFilePart(mail.id)}@${domainOf(from)}>`,
  };
}

/** Readers (a dev watching the folder, the tests) never see a half-written file. */
async function writeAtomically(file: string, content: Buffer): Promise<void> {
  await mkdir(join(file, '..'), { recursive: true });
  const temporary = join(file, '..', `.${randomBytes(6).toString('hex')}.eml.tmp`);
  try {
    await writeFile(temporary, content, { mode: 0o640 });
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

function fileStamp(at: Date): string {
  return at.toISOString().replace(/[:.]/g, '-');
}

function safeFilePart(value: string): string {
  return value.replace(/[^A-Za-z0-9._-]/g, '_');
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1) || 'localhost';
}
