import { DISGUISING } from './text-input';

/** Characters that would not show as themselves in a mail: controls, bidirectional controls, separators. */
const UNSHOWABLE = new RegExp(`\\p{Cc}|${DISGUISING.source}`, 'gu');
/**
 * What a mail client may turn into a link: a scheme (`https://`, `mailto:`), `www.`, an
 * address, or a dotted host name (`example.com`, `pay.example.co`).
 */
const LINK_LIKE = /[a-z][a-z0-9+.-]*:\/\/|\b(?:mailto|tel|javascript|data|file):|\bwww\.|@|[\p{L}\p{N}-]\.\p{L}{2,}/iu;

/**
 * Text someone else chose (a registrant's name), as a plain-text mail from the company shows
 * it: in double quotes, so a reader sees where it starts and ends and that it is a value, not
 * our words; `"` and `\` escaped so it cannot close the quotes; a control, bidirectional
 * control or separator (none gets past lib/text-input.ts now, but a row stored before may hold
 * one) shown as its code point, so the text displays in the order it is stored. And when it
 * looks like a link, its dots, colons and at signs are bracketed ("evil[.]example") — the
 * convention of security notices — so no mail client makes a link of it: quotes alone do not
 * stop the auto-linkers of common clients.
 */
export function quotedForMail(text: string): string {
  let shown = text.replace(/[\\"]/g, (character) => `\\${character}`).replace(UNSHOWABLE, codePointEscape);
  if (LINK_LIKE.test(shown)) shown = shown.replace(/[.:@]/g, (character) => `[${character}]`);
  return `"${shown}"`;
}

function codePointEscape(character: string): string {
  return `\\u${(character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}
