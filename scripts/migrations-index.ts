import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Rewrites <folder>/index.ts to list every Migration*.ts in it, in name order. */
export function writeMigrationsIndex(folder: string): void {
  const names = readdirSync(folder)
    .filter((file) => /^Migration\d+.*\.ts$/.test(file))
    .map((file) => file.replace(/\.ts$/, ''))
    .sort();
  const imports = names.map((name) => `import { ${name} } from './${name}';`).join('\n');
  writeFileSync(
    join(folder, 'index.ts'),
    `${imports}\n\n/** Every migration of this database, by file name; the migrator runs them in name order. */\nexport const migrations = {\n${names.map((name) => `  ${name},`).join('\n')}\n};\n`,
  );
}
