import type { EntityManager } from '@mikro-orm/postgresql';
import { enqueueMail, type MailQueue } from '@popug/lib/mail';
import type { User } from '../entities/User';
import { activeHoldersOf } from './user-directory';

/** One mail per user manager about a new registration; the key makes a retry harmless. */
export async function announceRegistration(em: EntityManager, mailQueue: MailQueue, newcomer: User): Promise<void> {
  const managers = await activeHoldersOf(em, 'user:manage');
  await Promise.all(
    managers.map((manager) =>
      enqueueMail(
        mailQueue,
        {
          to: manager.email,
          subject: `New popug registered: ${newcomer.name}`,
          text: [
            `Hello ${manager.name},`,
            '',
            `${newcomer.name} <${newcomer.email}> has just registered in Popug Jira with the role "${newcomer.role}".`,
            'You can change their role or deactivate them on the admin dashboard.',
          ].join('\n'),
        },
        `registration:${newcomer.id}:${manager.id}`,
      ),
    ),
  );
}
