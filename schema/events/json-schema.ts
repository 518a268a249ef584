import { z } from 'zod';
import { EVENT_SCHEMAS } from './index';

/** One rendered file: `<type>.v<N>.schema.json` and its text. */
export interface RenderedEventSchema {
  fileName: string;
  text: string;
}

/**
 * Every version of every event type as JSON Schema (draft 2020-12), for readers that do
 * not run TypeScript. The zod schemas stay the source of truth; these files are rendered
 * from them by `npm run events:json` and checked by `npm run events:json:check`.
 */
export function renderEventJsonSchemas(): RenderedEventSchema[] {
  const rendered: RenderedEventSchema[] = [];
  for (const [type, definition] of Object.entries(EVENT_SCHEMAS)) {
    for (const [version, schema] of Object.entries(definition.versions as Record<string, z.ZodType>)) {
      const jsonSchema = z.toJSONSchema(schema, { target: 'draft-2020-12' });
      const { $schema, ...body } = jsonSchema;
      const document = { $schema, title: `${type} v${version}`, ...body };
      rendered.push({ fileName: `${type}.v${version}.schema.json`, text: `${JSON.stringify(document, null, 2)}\n` });
    }
  }
  return rendered.sort((left, right) => left.fileName.localeCompare(right.fileName));
}
