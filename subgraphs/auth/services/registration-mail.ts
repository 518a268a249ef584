import type { EntityManager } from '@mikro-orm/postgresql';
import { enqueueMail, type MailQueue } from '@popug/lib/mail';
import { quotedForMail } from '@popug/lib/mail-text';
import type { User } from '../entities/User';
import { activeHoldersOf } from './user-directory';

/**
 * One mail per user manager about a new registration; the key makes a retry harmless. The
 * newcomer's name is theirs, in mail from the company's address: quoted, never a link.
 */
export async function announceRegistration(em: EntityManager, mailQueue: MailQueue, newcomer: User): Promise<void> {
  const managers = await activeHoldersOf(em, 'user:manage');
  const name = quotedForMail(newcomer.name);
  await Promise.all(
    managers.map((manager) =>
      enqueueMail(
        mailQueue,
        {
          to: manager.email,
          subject: `New popug registered: ${name}`,
          text: [
            `Hello ${manager.name},`,
            '',
            `${name} <${newcomer.email}> has just registered in Popug Jira with the role "${newcomer.role}".`,
            'You can change their role or deactivate them on the admin dashboard.',
          ].join('\n'),
        },
        `registration:${newcomer.id}:${manager.id}`,
      ),
    ),
  );
}
