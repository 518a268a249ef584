import { freePorts } from '@popug/testing/ports';

test('freePorts draws distinct ports below the kernel\'s ephemeral range, where no listen(0) or outgoing connection takes one meanwhile', async () => {
  const ports = await freePorts(50);
  expect(new Set(ports).size).toBe(50);
  for (const port of ports) expect(port >= 20_000 && port < 32_768).toBe(true);
});
