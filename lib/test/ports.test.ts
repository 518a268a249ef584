import { envSchema, parseEnv } from '../env';

/**
 * `npm start` (scripts/start-all.ts) runs every service in one process with one environment:
 * each public and internal port setting needs a default of its own.
 */
describe('port settings', () => {
  const portSettings = Object.keys(envSchema.shape).filter((name) => /(^|_)PORT$/.test(name));
  const defaults = parseEnv({});

  it('give every process a public and an internal port', () => {
    expect(portSettings.sort()).toEqual(
      ['PORT', 'AUTH_PORT', 'TRACKER_PORT', 'ACCOUNTING_PORT', 'ANALYTICS_PORT', 'JOBS_PORT', ...['GATEWAY', 'AUTH', 'TRACKER', 'ACCOUNTING', 'ANALYTICS', 'JOBS'].map((service) => `${service}_INTERNAL_PORT`)].sort(),
    );
  });

  it('default to distinct ports, 40xx public and 94xx internal', () => {
    const ports = portSettings.map((name) => defaults[name as keyof typeof defaults]);
    expect(new Set(ports).size).toBe(portSettings.length);
    expect([defaults.GATEWAY_INTERNAL_PORT, defaults.AUTH_INTERNAL_PORT, defaults.JOBS_INTERNAL_PORT]).toEqual([9400, 9401, 9405]);
  });

  it('refuse a Kubernetes service link in an internal port setting, as in the public ones', () => {
    expect(() => parseEnv({ GATEWAY_INTERNAL_PORT: 'tcp://10.0.0.1:9400' })).toThrow(/GATEWAY_INTERNAL_PORT: holds a Kubernetes service link/);
  });
});
