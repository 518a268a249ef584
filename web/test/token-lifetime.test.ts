import { renewalDelay, tokenTiming } from '../src/api/token-lifetime';

/** When the web app renews its access token, by its own clock (web/src/api/token-lifetime.ts). */

const jwt = (claims: Record<string, unknown>) =>
  ['{"alg":"EdDSA"}', JSON.stringify(claims), 'signature'].map((part) => Buffer.from(part).toString('base64url')).join('.');

describe('tokenTiming', () => {
  it('counts the lifetime from arrival, whatever this clock says the server time is', () => {
    // A laptop an hour ahead: by its clock `exp` has passed already, yet the token lives 900 s.
    const receivedAt = Date.parse('2026-12-06T11:00:00Z');
    const token = jwt({ sub: 'u1', iat: Date.parse('2026-12-06T10:00:00Z') / 1000, exp: Date.parse('2026-12-06T10:15:00Z') / 1000 });
    expect(tokenTiming(token, '2026-12-06T10:15:00Z', receivedAt)).toEqual({ userId: 'u1', validUntil: receivedAt + 900_000 });
  });

  it('falls back to expiresAt for a token it cannot read', () => {
    expect(tokenTiming('opaque', '2026-12-06T10:15:00Z', 0)).toEqual({ userId: undefined, validUntil: Date.parse('2026-12-06T10:15:00Z') });
  });
});

describe('renewalDelay', () => {
  it('renews a 15-minute token three minutes before its end, a short one at 80 % of its life', () => {
    expect(renewalDelay(900_000, 0)).toBe(720_000);
    expect(renewalDelay(3_600_000, 0)).toBe(3_420_000);
    expect(renewalDelay(20_000, 0)).toBe(16_000);
  });

  it('renews at once when the token has ended', () => {
    expect(renewalDelay(1_000, 5_000)).toBe(0);
  });
});
