import { ANONYMOUS_OPERATION, OperationNameLimiter, OTHER_OPERATION, TrustedOperationNames } from '../metrics';

describe('operation name label', () => {
  it('calls a missing name anonymous and keeps known names', () => {
    const names = new OperationNameLimiter(3);
    expect(names.label(undefined)).toBe(ANONYMOUS_OPERATION);
    expect(names.label(null)).toBe(ANONYMOUS_OPERATION);
    expect(names.label('')).toBe(ANONYMOUS_OPERATION);
    expect(names.label('MyTasks')).toBe('MyTasks');
  });

  it('turns every new name past the cap into "other", and still knows the early ones', () => {
    const names = new OperationNameLimiter(2);
    expect(names.label('A')).toBe('A');
    expect(names.label('B')).toBe('B');
    expect(names.label('C')).toBe(OTHER_OPERATION);
    expect(names.label('D')).toBe(OTHER_OPERATION);
    expect(names.label('A')).toBe('A');
  });

  it('caps the length of a name', () => {
    expect(new OperationNameLimiter().label('x'.repeat(500))).toHaveLength(100);
  });
});

describe('trusted operation names', () => {
  it('labels a trusted name as itself, a missing one anonymous, and every other name `other`', () => {
    const names = new TrustedOperationNames(['MyTasks', 'Login']);
    expect(['MyTasks', 'Login', undefined, 'Snoop', 'mytasks', 'x'.repeat(500)].map((name) => names.label(name))).toEqual(['MyTasks', 'Login', ANONYMOUS_OPERATION, OTHER_OPERATION, OTHER_OPERATION, OTHER_OPERATION]);
  });
});
